// Core NATS ingest against a real nats-server (issue 4).
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockFrom } from '../../src/domain/clock.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { generateEvents } from '../../scripts/gen-log-events.mjs';
import {
  get,
  noRateLimit,
  startTestApp,
  waitFor,
  type TestApp,
  exposition,
  TEST_STATE,
} from '../helpers/app.js';
import { keysAtProviders } from '../helpers/sandbox.js';
import { NatsServer } from '../helpers/nats-server.js';
import { shippedPolicy } from '../helpers/policy.js';
import { events, expectedIncidents, natsClient, noStorm, publishLines } from './support.js';

const NOW = Date.parse('2026-11-24T15:00:00Z'); // a Tuesday, business hours in New York

let nats: NatsServer;
let sandbox: Sandbox;
let nc: NatsConnection;

beforeAll(async () => {
  nats = await NatsServer.start();
  sandbox = await startSandbox();
  nc = await natsClient(nats.url);
});
afterAll(async () => {
  await nc.close();
  await sandbox.stop();
  await nats.dispose();
});

async function app(extra: Record<string, string> = {}, editSettings = noStorm): Promise<TestApp> {
  sandbox.pagerduty.reset();
  sandbox.opsgenie.reset();
  const t = await startTestApp(
    { NATS_URL: nats.url, NATS_MAX_PENDING: '100000', ...extra },
    {
      sandbox,
      clock: clockFrom(NOW),
      editSettings,
      edits: { 'providers.yaml': noRateLimit },
    },
  );
  await waitFor(async () => (await get(`${t.url}/api/v1/health`)).body.nats?.connected === true);
  return t;
}

