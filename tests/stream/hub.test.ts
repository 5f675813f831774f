// The stream hub with a hand-driven ticker and clock (docs/http-api.md, "GET /api/v1/stream"):
// coalescing, folding, heartbeats, the buffer bound, reconnects, and nothing built while nobody listens.
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/telemetry/metrics.js';
import { LifecycleBus } from '../../src/incidents/lifecycle.js';
import {
  DEFAULT_LIMITS,
  StreamHub,
  feedStream,
  type StreamSink,
  type Ticker,
} from '../../src/stream/index.js';
import { StreamClient } from '../../src/stream/client.js';
import { LifecycleRing } from '../../src/stream/ring.js';
import type { ReloadOutcome } from '../../src/policy/manager.js';
import { lifecycleEvent } from './lifecycle-events.js';

class FakeSink implements StreamSink {
  text = '';
  writableLength = 0;
  ended = false;
  destroyed = false;
  /** Bytes the peer has not read: everything written while `stalled`. */
  stalled = false;
  write(text: string): boolean {
    this.text += text;
    if (this.stalled) this.writableLength += Buffer.byteLength(text);
    return !this.stalled;
  }
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  /** Messages as `[event, data]`, comments as `[':', text]`. */
  messages(): [string, any][] {
    return this.text
      .split('\n\n')
      .filter((b) => b !== '')
      .map((block) => {
        if (block.startsWith(':')) return [':', block];
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
        const data = /^data: (.*)$/m.exec(block)?.[1];
        return [event, data === undefined ? null : JSON.parse(data)];
      });
  }
}

function harness(limits = {}) {
  let tick: (() => void) | null = null;
  const ticker: Ticker = (_ms, f) => ((tick = f), () => (tick = null));
  const clock = { ms: Date.parse('2026-11-24T15:00:00Z'), now: () => clock.ms };
  const metrics = new Metrics();
  let providersAsked = 0;
  const hub = new StreamHub({
    clock,
    metrics,
    scrubber: {
      holdsSecret: (t) => t.includes('hunter2-secret'),
      scrub: (t) => t.replaceAll('hunter2-secret', '****'),
    },
    providers: () => (providersAsked++, []),
    counters: async () => ({
      events_received: {},
      events_dropped: { noise_shed: 3 },
      dead_letters: {},
      decisions: {},
    }),
    ticker,
    limits,
    ringCapacity: 100,
  });
  const advance = (ms: number): void => {
    clock.ms += ms;
    tick?.();
  };
  return { hub, clock, metrics, advance, ticking: () => tick !== null, providersAsked: () => providersAsked };
}

const breaker = (n: number) => ({
  type: 'breaker' as const,
  at: 'x',
  provider: `p${n}`,
  from: 'closed' as const,
  to: 'open' as const,
});

