// Issue 11, finding 2: one deeply nested event (9,000 levels in `attributes`, 60 KB, under the size
// limit) threw out of the ingest path. In JetStream mode the consumer was torn down and rebuilt on
// every redelivery and valid events after it were lost; in core mode it vanished without a dead
// letter; over HTTP it was a 500. Now: refused before any recursive walk, dead-lettered with its
// reason and counted, and no message can stop the consumer or cost another message.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockFrom } from '../../src/domain/clock.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { get, noRateLimit, post, startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { NatsServer } from '../helpers/nats-server.js';
import { shippedPolicy } from '../helpers/policy.js';
import { useSimulators } from '../helpers/sandbox.js';
import { events, expectedIncidents, natsClient, noStorm, publishLines } from '../ingest/support.js';

const NOW = Date.parse('2026-11-24T15:00:00Z');
const DEPTH = 9_000;
const nested = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const deepEvent = (depth = DEPTH): string =>
  `{"timestamp":"2026-11-24T15:00:00Z","service":"payment-service","level":"fatal","message":"deep","attributes":${nested(depth)}}`;

let nats: NatsServer;
let nc: NatsConnection;
let sandbox: Sandbox;
useSimulators((s) => (sandbox = s));

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await natsClient(nats.url);
});
afterAll(async () => {
  await nc.close();
  await nats.dispose();
});

function deadLetters(): { reason: string; errors: string[]; size: number }[] {
  const letters: { reason: string; errors: string[]; size: number }[] = [];
  nc.subscribe('incident-router.dlq', { callback: (_e, m) => void letters.push(m.json()) });
  return letters;
}

async function fingerprints(t: TestApp): Promise<string[]> {
  const all = (await get(`${t.url}/api/v1/incidents?limit=500`)).body.incidents as { fingerprint: string }[];
  return all.map((i) => i.fingerprint).sort();
}

/** The valid events published after the deep one, and the incidents they must open. */
async function followers(seed: number) {
  const list = events({ count: 400, seed, alerting: 20 });
  const expected = await expectedIncidents(list, await shippedPolicy(), NOW);
  return { lines: list.map((e) => JSON.stringify(e)), expected: expected.map((e) => e.fingerprint).sort() };
}

const appOptions = {
  clock: clockFrom(NOW),
  editSettings: noStorm,
  edits: { 'providers.yaml': noRateLimit },
};

describe('a deeply nested event', () => {
  it('JetStream: dead-lettered once with its reason; every valid event after it becomes an incident', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'DEEP', subjects: ['deep.>'] });
    const t = await startTestApp(
      { NATS_URL: nats.url, NATS_STREAM: 'DEEP', NATS_SUBJECT: 'deep.>', NATS_ACK_WAIT_MS: '2000' },
      { ...appOptions, sandbox },
    );
    try {
      const letters = deadLetters();
      await nc.flush();
      const { lines, expected } = await followers(31);
      const js = jetstream(nc);
      for (const line of [deepEvent(), ...lines]) await js.publish('deep.app', line);
      await waitFor(async () => {
        const info = await jsm.consumers.info('DEEP', 'incident-router').catch(() => null);
        return info !== null && info.num_pending === 0 && info.num_ack_pending === 0;
      }, 30_000);
      expect(await fingerprints(t)).toEqual(expected);
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({
        reason: 'invalid',
        errors: ['attributes: nested deeper than 32 levels'],
      });
      const metrics = (await get(`${t.url}/api/v1/metrics`)).body;
      expect(metrics.events.invalid.nats).toBe(1);
      expect((await get(`${t.url}/api/v1/health`)).body.nats).toMatchObject({ consuming: true });
    } finally {
      await t.stop();
    }
  });

  it('core NATS: dead-lettered with its reason and counted; the events after it are processed', async () => {
    const t = await startTestApp(
      { NATS_URL: nats.url, NATS_SUBJECT: 'deepcore.>' },
      { ...appOptions, sandbox },
    );
    try {
      await waitFor(async () => (await get(`${t.url}/api/v1/health`)).body.nats?.connected === true);
      const letters = deadLetters();
      await nc.flush();
      const { lines, expected } = await followers(32);
      await publishLines(nc, 'deepcore.app', [deepEvent(), ...lines]);
      await waitFor(
        async () => (await get(`${t.url}/api/v1/metrics`)).body.events.received.nats === lines.length + 1,
      );
      await waitFor(async () => (await fingerprints(t)).length === expected.length);
      expect(await fingerprints(t)).toEqual(expected);
      expect(letters).toEqual([
        expect.objectContaining({ reason: 'invalid', errors: ['attributes: nested deeper than 32 levels'] }),
      ]);
    } finally {
      await t.stop();
    }
  });

  it('HTTP: 400 with the reason on every JSON endpoint, never a 500', async () => {
    const token = 'og-webhook-token-for-nesting';
    const t = await startTestApp({ OPSGENIE_WEBHOOK_TOKEN: token }, { sandbox });
    try {
      const deepAlert = `{"title":"t","source":"s","severity":"critical","service_name":"x","details":${nested(DEPTH)}}`;
      const cases: [string, string, Record<string, string>][] = [
        ['/api/v1/events', deepEvent(), {}],
        ['/api/v1/events', `[${deepEvent(40)}]`, {}],
        ['/api/v1/alerts', deepAlert, {}],
        ['/api/v1/policy/dry-run', `{"event":${deepEvent()}}`, {}],
        [
          '/api/v1/webhooks/opsgenie',
          `{"action":"Acknowledge","alert":${nested(DEPTH)}}`,
          { 'x-webhook-token': token },
        ],
      ];
      for (const [path, body, headers] of cases) {
        const res = await post(`${t.url}${path}`, body, headers);
        expect({ path, status: res.status }).toEqual({ path, status: 400 });
        expect(JSON.stringify(res.body.error)).toMatch(/nest/);
      }
      // Just under the limit is fine.
      expect((await post(`${t.url}/api/v1/events`, deepEvent(30))).status).toBe(202);
      expect((await get(`${t.url}/livez`)).status).toBe(200);
    } finally {
      await t.stop();
    }
  });
});
