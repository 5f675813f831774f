// The in-process event hub behind `GET /api/v1/stream` (docs/http-api.md, "GET /api/v1/stream";
// docs/architecture.md, "Live stream"). Producers tell it what happened; every 100 ms each client
// gets what arrived as one message. Lifecycle changes are numbered into a ring (reconnects resume
// from it); the rest reaches only the clients connected now, so producers check `listening` first
// and build nothing while nobody listens.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../domain/clock.js';
import type { LifecycleEvent } from '../incidents/lifecycle.js';
import type { Metrics } from '../telemetry/metrics.js';
import { StreamClient, type ResetReason, type StreamLimits, type StreamSink, type Wire } from './client.js';
import type { CountersItem, FoldableItem, HealthItem } from './items.js';
import { LifecycleRing } from './ring.js';

/** Runs `tick` every `ms` until the returned function is called (tests pass a hand-driven one). */
export type Ticker = (ms: number, tick: () => void) => () => void;

export const intervalTicker: Ticker = (ms, tick) => {
  const timer = setInterval(tick, ms);
  timer.unref();
  return () => clearInterval(timer);
};

export const FLUSH_MS = 100;
const SNAPSHOT_EVERY_TICKS = 10;
export const RING_CAPACITY = 10_000;

export const DEFAULT_LIMITS: StreamLimits = {
  maxChangesPerMessage: 1_000,
  maxItemsPerMessage: 200,
  maxBufferedBytes: 1024 * 1024,
  heartbeatMs: 15_000,
};

export interface StreamHubDeps {
  clock: Clock;
  metrics: Pick<Metrics, 'streamClients' | 'streamDropped'>;
  scrubber: { holdsSecret(text: string): boolean; scrub(text: string): string };
  /** Provider health, sent once a second. */
  providers(): HealthItem['providers'];
  /** Counter totals, sent once a second. */
  counters(): Promise<Omit<CountersItem, 'type' | 'at'>>;
  /** Said in `ready`: this replica's name in cluster mode. */
  replica?: string;
  ticker?: Ticker;
  limits?: Partial<StreamLimits>;
  ringCapacity?: number;
}

export class StreamHub {
  /** True while at least one client is connected: producers build items only then. */
  listening = false;
  private readonly clients = new Set<StreamClient>();
  private readonly ring: LifecycleRing;
  private readonly limits: StreamLimits;
  private readonly epoch = randomBytes(4).toString('hex');
  private readonly wire: Wire;
  private stopTicker: (() => void) | null = null;
  private ticks = 0;
  private closed = false;
  /** Whether a client ever connected (the ring records from then on). */
  private recording = false;

  constructor(private readonly deps: StreamHubDeps) {
    this.ring = new LifecycleRing(deps.ringCapacity ?? RING_CAPACITY);
    this.limits = { ...DEFAULT_LIMITS, ...deps.limits };
    const { scrubber } = deps;
    this.wire = {
      id: (seq) => `${this.epoch}-${seq}`,
      scrub: (text) => (scrubber.holdsSecret(text) ? scrubber.scrub(text) : text),
    };
  }

  /**
   * A lifecycle change: numbered and kept in the ring (no copy), whether or not anyone listens now,
   * from the first client on: before it nobody could come back for one.
   */
  incident(event: LifecycleEvent): void {
    if (this.recording) this.ring.push(event);
  }

  /** Anything else: to the clients connected now (check `listening` before building it). */
  push(item: FoldableItem): void {
    for (const c of this.clients) c.add(item);
  }

  /** Lifecycle changes may have been lost (the cluster's feed broke): every client must reload. */
  interrupted(): void {
    this.ring.cut();
    for (const c of this.clients) c.reset('interrupted');
  }

  /** A new client, resuming after `lastEventId` when the ring still holds everything since. */
  connect(sink: StreamSink, lastEventId: string | undefined): StreamClient | null {
    if (this.closed) return null;
    const now = this.deps.clock.now();
    const { cursor, reset } = this.resumeFrom(lastEventId);
    this.recording = true;
    const client = new StreamClient(sink, this.limits, cursor, now, (c) => this.cut(c));
    this.clients.add(client);
    this.changed();
    const info = { interval_ms: FLUSH_MS, ...(this.deps.replica ? { replica: this.deps.replica } : {}) };
    client.open(this.wire, now, info, reset);
    return client;
  }

  private resumeFrom(lastEventId: string | undefined): { cursor: number; reset: ResetReason | null } {
    const head = this.ring.head;
    if (lastEventId === undefined || lastEventId === '') return { cursor: head, reset: null };
    const m = /^([0-9a-f]+)-(\d{1,15})$/.exec(lastEventId.trim());
    if (m === null || m[1] !== this.epoch) return { cursor: head, reset: 'unknown_stream' };
    const seq = Number(m[2]);
    if (!this.ring.holdsAfter(seq)) return { cursor: head, reset: 'expired' };
    return { cursor: seq, reset: null };
  }

  /** The client went away (its socket closed). */
  disconnect(client: StreamClient): void {
    client.close();
    if (this.clients.delete(client)) this.changed();
  }

  /** It stopped reading: cut off and counted. */
  private cut(client: StreamClient): void {
    this.deps.metrics.streamDropped.inc({ reason: 'slow_client' });
    this.disconnect(client);
  }

  private changed(): void {
    this.listening = this.clients.size > 0;
    this.deps.metrics.streamClients.set(this.clients.size);
    if (this.listening && this.stopTicker === null) {
      this.ticks = 0;
      this.stopTicker = (this.deps.ticker ?? intervalTicker)(FLUSH_MS, () => this.tick());
    } else if (!this.listening && this.stopTicker !== null) {
      this.stopTicker();
      this.stopTicker = null;
    }
  }

  /** Every 100 ms: a message per client; every second, health and counters first. */
  tick(): void {
    const now = this.deps.clock.now();
    if (this.ticks++ % SNAPSHOT_EVERY_TICKS === 0) this.snapshot(now);
    for (const c of [...this.clients]) c.flush(this.ring, this.wire, now);
  }

  private snapshot(now: number): void {
    const at = new Date(now).toISOString();
    const health: HealthItem = { type: 'health', at, providers: this.deps.providers() };
    for (const c of this.clients) c.latest(health);
    void this.deps.counters().then(
      (totals) => {
        const counters: CountersItem = { type: 'counters', at, ...totals };
        for (const c of this.clients) c.latest(counters);
      },
      () => undefined,
    );
  }

  /** Shutdown: every stream ends now, so the server's close does not wait on them. */
  close(): void {
    this.closed = true;
    for (const c of [...this.clients]) {
      c.end();
      this.disconnect(c);
    }
  }
}
