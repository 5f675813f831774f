// JetStream mode against a real nats-server (issue 4): ack after durable, dead letters after
// max_deliver, SIGKILL mid-stream, nats-server restart mid-stream.
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockFrom } from '../../src/domain/clock.js';
import type { LogEvent } from '../../src/domain/log-event.js';
import {
  SANDBOX_OPSGENIE_API_KEY,
  SANDBOX_PAGERDUTY_ROUTING_KEY,
  startSandbox,
  type Sandbox,
} from '../../src/sandbox/index.js';
import { get, noRateLimit, startTestApp, waitFor } from '../helpers/app.js';
import { keysAtProviders } from '../helpers/sandbox.js';
import { exited, startServe } from '../helpers/cli.js';
import { NatsServer } from '../helpers/nats-server.js';
import { copyShippedPolicy, shippedPolicy } from '../helpers/policy.js';
import { events, expectedIncidents, natsClient, noStorm } from './support.js';

const NOW = Date.parse('2026-11-24T15:00:00Z');

let nats: NatsServer;
let sandbox: Sandbox;
let nc: NatsConnection;
let js: JetStreamClient;

beforeAll(async () => {
  nats = await NatsServer.start();
  sandbox = await startSandbox();
  nc = await natsClient(nats.url);
  js = jetstream(nc);
});
afterAll(async () => {
  await nc.close();
  await sandbox.stop();
  await nats.dispose();
});

async function stream(name: string, subject: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name, subjects: [subject] });
}

async function consumerDrained(name: string, durable = 'incident-router'): Promise<boolean> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.consumers.info(name, durable).catch(() => null);
  return info !== null && info.num_pending === 0 && info.num_ack_pending === 0;
}

