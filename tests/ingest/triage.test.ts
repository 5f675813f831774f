// The triage worker (src/ingest/nats/triage.ts) on its own, with a real worker thread running the
// built dist/ code (`npm test` builds first), and through core NATS against a real nats-server.
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockFrom } from '../../src/domain/clock.js';
import { changesNothing } from '../../src/domain/decision.js';
import { eventToInput, type LogEvent } from '../../src/domain/log-event.js';
import { decide, NO_INCIDENTS } from '../../src/policy/decide.js';
import { Triage } from '../../src/ingest/nats/triage.js';
import { Verdict } from '../../src/ingest/nats/triage-protocol.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { get, noRateLimit, startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { NatsServer } from '../helpers/nats-server.js';
import { shippedPolicy } from '../helpers/policy.js';
import { events, expectedIncidents, natsClient, noStorm, publishLines } from './support.js';

const NOW = Date.parse('2026-11-24T15:00:00Z');
const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

async function ready(triage: Triage): Promise<void> {
  await waitFor(async () => triage.available() || triage.state === 'failed', 10_000);
  expect(triage.state).toBe('running');
}

describe('triage worker', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({}, { clock: clockFrom(NOW) });
  });
  afterAll(async () => t.stop());

  it('skips exactly the events whose decision changes nothing, as the main thread decides them', async () => {
    const triage = new Triage({ policies: t.app.policies, clock: clockFrom(NOW), logger: silentLogger() });
    try {
      await ready(triage);
      const list = events({ count: 2_000, seed: 31, alerting: 20 });
      const payloads = [
        ...list.map(encode),
        new TextEncoder().encode('{"not json'),
        encode({ level: 'error' }),
      ];
      const batch = triage.send(payloads);
      await new Promise((r) => setTimeout(r, 300)); // let the worker finish it rather than take it back
      expect(triage.verdicts(batch)).toBe(true);
      const policy = t.app.policies.current().compiled;
      const expected: number[] = [];
      for (const event of list) {
        const d = await decide(eventToInput(event), policy, NOW, NO_INCIDENTS);
        expected.push(changesNothing(d) ? Verdict.Skip : Verdict.Decide);
      }
      expected.push(Verdict.Decide, Verdict.Decide); // invalid: the main thread dead-letters them
      expect([...batch.verdicts]).toEqual(expected);
      expect(expected.filter((v) => v === Verdict.Skip).length).toBeGreaterThan(1_000);
      expect(expected.filter((v) => v === Verdict.Decide).length).toBeGreaterThan(100);
    } finally {
      await triage.stop();
    }
  });

  it('does not let verdicts made with a replaced policy count', async () => {
    const triage = new Triage({ policies: t.app.policies, clock: clockFrom(NOW), logger: silentLogger() });
    try {
      await ready(triage);
      const batch = triage.send(events({ count: 50, seed: 32 }).map(encode));
      await new Promise((r) => setTimeout(r, 300));
      const file = join(t.policyDir, '00-settings.yaml');
      await writeFile(file, `${await readFile(file, 'utf8')}\n# changed\n`);
      expect((await t.app.policies.reload('api')).changed).toBe(true);
      expect(triage.verdicts(batch)).toBe(false);
      // The next batch is judged with the new policy, and counts.
      const next = triage.send(events({ count: 50, seed: 33 }).map(encode));
      await new Promise((r) => setTimeout(r, 300));
      expect(triage.verdicts(next)).toBe(true);
    } finally {
      await triage.stop();
    }
  });

  it('pauses, and stops its worker, while most events must be decided on the main thread anyway', async () => {
    const triage = new Triage({ policies: t.app.policies, clock: clockFrom(NOW), logger: silentLogger() });
    try {
      await ready(triage);
      const page = encode({
        timestamp: '2026-11-24T15:00:00Z',
        service: 'payments',
        level: 'critical',
        message: 'ledger write failed',
      });
      const policy = t.app.policies.current().compiled;
      const decision = await decide(
        eventToInput(JSON.parse(new TextDecoder().decode(page))),
        policy,
        NOW,
        NO_INCIDENTS,
      );
      expect(decision.paged).toBe(true);
      for (let i = 0; i < 16 && triage.state === 'running'; i++) {
        const batch = triage.send(Array.from({ length: 128 }, () => page));
        // Until the worker has answered: a batch it has not claimed yet, the main thread takes back
        // (a fixed 50 ms was too short once on a loaded CI machine).
        await waitFor(() => Promise.resolve(batch.done), 5_000, 5);
        expect(triage.verdicts(batch)).toBe(true);
        expect([...batch.verdicts].every((v) => v === Verdict.Decide)).toBe(true);
      }
      expect(triage.state).toBe('paused');
      expect(triage.available()).toBe(false);
    } finally {
      await triage.stop();
    }
  });

  it('a worker that cannot start leaves every event to the main thread, said once in the log', async () => {
    const errors: string[] = [];
    const logger = { ...silentLogger(), error: (o: { event: string }) => void errors.push(o.event) };
    const triage = new Triage({
      policies: t.app.policies,
      clock: clockFrom(NOW),
      logger: logger as never,
      workerUrl: new URL('./no-such-worker.js', import.meta.url),
    });
    expect(triage.available()).toBe(false); // starting
    await waitFor(async () => triage.state === 'failed', 10_000);
    expect(triage.available()).toBe(false);
    expect(errors).toEqual(['triage_worker_failed']);
    await triage.stop();
  });
});