describe('stream hub', () => {
  it('coalescing - what arrives between two ticks is one message; lifecycle changes paced, never folded', () => {
    const { hub, advance } = harness({ maxChangesPerMessage: 30, maxItemsPerMessage: 5 });
    const sink = new FakeSink();
    hub.connect(sink, undefined);
    for (let n = 0; n < 70; n++) hub.incident(lifecycleEvent(n));
    for (let n = 0; n < 12; n++) hub.push(breaker(n));
    advance(100);
    advance(100);
    advance(100);
    const batches = sink.messages().filter(([e]) => e === 'batch');
    expect(batches).toHaveLength(3);
    const incidents = batches.flatMap(([, d]) => d.filter((i: any) => i.type === 'incident'));
    expect(incidents.map((i: any) => i.incident_id)).toEqual(
      Array.from({ length: 70 }, (_, n) => `storm-${n}`),
    );
    const first = batches[0]?.[1] as any[];
    expect(first.filter((i) => i.type === 'breaker')).toHaveLength(5);
    expect(first.find((i) => i.type === 'folded')).toEqual({ type: 'folded', counts: { breaker: 7 } });
  });

  it('snapshots - health and counters once a second, only while someone listens', async () => {
    const { hub, advance, ticking, providersAsked } = harness();
    expect(ticking()).toBe(false);
    const sink = new FakeSink();
    const client = hub.connect(sink, undefined);
    expect(ticking()).toBe(true);
    for (let n = 0; n < 20; n++) {
      advance(100);
      await Promise.resolve();
    }
    expect(providersAsked()).toBe(2);
    expect(
      sink
        .messages()
        .flatMap(([, d]) => (Array.isArray(d) ? d : []))
        .filter((i) => i.type === 'counters'),
    ).toContainEqual(expect.objectContaining({ events_dropped: { noise_shed: 3 } }));
    hub.disconnect(client!);
    expect(ticking()).toBe(false);
  });

  it('heartbeat - a client with nothing to send writes a comment after 15 s of silence, not before', () => {
    // Health snapshots make a message every second while the hub ticks; the heartbeat is the
    // client's own guarantee, so it is tested on the client alone.
    const sink = new FakeSink();
    const wire = { id: (seq: number) => `e-${seq}`, scrub: (t: string) => t };
    const ring = new LifecycleRing(10);
    const limits = { ...DEFAULT_LIMITS };
    const client = new StreamClient(sink, limits, 0, 0, () => undefined);
    client.open(wire, 0, {}, null);
    const comments = (): number => sink.messages().filter(([e]) => e === ':').length;
    for (let ms = 100; ms < 15_000; ms += 100) client.flush(ring, wire, ms);
    expect(comments()).toBe(0);
    client.flush(ring, wire, 15_000);
    expect(comments()).toBe(1);
    client.flush(ring, wire, 15_100);
    expect(comments()).toBe(1);
  });

  it('slow client - cut off past the buffer bound and counted; the gauge goes back down', async () => {
    const { hub, metrics, advance } = harness({ maxBufferedBytes: 10_000 });
    const sink = new FakeSink();
    hub.connect(sink, undefined);
    expect((await metrics.streamClients.get()).values[0]?.value).toBe(1);
    sink.stalled = true;
    for (let n = 0; n < 5 && !sink.destroyed; n++) {
      for (let k = 0; k < 20; k++) hub.incident(lifecycleEvent(k, { title: 'x'.repeat(200) }));
      advance(100);
    }
    expect(sink.destroyed).toBe(true);
    expect(hub.listening).toBe(false);
    expect((await metrics.streamClients.get()).values[0]?.value).toBe(0);
    expect((await metrics.streamDropped.get()).values).toEqual([
      expect.objectContaining({ labels: { reason: 'slow_client' }, value: 1 }),
    ]);
  });

  it('reconnect - resumes after Last-Event-ID; reset when it left the ring, or when the feed broke', () => {
    const { hub, advance } = harness();
    const a = new FakeSink();
    hub.connect(a, undefined);
    hub.incident(lifecycleEvent(1));
    advance(100);
    const id = /^id: (.*)$/m.exec(a.text.split('event: batch')[1] ?? '')?.[1] as string;
    expect(id).toMatch(/^[0-9a-f]+-1$/);
    hub.incident(lifecycleEvent(2));
    const b = new FakeSink();
    hub.connect(b, id);
    advance(100);
    expect(b.messages()[0]?.[0]).toBe('ready');
    expect(
      b
        .messages()[1]?.[1]
        .filter((i: any) => i.type === 'incident')
        .map((i: any) => i.incident_id),
    ).toEqual(['storm-2']);

    for (let n = 0; n < 100; n++) hub.incident(lifecycleEvent(n));
    const c = new FakeSink();
    hub.connect(c, id);
    expect(c.messages()[0]).toEqual(['reset', expect.objectContaining({ reason: 'expired' })]);

    const d = new FakeSink();
    hub.connect(d, undefined);
    const beforeCut = /^id: (.*)$/m.exec(d.text)?.[1] as string;
    hub.interrupted();
    advance(100);
    const e = new FakeSink();
    hub.connect(e, beforeCut);
    expect(e.messages()[0]).toEqual(['reset', expect.objectContaining({ reason: 'expired' })]);
    const afterCut = /^id: (.*)$/m.exec(d.text.split('event: reset')[1] ?? '')?.[1] as string;
    const f = new FakeSink();
    hub.connect(f, afterCut);
    expect(f.messages()[0]?.[0]).toBe('ready');
    expect(b.messages().filter(([e]) => e === 'reset')).toEqual([
      ['reset', expect.objectContaining({ reason: 'interrupted' })],
    ]);
  });

  it('secrets - masked on the way out', () => {
    const { hub, advance } = harness();
    const sink = new FakeSink();
    hub.connect(sink, undefined);
    hub.incident(lifecycleEvent(1, { title: 'key hunter2-secret leaked' }));
    advance(100);
    expect(sink.text).not.toContain('hunter2-secret');
    expect(sink.text).toContain('key **** leaked');
  });

  it('idle - nothing but the ring is touched while nobody listens; shutdown ends every stream', () => {
    const { hub } = harness();
    const lifecycle = new LifecycleBus();
    const breakerListeners: ((name: string, from: any, to: any) => void)[] = [];
    const reloadListeners: ((o: ReloadOutcome) => void)[] = [];
    let pushed = 0;
    const push = hub.push.bind(hub);
    hub.push = (item) => (pushed++, push(item));
    feedStream(hub, {
      clock: { now: () => 0 },
      lifecycle,
      breakers: { onChange: (l) => (breakerListeners.push(l), () => true) },
      policies: { onReload: (l) => (reloadListeners.push(l), () => true) },
    });
    breakerListeners[0]?.('pagerduty', 'closed', 'open');
    expect(pushed).toBe(0);
    lifecycle.incident(lifecycleEvent(1));
    const sink = new FakeSink();
    hub.connect(sink, undefined);
    breakerListeners[0]?.('pagerduty', 'open', 'half_open');
    expect(pushed).toBe(1);
    hub.close();
    expect(sink.ended).toBe(true);
    expect(hub.listening).toBe(false);
    expect(hub.connect(new FakeSink(), undefined)).toBeNull();
  });
});
