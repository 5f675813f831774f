// `diff --stream` reads a JetStream stream's history with an ordered consumer (docs/policy-diff.md,
// "Sources"): 100,000 messages read while the sidecar's durable consumer processes the same stream.
// The reader neither steals nor acks a message: the sidecar decides every one exactly once.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEvents } from '../../scripts/gen-log-events.mjs';
import { diffEvents } from '../../src/diff/diff.js';
import { readStream } from '../../src/diff/stream.js';
import { clockFrom } from '../../src/domain/clock.js';
import { startTestApp, waitFor } from '../helpers/app.js';
import { runCli } from '../helpers/cli.js';
import { SHIPPED_POLICY_DIR } from '../helpers/policy.js';
import { NatsServer } from '../helpers/nats-server.js';
import { natsClient, noStorm } from '../ingest/support.js';
import { policyDirWith, sideWith, WINDOW } from './fixtures.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const COUNT = 100_000;
let nats: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await natsClient(nats.url);
});
afterAll(async () => {
  await nc.close();
  await nats.dispose();
});

async function decisionsTotal(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('incident_router_decisions_total{'))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

describe('diff --stream', () => {
  it(
    'reads 100,000 messages beside the sidecar’s durable consumer without taking one',
    { timeout: 180_000 },
    async () => {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'LOGSD', subjects: ['jsd.>'] });
      const lines = generateEvents({
        count: COUNT,
        seed: 99,
        alerting: 0.5,
        start: '2026-11-22T00:00:00Z',
        rate: 1.2,
      });
      const js = jetstream(nc);
      for (let i = 0; i < COUNT; i += 2_000)
        await Promise.all(lines.slice(i, i + 2_000).map((l) => js.publish('jsd.app', l)));

      const t = await startTestApp(
        { NATS_URL: nats.url, NATS_STREAM: 'LOGSD', NATS_SUBJECT: 'jsd.>', RECENT_EVENTS_MAX: '0' },
        { clock: clockFrom(Date.parse('2026-11-24T15:00:00Z')), editSettings: noStorm },
      );
      try {
        // The sidecar consumes while the diff reads the whole history.
        const [prev, next] = [await sideWith([]), await sideWith([WINDOW])];
        const report = await diffEvents(readStream(nc, { stream: 'LOGSD', sinceMs: 0 }), prev, next);
        expect(report.events).toBe(COUNT);
        expect(report.problems).toEqual([]);
        expect(report.changed).toBeGreaterThan(0); // database errors on Sunday 03:00-04:00

        const drained = async (): Promise<boolean> => {
          const info = await jsm.consumers.info('LOGSD', 'incident-router');
          return info.num_pending === 0 && info.num_ack_pending === 0;
        };
        await waitFor(drained, 150_000);
        const info = await jsm.consumers.info('LOGSD', 'incident-router');
        expect(info.delivered.stream_seq).toBe(COUNT);
        expect(info.ack_floor.stream_seq).toBe(COUNT);
        expect(info.num_redelivered).toBe(0);
        expect(await decisionsTotal(t.url)).toBe(COUNT); // every message decided, once
        // The ordered consumer is gone; only the durable remains.
        const consumers = [];
        for await (const c of jsm.consumers.list('LOGSD')) consumers.push(c.name);
        expect(consumers).toEqual(['incident-router']);
      } finally {
        await t.stop();
      }
    },
  );

  it(
    'the command reads a stream since --since ago and exits 1 on changes, 2 when NATS is away',
    { timeout: 120_000 },
    async () => {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'SMALL', subjects: ['small.>'] });
      const sunday = (minute: number): string =>
        JSON.stringify({
          timestamp: `2026-11-22T03:${String(minute).padStart(2, '0')}:00Z`,
          service: 'order-service',
          level: 'error',
          source: 'database',
          message: 'connection refused to postgres at 10.0.0.7:5432',
        });
      const js = jetstream(nc);
      for (const line of [sunday(5), sunday(45), 'not json']) await js.publish('small.app', line);
      const root = await mkdtemp(join(tmpdir(), 'ir-diff-stream-'));
      try {
        const dir = await policyDirWith(join(root, 'new'), [WINDOW]);
        const args = [
          'diff',
          SHIPPED_POLICY_DIR,
          dir,
          '--stream',
          'SMALL',
          '--since',
          '1h',
          '--format',
          'json',
        ];
        const r = await runCli([...args, '--nats-url', nats.url]);
        expect(r.code).toBe(1);
        expect(JSON.parse(r.stdout)).toMatchObject({
          events: 2,
          changed: 2,
          problems: [{ ref: 'SMALL#3' }],
        });
        const away = await runCli([...args, '--nats-url', 'nats://127.0.0.1:1']);
        expect(away.code).toBe(2);
        expect(away.stderr).toMatch(/cannot connect to NATS/);
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    },
  );
});