/** Publish with JetStream acks, retrying through server restarts: every event is stored once (msgID). */
async function publishAll(
  subject: string,
  list: readonly string[],
  onProgress?: (n: number) => Promise<void>,
): Promise<void> {
  for (const [i, line] of list.entries()) {
    for (;;) {
      try {
        await js.publish(subject, line, { msgID: `${subject}-${i}` });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await onProgress?.(i);
  }
}

/** No recovery lines: with at-least-once redelivery across a crash, a resolve may be re-applied later. */
const withoutRecoveries = (list: LogEvent[]): LogEvent[] =>
  list.filter((e) => !e.message.includes('recovered'));

describe('JetStream ingest', () => {
  it('acks only what is durable; invalid messages and poison messages end in the dead-letter subject', async () => {
    await stream('LOGS1', 'js1.>');
    sandbox.pagerduty.reset();
    sandbox.opsgenie.reset();
    const t = await startTestApp(
      {
        NATS_URL: nats.url,
        NATS_STREAM: 'LOGS1',
        NATS_SUBJECT: 'js1.>',
        NATS_MAX_DELIVER: '3',
        NATS_ACK_WAIT_MS: '2000',
      },
      { sandbox, clock: clockFrom(NOW), editSettings: noStorm, edits: { 'providers.yaml': noRateLimit } },
    );
    try {
      // A poison message: its processing fails every time (an internal failure), so it is nak'ed,
      // redelivered, and after max_deliver dead-lettered.
      const incidents = t.app.parts.incidents;
      const apply = incidents.apply.bind(incidents);
      incidents.apply = (decision, input, now) =>
        input.event.message === 'poison'
          ? Promise.reject(new Error('disk on fire'))
          : apply(decision, input, now);
      const letters: any[] = [];
      nc.subscribe('incident-router.dlq', { callback: (_e, m) => void letters.push(m.json()) });
      await nc.flush();
      const list = events({ count: 2_000, seed: 21, alerting: 10 });
      const lines = list.map((e) => JSON.stringify(e));
      lines.push(
        '{"not": "an event"}',
        JSON.stringify({
          timestamp: '2026-11-24T15:00:00Z',
          service: 'search',
          level: 'error',
          message: 'poison',
        }),
      );
      await publishAll('js1.app', lines);
      await waitFor(async () => letters.length === 2, 20_000);
      expect(letters.find((l) => l.reason === 'invalid')).toMatchObject({
        subject: 'js1.app',
        deliveries: 1,
      });
      expect(letters.find((l) => l.reason === 'max_deliver')).toMatchObject({
        errors: ['disk on fire'],
        deliveries: 3,
      });
      await waitFor(() => consumerDrained('LOGS1'), 20_000);
      await new Promise((r) => setTimeout(r, 2_500)); // past ack_wait: nothing termed comes back
      expect(letters).toHaveLength(2);
      const expected = await expectedIncidents(list, await shippedPolicy(), NOW);
      const all = (await get(`${t.url}/api/v1/incidents?limit=500`)).body.incidents as {
        fingerprint: string;
      }[];
      expect(all.map((i) => i.fingerprint).sort()).toEqual(expected.map((e) => e.fingerprint).sort());
      expect((await get(`${t.url}/api/v1/health`)).body.nats).toMatchObject({
        mode: 'jetstream',
        connected: true,
        consuming: true,
      });
    } finally {
      await t.stop();
    }
  });

  it(
    'nats-server stopped and restarted mid-stream: the sidecar reconnects and loses nothing',
    { timeout: 120_000 },
    async () => {
      await stream('LOGS2', 'js2.>');
      sandbox.pagerduty.reset();
      sandbox.opsgenie.reset();
      const t = await startTestApp(
        { NATS_URL: nats.url, NATS_STREAM: 'LOGS2', NATS_SUBJECT: 'js2.>', NATS_ACK_WAIT_MS: '3000' },
        { sandbox, clock: clockFrom(NOW), editSettings: noStorm, edits: { 'providers.yaml': noRateLimit } },
      );
      try {
        const list = withoutRecoveries(events({ count: 4_000, seed: 22, alerting: 10 }));
        await publishAll(
          'js2.app',
          list.map((e) => JSON.stringify(e)),
          async (i) => {
            if (i !== 1_500) return;
            await nats.stop();
            await new Promise((r) => setTimeout(r, 1_500));
            await nats.restart();
          },
        );
        await waitFor(() => consumerDrained('LOGS2'), 60_000, 200);
        await waitFor(
          async () => (await get(`${t.url}/api/v1/health`)).body.deliveries_pending === 0,
          30_000,
        );
        const health = (await get(`${t.url}/api/v1/health`)).body;
        expect(health.nats.reconnects).toBeGreaterThanOrEqual(1);
        const expected = await expectedIncidents(list, await shippedPolicy(), NOW);
        const all = (await get(`${t.url}/api/v1/incidents?limit=500`)).body.incidents as {
          fingerprint: string;
          occurrences: number;
        }[];
        expect(all.map((i) => i.fingerprint).sort()).toEqual(expected.map((e) => e.fingerprint).sort());
        // Every event was processed at least once (redeliveries of unacked ones may count twice).
        expect((await get(`${t.url}/api/v1/metrics`)).body.events.received.nats).toBeGreaterThanOrEqual(
          list.length,
        );
        const at = (provider: string) =>
          expected
            .filter((e) => e.providers.includes(provider))
            .map((e) => e.providerKey)
            .sort();
        expect(keysAtProviders(sandbox)).toEqual({ pagerduty: at('pagerduty'), opsgenie: at('opsgenie') });
      } finally {
        await t.stop();
      }
    },
  );

  it(
    'SIGKILL mid-stream and restart: every expected incident exists, none twice at the providers',
    { timeout: 180_000 },
    async () => {
      await stream('LOGS3', 'js3.>');
      sandbox.pagerduty.reset();
      sandbox.opsgenie.reset();
      const root = await mkdtemp(join(tmpdir(), 'ir-jskill-'));
      await copyShippedPolicy(join(root, 'policies'));
      for (const [file, edit] of [
        ['00-settings.yaml', noStorm],
        ['providers.yaml', noRateLimit],
      ] as const) {
        await writeFile(
          join(root, 'policies', file),
          edit(await readFile(join(root, 'policies', file), 'utf8')),
        );
      }
      const env = {
        PORT: '0',
        POLICY_DIR: join(root, 'policies'),
        DATA_DIR: join(root, 'data'),
        NATS_URL: nats.url,
        NATS_STREAM: 'LOGS3',
        NATS_SUBJECT: 'js3.>',
        NATS_ACK_WAIT_MS: '2000',
        PAGERDUTY_ROUTING_KEY: SANDBOX_PAGERDUTY_ROUTING_KEY,
        PAGERDUTY_EVENTS_URL: sandbox.urls.pagerdutyEvents,
        OPSGENIE_API_KEY: SANDBOX_OPSGENIE_API_KEY,
        OPSGENIE_API_URL: sandbox.urls.opsgenie,
      };
      try {
        const list = withoutRecoveries(events({ count: 6_000, seed: 23, alerting: 10 }));
        await publishAll(
          'js3.app',
          list.map((e) => JSON.stringify(e)),
        );
        const now = Date.now();
        const expected = await expectedIncidents(list, await shippedPolicy({}, join(root, 'policies')), now);
        const first = await startServe([], env);
        await waitFor(
          async () => ((await get(`${first.url}/api/v1/metrics`)).body.events.received.nats ?? 0) > 1_500,
          30_000,
          20,
        );
        first.child.kill('SIGKILL');
        await exited(first.child);
        const second = await startServe([], env);
        try {
          await waitFor(() => consumerDrained('LOGS3'), 60_000, 200);
          await waitFor(
            async () => (await get(`${second.url}/api/v1/health`)).body.deliveries_pending === 0,
            60_000,
            200,
          );
          const all = (await get(`${second.url}/api/v1/incidents?limit=500`)).body.incidents as {
            fingerprint: string;
          }[];
          expect(all.map((i) => i.fingerprint).sort()).toEqual(expected.map((e) => e.fingerprint).sort());
          // Exactly one incident per expected incident at each provider it routes to: none lost, none twice.
          const at = (provider: string) =>
            expected
              .filter((e) => e.providers.includes(provider))
              .map((e) => e.providerKey)
              .sort();
          expect(keysAtProviders(sandbox)).toEqual({ pagerduty: at('pagerduty'), opsgenie: at('opsgenie') });
        } finally {
          second.child.kill('SIGTERM');
          await exited(second.child);
        }
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    },
  );
});
