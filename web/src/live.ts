// The live stream (GET /api/v1/stream, docs/http-api.md "Live stream") as one store every view reads.
// The sidecar already coalesces (one message per 100 ms at most); the store keeps what views need
// (the latest health and counters, 15 minutes of history for the charts, recent deliveries and
// incident changes) and tells its subscribers once per message, so a storm costs a view at most about
// ten renders a second. EventSource reconnects by itself with Last-Event-ID; a `reset` (changes lost)
// makes the views reload what they show.
import type { ProviderHealth } from './types';

export interface LifecycleItem {
  type: 'incident';
  id: string;
  kind: string;
  at: string;
  incident_id: string;
  service: string;
  team: string;
  severity: string;
  state: string;
  title: string;
  actor: string;
  source: string;
}

export interface DeliveryItem {
  type: 'delivery';
  at: string;
  delivery_id: string;
  incident_id: string;
  action: string;
  provider: string;
  outcome: string;
  attempts: number;
  status: number | null;
  latency_ms: number | null;
  failover: boolean;
  to?: string;
  reason?: string;
}

export interface BreakerItem {
  type: 'breaker';
  at: string;
  provider: string;
  from: string;
  to: string;
}

export interface CountersItem {
  type: 'counters';
  at: string;
  events_received: Record<string, number>;
  events_dropped: Record<string, number>;
  dead_letters: Record<string, number>;
  decisions: Record<string, number>;
}

export interface PolicyItem {
  type: 'policy';
  ok: boolean;
  trigger: string;
  at: string;
  changed: boolean;
  version: string;
  revision: string;
  errors: string[];
  warnings: string[];
}

type Item =
  | LifecycleItem
  | DeliveryItem
  | BreakerItem
  | CountersItem
  | PolicyItem
  | { type: 'health'; at: string; providers: ProviderHealth[] }
  | { type: 'folded'; counts: Record<string, number> };

/** One point a second per provider: [epoch s, success %, p50 ms, p99 ms]. */
export type HealthPoint = [number, number | null, number | null, number | null];
/** One point a second: [epoch s, events/s, decisions by outcome/s, drops/s, dead letters/s]. */
export type RatePoint = [number, number, Record<string, number>, number, number];

const HISTORY_SECONDS = 15 * 60;
const RECENT_DELIVERIES = 500;
const RECENT_CHANGES = 500;

export type Connection = 'connecting' | 'live' | 'reconnecting';

export class Live {
  connection: Connection = 'connecting';
  /** Bumped on `ready` after a `reset` and on every reconnect: views reload what they show. */
  epoch = 0;
  providers: ProviderHealth[] = [];
  history = new Map<string, HealthPoint[]>();
  counters: CountersItem | null = null;
  rates: RatePoint[] = [];
  deliveries: DeliveryItem[] = [];
  changes: LifecycleItem[] = [];
  breakers: BreakerItem[] = [];
  lastPolicy: PolicyItem | null = null;
  folded = 0;
  /** Bumped whenever anything arrives. */
  version = 0;

  private readonly listeners = new Set<() => void>();
  private source: EventSource | null = null;

  start(url = '/api/v1/stream'): void {
    const source = new EventSource(url);
    this.source = source;
    source.addEventListener('ready', () => this.connected());
    source.addEventListener('reset', () => {
      this.epoch++;
      this.connected();
    });
    source.addEventListener('batch', (e) => this.batch((e as MessageEvent<string>).data));
    source.addEventListener('error', () => {
      this.connection = 'reconnecting';
      this.notify();
      if (source.readyState === EventSource.CLOSED) setTimeout(() => this.start(url), 3_000);
    });
  }

  stop(): void {
    this.source?.close();
    this.source = null;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private connected(): void {
    if (this.connection === 'reconnecting') this.epoch++;
    this.connection = 'live';
    this.notify();
  }

  private batch(data: string): void {
    let items: Item[];
    try {
      items = JSON.parse(data) as Item[];
    } catch {
      return;
    }
    for (const item of items) this.take(item);
    this.notify();
  }

  private take(item: Item): void {
    switch (item.type) {
      case 'incident':
        this.changes.unshift(item);
        if (this.changes.length > RECENT_CHANGES) this.changes.length = RECENT_CHANGES;
        break;
      case 'delivery':
        this.deliveries.unshift(item);
        if (this.deliveries.length > RECENT_DELIVERIES) this.deliveries.length = RECENT_DELIVERIES;
        break;
      case 'breaker':
        this.breakers.unshift(item);
        if (this.breakers.length > 100) this.breakers.length = 100;
        break;
      case 'policy':
        this.lastPolicy = item;
        break;
      case 'health':
        this.health(item.providers, Date.parse(item.at) / 1000);
        break;
      case 'counters':
        this.count(item);
        break;
      case 'folded':
        this.folded += sum(item.counts);
        break;
    }
  }

  private health(providers: ProviderHealth[], t: number): void {
    this.providers = providers;
    for (const p of providers) {
      const points = this.history.get(p.name) ?? [];
      const rate = p.health.success_rate === null ? null : p.health.success_rate * 100;
      points.push([t, rate, p.health.latency_p50_ms, p.health.latency_p99_ms]);
      trim(points, t);
      this.history.set(p.name, points);
    }
  }

  private count(item: CountersItem): void {
    const previous = this.counters;
    this.counters = item;
    if (previous === null) return;
    const seconds = (Date.parse(item.at) - Date.parse(previous.at)) / 1000;
    if (seconds <= 0) return;
    const per = (now: Record<string, number>, before: Record<string, number>): number =>
      Math.max(0, (sum(now) - sum(before)) / seconds);
    const decisions: Record<string, number> = {};
    for (const [outcome, n] of Object.entries(item.decisions))
      decisions[outcome] = Math.max(0, (n - (previous.decisions[outcome] ?? 0)) / seconds);
    const t = Date.parse(item.at) / 1000;
    this.rates.push([
      t,
      per(item.events_received, previous.events_received),
      decisions,
      per(item.events_dropped, previous.events_dropped),
      per(item.dead_letters, previous.dead_letters),
    ]);
    trim(this.rates, t);
  }

  private notify(): void {
    this.version++;
    for (const l of this.listeners) l();
  }
}

function trim(points: { 0: number }[], now: number): void {
  let drop = 0;
  while (drop < points.length && (points[drop] as { 0: number })[0] < now - HISTORY_SECONDS) drop++;
  if (drop > 0) points.splice(0, drop);
}

export function sum(values: Record<string, number>): number {
  let n = 0;
  for (const v of Object.values(values)) n += v;
  return n;
}

export const live = new Live();
