// The live stream, GET /api/v1/stream (docs/http-api.md): a real sidecar over HTTP, on both state
// backends (vitest.config.ts). Lifecycle changes, coalescing under a storm, Last-Event-ID, reset,
// slow clients cut off, auth like GET /api/v1/incidents, secrets masked, shutdown.
import { connect as connectTcp } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { exposition, get, post, startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { lifecycleEvent } from '../stream/lifecycle-events.js';
import { SseClient } from '../stream/sse-client.js';

const TOKEN = 'stream-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

let sandbox: Sandbox;
let t: TestApp;
beforeAll(async () => {
  sandbox = await startSandbox();
  t = await startTestApp({ API_TOKEN: TOKEN }, { sandbox });
});
afterAll(async () => {
  await t?.stop();
  await sandbox?.stop();
});

/** Seconds between the first and the last message, as the client saw them. */
function spanSeconds(c: SseClient): number {
  const batches = c.messages.filter((m) => m.event === 'batch');
  return ((batches.at(-1)?.atMs ?? 0) - (batches[0]?.atMs ?? 0)) / 1000;
}

describe('GET /api/v1/stream', () => {
  it('lifecycle - an alert posted, then acknowledged through the API, arrives with its deliveries', async () => {
    const c = await SseClient.open(t.url);
    try {
      expect(c.status).toBe(200);
      expect(c.response.headers['content-type']).toMatch(/^text\/event-stream/);
      await c.until((s) => s.messages.find((m) => m.event === 'ready'));
      const alert = await post(
        `${t.url}/api/v1/alerts`,
        { title: 'DB down', source: 'database', severity: 'critical', service_name: 'payment-service' },
        auth,
      );
      expect(alert.status).toBe(202);
      const id = alert.body.incident_id as string;
      const triggered = await c.until((s) =>
        s.items('incident').find((i) => i.incident_id === id && i.kind === 'triggered'),
      );
      expect(triggered).toMatchObject({
        service: 'payment-service',
        severity: 'critical',
        state: 'triggered',
        provider_key: expect.stringMatching(/^ir-/),
        id: expect.stringMatching(/^[0-9a-f]+-\d+$/),
      });
      const ack = await post(`${t.url}/api/v1/incidents/${id}/acknowledge`, { actor: 'alice' }, auth);
      expect(ack.status).toBe(200);
      const acknowledged = await c.until((s) =>
        s.items('incident').find((i) => i.incident_id === id && i.kind === 'acknowledged'),
      );
      expect(acknowledged).toMatchObject({ state: 'acknowledged', actor: 'alice', source: 'api' });
      expect(c.items('incident').filter((i) => i.incident_id === id)).toHaveLength(2);
      // Its deliveries to both providers, and a health snapshot of both, on the same stream.
      const delivered = await c.until((s) => {
        const d = s.items('delivery').filter((i) => i.incident_id === id && i.outcome === 'delivered');
        return d.length >= 2 && d;
      });
      expect(delivered[0]).toMatchObject({
        action: 'trigger',
        latency_ms: expect.any(Number),
        failover: false,
      });
      const health = await c.until((s) => s.items('health')[0]);
      expect(health.providers.map((p: { name: string }) => p.name).sort()).toEqual(['opsgenie', 'pagerduty']);
      expect((await post(`${t.url}/api/v1/policy/reload`, {}, auth)).status).toBe(200);
      expect(await c.until((s) => s.items('policy')[0])).toMatchObject({ ok: true, trigger: 'api' });
      const counters = await c.until((s) => s.items('counters')[0]);
      expect(counters).toMatchObject({
        events_dropped: expect.any(Object),
        dead_letters: expect.any(Object),
      });
    } finally {
      c.close();
    }
  });

  it('storm - 5,000 lifecycle changes arrive coalesced, about 10 messages a second, none lost', async () => {
    const c = await SseClient.open(t.url);
    try {
      await c.until((s) => s.messages.find((m) => m.event === 'ready'));
      const first = c.items('incident').length;
      const bus = t.app.parts.lifecycle;
      // 5,000 changes over about half a second, through the bus the incident core publishes on.
      for (let n = 0; n < 50; n++) {
        for (let k = 0; k < 100; k++) bus.incident(lifecycleEvent(n * 100 + k));
        await new Promise((r) => setImmediate(r));
        if (n % 10 === 9) await new Promise((r) => setTimeout(r, 100));
      }
      await c.until((s) => s.items('incident').length - first >= 5_000);
      const storm = c.items('incident').filter((i) => String(i.incident_id).startsWith('storm-'));
      expect(storm.map((i) => i.incident_id)).toEqual(Array.from({ length: 5_000 }, (_, n) => `storm-${n}`));
      const seqs = storm.map((i) => Number(String(i.id).split('-')[1]));
      expect(seqs.every((s, k) => k === 0 || s === (seqs[k - 1] as number) + 1)).toBe(true);
      const batches = c.messages.filter((m) => m.event === 'batch');
      expect(batches.length).toBeLessThanOrEqual(Math.ceil(spanSeconds(c) * 10) + 3);
    } finally {
      c.close();
    }
  });

  it('reconnect - Last-Event-ID replays what was missed; an id that left the ring gets reset', async () => {
    const bus = t.app.parts.lifecycle;
    const c1 = await SseClient.open(t.url);
    await c1.until((s) => s.messages.find((m) => m.event === 'ready'));
    bus.incident(lifecycleEvent(1, { incident_id: 'before-1' }));
    await c1.until((s) => s.items('incident').find((i) => i.incident_id === 'before-1'));
    const lastId = c1.lastEventId() as string;
    c1.close();
    await waitFor(async () => (await exposition(t.url)).includes('incident_router_stream_clients 0'));

    for (let n = 1; n <= 3; n++) bus.incident(lifecycleEvent(n, { incident_id: `missed-${n}` }));
    const c2 = await SseClient.open(t.url, { 'last-event-id': lastId });
    try {
      const missed = await c2.until((s) => {
        const got = s.items('incident').filter((i) => String(i.incident_id).startsWith('missed-'));
        return got.length === 3 && got;
      });
      expect(missed.map((i) => i.incident_id)).toEqual(['missed-1', 'missed-2', 'missed-3']);
      expect(c2.messages.some((m) => m.event === 'reset')).toBe(false);
      expect(c2.items('incident').some((i) => i.incident_id === 'before-1')).toBe(false);
    } finally {
      c2.close();
    }

    // 10,000 more changes push `lastId` out of the ring; an id from another process is unknown.
    for (let n = 0; n < 10_000; n++) bus.incident(lifecycleEvent(n, { incident_id: `flood-${n}` }));
    for (const [given, reason] of [
      [lastId, 'expired'],
      ['0badc0de-5', 'unknown_stream'],
    ] as const) {
      const c = await SseClient.open(t.url, { 'last-event-id': given });
      try {
        const reset = await c.until((s) => s.messages.find((m) => m.event === 'reset'));
        expect(reset.data).toMatchObject({ reason });
        expect(c.items('incident')).toEqual([]);
      } finally {
        c.close();
      }
    }
  });

  it('outage - PagerDuty down: retries, its breaker opening and the failover to OpsGenie show on the stream', async () => {
    const c = await SseClient.open(t.url);
    await sandbox.pagerduty.down({ mode: 'refuse' });
    try {
      await c.until((s) => s.messages.find((m) => m.event === 'ready'));
      const ids: string[] = [];
      // Two incidents on the default route (failover, PagerDuty first): 3 attempts each open its breaker.
      for (const service of ['search', 'notification-service']) {
        const alert = { title: 'Slow', source: 'http', severity: 'high', service_name: service };
        ids.push((await post(`${t.url}/api/v1/alerts`, alert, auth)).body.incident_id as string);
      }
      const opened = await c.until((s) => s.items('breaker').find((b) => b.provider === 'pagerduty'));
      expect(opened).toMatchObject({ from: 'closed', to: 'open' });
      const attempts = await c.until((s) => {
        const mine = s.items('delivery').filter((d) => d.incident_id === ids[0]);
        return mine.some((d) => d.outcome === 'delivered') && mine;
      });
      expect(attempts.map((d) => [d.provider, d.outcome])).toEqual([
        ['pagerduty', 'retry'],
        ['pagerduty', 'retry'],
        ['pagerduty', 'failover'],
        ['opsgenie', 'delivered'],
      ]);
      expect(attempts[0]).toMatchObject({ failover: false, reason: 'network', latency_ms: null });
      expect(attempts[2]).toMatchObject({ failover: false, to: 'opsgenie' });
      expect(attempts[3]).toMatchObject({ failover: true, status: 202, latency_ms: expect.any(Number) });
    } finally {
      await sandbox.pagerduty.up();
      c.close();
    }
  });

  it('slow client - one that never reads is cut off and the gauge goes back down', async () => {
    const socket = connectTcp(Number(new URL(t.url).port), '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.pause(); // reads nothing: the kernel's buffers fill, then the server's
    socket.write('GET /api/v1/stream HTTP/1.1\r\nHost: test\r\n\r\n');
    await waitFor(async () => (await exposition(t.url)).includes('incident_router_stream_clients 1'));
    const bus = t.app.parts.lifecycle;
    const title = 'x'.repeat(4_000);
    let n = 0;
    await waitFor(async () => {
      for (let k = 0; k < 2_000; k++) bus.incident(lifecycleEvent(n++, { title }));
      return (await exposition(t.url)).includes(
        'incident_router_stream_dropped_total{reason="slow_client"} 1',
      );
    }, 15_000);
    expect(await exposition(t.url)).toContain('incident_router_stream_clients 0');
    socket.destroy();
  });

  it('auth - open like GET /api/v1/incidents with API_TOKEN set, and secrets masked', async () => {
    const incidents = await get(`${t.url}/api/v1/incidents`);
    const c = await SseClient.open(t.url);
    try {
      expect(c.status).toBe(incidents.status);
      await c.until((s) => s.messages.find((m) => m.event === 'ready'));
      t.app.parts.lifecycle.incident(lifecycleEvent(1, { incident_id: 'secret-1', title: `token ${TOKEN}` }));
      const item = await c.until((s) => s.items('incident').find((i) => i.incident_id === 'secret-1'));
      expect(item.title).not.toContain(TOKEN);
      expect(item.title).toContain(`****${TOKEN.slice(-4)}`);
    } finally {
      c.close();
    }
  });

  it('shutdown - a stream outlives the request timeout, then ends with the server, which closes at once', async () => {
    const app = await startTestApp({}, { sandbox, httpTimeouts: { headersMs: 300, requestMs: 600 } });
    const c = await SseClient.open(app.url);
    try {
      // Three health snapshots, a second apart: well past the 600 ms a request may take to arrive.
      await c.until((s) => s.items('health').length >= 3, 10_000);
      expect(c.ended).toBe(false);
      const started = Date.now();
      await app.app.stop(10_000);
      expect(Date.now() - started).toBeLessThan(5_000);
      await c.until((s) => s.ended);
    } finally {
      c.close();
      await app.stop().catch(() => undefined);
    }
  });
});