describe('core NATS with triage', () => {
  let nats: NatsServer;
  let sandbox: Sandbox;
  beforeAll(async () => {
    nats = await NatsServer.start();
    sandbox = await startSandbox();
  });
  afterAll(async () => {
    await sandbox.stop();
    await nats.dispose();
  });

  it('a backlog goes through the worker; incidents and counts are those of the dry-runs', async () => {
    const nc = await natsClient(nats.url);
    const t = await startTestApp(
      { NATS_URL: nats.url, NATS_SUBJECT: 'tri.>', NATS_MAX_PENDING: '100000' },
      { sandbox, clock: clockFrom(NOW), editSettings: noStorm, edits: { 'providers.yaml': noRateLimit } },
    );
    try {
      await waitFor(async () => (await get(`${t.url}/api/v1/health`)).body.nats?.connected === true);
      // Waves of events until the worker runs (it starts when a backlog first builds), then the rest.
      // Each wave is later in event time: a line older than an incident's newest is not news to it.
      const list: LogEvent[] = [];
      for (let wave = 0; wave < 5; wave++) {
        const warm = events({ count: 2_000, seed: 35, alerting: 10, start: `2026-11-23T0${wave}:00:00Z` });
        await publishLines(
          nc,
          'tri.app',
          warm.map((e) => JSON.stringify(e)),
        );
        list.push(...warm);
        const health = (await get(`${t.url}/api/v1/health`)).body;
        if (health.nats.triage.state === 'running') break;
        await new Promise((r) => setTimeout(r, 500));
      }
      const rest = events({ count: 10_000, seed: 34, alerting: 10, start: '2026-11-23T08:00:00Z' });
      list.push(...rest);
      await publishLines(
        nc,
        'tri.app',
        rest.map((e) => JSON.stringify(e)),
      );
      await waitFor(
        async () => (await get(`${t.url}/api/v1/metrics`)).body.events.received.nats === list.length,
        30_000,
      );
      const decided = async (): Promise<number> =>
        Object.values((await get(`${t.url}/api/v1/metrics`)).body.decisions as Record<string, number>).reduce(
          (a, b) => a + b,
          0,
        );
      await waitFor(async () => (await decided()) === list.length, 30_000);
      await waitFor(async () => (await get(`${t.url}/api/v1/health`)).body.deliveries_pending === 0, 30_000);
      const health = (await get(`${t.url}/api/v1/health`)).body;
      expect(health.nats.triage.skipped).toBeGreaterThan(1_000);
      // Ignored: the decisions that change nothing, and resolves of what is not open.
      const policy = await shippedPolicy();
      const open = new Set<string>();
      let ignored = 0;
      for (const event of list) {
        const d = await decide(eventToInput(event), policy.compiled, NOW, NO_INCIDENTS);
        if (changesNothing(d)) ignored++;
        else if (d.resolves !== null) {
          if (!open.delete(d.resolves)) ignored++;
        } else if (d.paged) open.add(d.fingerprint);
      }
      const metrics = (await get(`${t.url}/api/v1/metrics`)).body;
      expect(metrics.decisions.ignored).toBe(ignored);
      const expected = await expectedIncidents(list, policy, NOW);
      expect(expected.length).toBeGreaterThan(20);
      expect(expected.length).toBeLessThan(500);
      const all = (await get(`${t.url}/api/v1/incidents?limit=500`)).body.incidents as {
        fingerprint: string;
      }[];
      expect(all.map((i) => i.fingerprint).sort()).toEqual(expected.map((e) => e.fingerprint).sort());
    } finally {
      await t.stop();
      await nc.close();
    }
  });
});