describe('core NATS ingest', () => {
  it('10,000 generated events with repeats open exactly the incidents their dry-runs predict, at the simulators too', async () => {
    const t = await app({ NATS_SUBJECT: 'logs.a.>' });
    try {
      const list = events({ count: 10_000, seed: 4, alerting: 10 });
      const expected = await expectedIncidents(list, await shippedPolicy(), NOW);
      expect(expected.length).toBeGreaterThan(20);
      await publishLines(
        nc,
        'logs.a.app',
        list.map((e) => JSON.stringify(e)),
      );
      await waitFor(
        async () => (await get(`${t.url}/api/v1/metrics`)).body.events.received.nats === 10_000,
        30_000,
      );
      await waitFor(async () => (await get(`${t.url}/api/v1/health`)).body.deliveries_pending === 0, 30_000);
      type Listed = {
        id: string;
        fingerprint: string;
        provider_key: string;
        state: string;
        holds: Record<string, { state: string }>;
      };
      const all = (await get(`${t.url}/api/v1/incidents?limit=500`)).body.incidents as Listed[];
      expect(all.map((i) => i.fingerprint).sort()).toEqual(expected.map((e) => e.fingerprint).sort());
      // Each incident reached every provider its routes name, unless it resolved while its trigger
      // still waited in the outbox (withdrawn: nobody is paged for what already resolved).
      const byKey = new Map(expected.map((e) => [e.providerKey, e]));
      let withdrawn = 0;
      for (const incident of all) {
        const missing = byKey.get(incident.provider_key)!.providers.filter((p) => !incident.holds[p]);
        if (missing.length === 0) continue;
        const deliveries = (await get(`${t.url}/api/v1/incidents/${incident.id}`)).body.deliveries as {
          action: string;
          status: string;
        }[];
        expect(incident.state).toBe('resolved');
        expect(deliveries.filter((d) => d.action === 'trigger').some((d) => d.status === 'superseded')).toBe(
          true,
        );
        withdrawn++;
      }
      expect(withdrawn).toBeLessThan(all.length / 4);
      // At each provider, one incident per incident of ours that reached it: a reopened fingerprint's
      // trigger never overtook the previous resolve (it would have been folded into the old one).
      const reached = (provider: string) =>
        all
          .filter((i) => i.holds[provider])
          .map((i) => i.provider_key)
          .sort();
      expect(keysAtProviders(sandbox)).toEqual({
        pagerduty: reached('pagerduty'),
        opsgenie: reached('opsgenie'),
      });
      // And for every key, PagerDuty's latest incident is in the state of our latest incident.
      const latestOurs = new Map<string, Listed>();
      for (const i of [...all].sort((a, b) => (a.id < b.id ? -1 : 1)))
        if (i.holds['pagerduty']) latestOurs.set(i.provider_key, i);
      for (const [key, ours] of latestOurs) {
        const theirs = sandbox.pagerduty
          .incidents()
          .filter((p) => p.dedupKey === key)
          .sort((a, b) => a.number - b.number)
          .at(-1)!;
        expect(`${key} ${theirs.status}`).toBe(`${key} ${ours.state}`);
      }
      expect(await exposition(t.url)).toMatch(
        /incident_router_events_dropped_total\{reason="queue_full"\} 0|^(?![\s\S]*events_dropped_total\{)/m,
      );
    } finally {
      await t.stop();
    }
  }, 90_000); // cluster mode holds a reopened incident's trigger up to 10 s (docs/architecture.md, "Delivery")

  it('10,000 malformed messages each reach the dead-letter subject with a reason; counters agree; nothing breaks', async () => {
    const t = await app({ NATS_SUBJECT: 'logs.b.>' });
    try {
      const letters: { reason: string; errors: string[]; subject: string; payload_base64: string }[] = [];
      const sub = nc.subscribe('incident-router.dlq', {
        callback: (_e, m) => {
          letters.push(m.json());
        },
      });
      await nc.flush();
      const lines: (string | Uint8Array)[] = generateEvents({ count: 9_990, seed: 5, invalid: 100 });
      lines.push(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])); // invalid UTF-8
      for (let i = 0; i < 9; i++)
        lines.push(
          `{"timestamp":"2026-11-24T15:00:00Z","service":"x","level":"error","message":"m","attributes":{"__proto__":{"admin":true}}}`,
        );
      await publishLines(nc, 'logs.b.bad', lines);
      await waitFor(async () => letters.length === 10_000, 30_000);
      sub.unsubscribe();
      expect(
        letters.every((l) => l.reason === 'invalid' && l.errors.length > 0 && l.subject === 'logs.b.bad'),
      ).toBe(true);
      expect(letters.some((l) => l.errors[0] === 'payload is not valid UTF-8')).toBe(true);
      expect(letters.filter((l) => l.errors[0] === 'forbidden key "attributes.__proto__"')).toHaveLength(9);
      expect(Buffer.from(letters.at(-1)!.payload_base64, 'base64').toString()).toContain('__proto__');
      const metrics = await exposition(t.url);
      expect(metrics).toMatch(/incident_router_events_invalid_total\{source="nats"\} 10000/);
      expect(metrics).toMatch(/incident_router_dead_letters_total\{reason="invalid"\} 10000/);
      expect(({} as Record<string, unknown>)['admin']).toBeUndefined();
      expect((await get(`${t.url}/livez`)).status).toBe(200);
      expect((await get(`${t.url}/api/v1/incidents`)).body.incidents).toEqual([]);
    } finally {
      await t.stop();
    }
  });

  it('a storm of 5,000 identical critical events opens one incident per provider', async () => {
    const t = await app({ NATS_SUBJECT: 'logs.c.>' }, (s) => s);
    try {
      const line = JSON.stringify({
        timestamp: '2026-11-24T15:00:00Z',
        service: 'order-service',
        level: 'error',
        source: 'database',
        message: 'database connection pool exhausted (max=50, waiting=312)',
      });
      await publishLines(nc, 'logs.c.db', Array(5_000).fill(line));
      await waitFor(
        async () => (await get(`${t.url}/api/v1/metrics`)).body.decisions.deduplicated === 4_999,
        30_000,
      );
      await waitFor(async () => (await get(`${t.url}/api/v1/health`)).body.deliveries_pending === 0);
      expect(sandbox.pagerduty.incidents()).toHaveLength(1);
      expect(sandbox.opsgenie.alerts()).toHaveLength(1);
      expect(sandbox.pagerduty.requests()).toHaveLength(1);
      const [incident] = (await get(`${t.url}/api/v1/incidents`)).body.incidents;
      expect(incident.occurrences).toBe(5_000);
    } finally {
      await t.stop();
    }
  });

  it('lifecycle events are published: incidents.triggered and alerts.recorded', async () => {
    const t = await app({ NATS_SUBJECT: 'logs.d.>' });
    try {
      const seen: { subject: string; body: any }[] = [];
      const sub = nc.subscribe('>', {
        callback: (_e, m) => {
          if (m.subject.startsWith('incidents.') || m.subject === 'alerts.recorded')
            seen.push({ subject: m.subject, body: m.json() });
        },
      });
      await nc.flush();
      await publishLines(nc, 'logs.d.x', [
        JSON.stringify({
          timestamp: '2026-11-24T15:00:00Z',
          service: 'search',
          level: 'info',
          source: 'cache',
          message: 'cache miss rate increased by 5%',
        }),
        JSON.stringify({
          timestamp: '2026-11-24T15:00:00Z',
          service: 'search',
          level: 'fatal',
          source: 'runtime',
          message: 'container OOMKilled (limit 512Mi), restarting',
        }),
      ]);
      await waitFor(async () => seen.length >= 2);
      sub.unsubscribe();
      expect(seen.find((s) => s.subject === 'alerts.recorded')!.body).toMatchObject({
        reason: 'info',
        rule: 'cache-miss-trend',
        service: 'search',
      });
      expect(seen.find((s) => s.subject === 'incidents.triggered')!.body).toMatchObject({
        kind: 'triggered',
        service: 'search',
        severity: 'high',
        policy_version: '2026.11.23-1',
        correlation_id: expect.any(String),
      });
    } finally {
      await t.stop();
    }
  });
});

describe('NATS away', () => {
  // Cluster mode keeps its state in NATS and refuses to start without it (tests/cluster/).
  it.skipIf(TEST_STATE === 'jetstream')(
    'HTTP keeps serving while NATS is unreachable, and the sidecar connects when it appears',
    async () => {
      const later = await NatsServer.start();
      await later.stop();
      const t = await startTestApp({ NATS_URL: later.url }, { sandbox });
      try {
        expect((await get(`${t.url}/livez`)).status).toBe(200);
        const health = (await get(`${t.url}/api/v1/health`)).body;
        expect(health.nats).toMatchObject({ connected: false, mode: 'core' });
        expect(health.system_status).toBe('degraded');
        await later.restart();
        await waitFor(async () => (await get(`${t.url}/api/v1/health`)).body.nats.connected === true, 15_000);
      } finally {
        await t.stop();
        await later.dispose();
      }
    },
  );
});
