// Core NATS load shedding against a real nats-server (docs/nats.md, "Load shedding"): a burst far
// past NATS_MAX_PENDING drops everyday noise, counted, and never an event that pages or resolves.
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockFrom } from '../../../src/domain/clock.js';
import { startSandbox, type Sandbox } from '../../../src/sandbox/index.js';
import { exposition, get, noRateLimit, startTestApp, waitFor } from '../../helpers/app.js';
import { NatsServer } from '../../helpers/nats-server.js';
import { natsClient, noStorm, publishLines } from '../support.js';

const NOW = Date.parse('2026-11-24T15:00:00Z');
const PAIRS = 20;
const NOISE = 30_000;
/** At most this many queued: the pairs (40) always fit in the room kept for them (2 × 50). */
const MAX_PENDING = 50;

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

const line = (fields: Record<string, string>): string =>
  JSON.stringify({ timestamp: '2026-11-24T15:00:00Z', source: 'database', ...fields });

/** Noise with a failure of its own service every NOISE / PAIRS lines and its recovery later. */
function burst(): string[] {
  const lines = Array.from({ length: NOISE }, (_, i) =>
    JSON.stringify({
      timestamp: '2026-11-24T15:00:00Z',
      service: 'search',
      level: i % 2 ? 'info' : 'debug',
      source: 'http',
      message: `GET /api/v1/orders/${i} 200 in 12ms`,
    }),
  );
  const step = NOISE / PAIRS;
  for (let k = 0; k < PAIRS; k++) {
    const service = `shed-${k}`;
    lines.splice(k * step + 10 + k, 0, line({ service, level: 'error', message: 'connection refused' }));
  }
  for (let k = 0; k < PAIRS; k++) {
    const service = `shed-${k}`;
    const at = Math.min(lines.length, (k + 1) * step + 300 + 2 * k);
    lines.splice(at, 0, line({ service, level: 'info', message: 'database connection pool recovered' }));
  }
  return lines;
}

describe('core NATS load shedding', () => {
  it('floods past the queue: noise is dropped and counted, every page and resolve goes through', async () => {
    sandbox.pagerduty.reset();
    sandbox.opsgenie.reset();
    const t = await startTestApp(
      {
        NATS_URL: nats.url,
        NATS_SUBJECT: 'shed.>',
        NATS_MAX_PENDING: String(MAX_PENDING),
        // Each new incident holds the queue until it is durable: a backlog builds at once.
        NATS_MAX_IN_FLIGHT: '1',
      },
      { sandbox, clock: clockFrom(NOW), editSettings: noStorm, edits: { 'providers.yaml': noRateLimit } },
    );
    try {
      await waitFor(async () => (await get(`${t.url}/api/v1/health`)).body.nats?.connected === true);
      const lines = burst();
      await publishLines(nc, 'shed.app', lines);
      const counts = async (): Promise<{ received: number; shed: number; full: number }> => {
        const text = await exposition(t.url);
        const metric = (re: RegExp): number => Number(re.exec(text)?.[1] ?? 0);
        return {
          received: metric(/^incident_router_events_received_total\{source="nats"\} (\S+)$/m),
          shed: metric(/^incident_router_events_dropped_total\{reason="noise_shed"\} (\S+)$/m),
          full: metric(/^incident_router_events_dropped_total\{reason="queue_full"\} (\S+)$/m),
        };
      };
      const final = await waitFor(async () => {
        const c = await counts();
        return c.received + c.shed + c.full === lines.length ? c : null;
      }, 60_000);
      expect(final.shed).toBeGreaterThan(0); // the queue did overflow
      expect(final.full).toBe(0);
      type Listed = { fingerprint: string; state: string };
      const incidents = await waitFor(async () => {
        const all = (await get(`${t.url}/api/v1/incidents?limit=500`)).body.incidents as Listed[];
        const ours = all.filter((i) => i.fingerprint.startsWith('shed-'));
        return ours.length === PAIRS && ours.every((i) => i.state === 'resolved') ? ours : null;
      }, 30_000);
      expect(incidents.map((i) => i.fingerprint).sort()).toEqual(
        Array.from({ length: PAIRS }, (_, k) => `shed-${k}:db-connection`).sort(),
      );
    } finally {
      await t.stop();
    }
  });
});
