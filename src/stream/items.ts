// What `GET /api/v1/stream` sends (docs/http-api.md, "GET /api/v1/stream"): every item has a
// `type`; a message (`event: batch`) carries a JSON array of them.
import type { BreakerKind } from '../deliver/breaker.js';
import type { HealthSource } from '../api/routes/health.js';
import type { LifecycleEvent } from '../incidents/lifecycle.js';
import type { ReloadOutcome } from '../policy/manager.js';

/** A lifecycle change, numbered: `id` is what `Last-Event-ID` resumes from. */
export type IncidentItem = { type: 'incident'; id: string } & LifecycleEvent;

export interface DeliveryItem {
  type: 'delivery';
  at: string;
  delivery_id: string;
  incident_id: string;
  action: string;
  provider: string;
  outcome: 'delivered' | 'retry' | 'failover' | 'exhausted' | 'refused';
  attempts: number;
  status: number | null;
  latency_ms: number | null;
  /** This attempt went to a provider that was not the delivery's first candidate. */
  failover: boolean;
  /** outcome `failover`: the provider it moves to. */
  to?: string;
  /** A failure's reason (`rate_limited`, `server_error`, …). */
  reason?: string;
}

export interface BreakerItem {
  type: 'breaker';
  at: string;
  provider: string;
  from: BreakerKind;
  to: BreakerKind;
}

export type PolicyItem = { type: 'policy' } & ReloadOutcome;

export interface HealthItem {
  type: 'health';
  at: string;
  providers: ReturnType<HealthSource['providers']>;
}

/** Totals since the process started, by label (drops, dead letters, events in, decisions). */
export interface CountersItem {
  type: 'counters';
  at: string;
  events_received: Record<string, number>;
  events_dropped: Record<string, number>;
  dead_letters: Record<string, number>;
  decisions: Record<string, number>;
}

/** Items of each type left out of this message because there were more than a message may carry. */
export interface FoldedItem {
  type: 'folded';
  counts: Partial<Record<FoldableItem['type'], number>>;
}

/** Items a storm may fold (counted, not sent); lifecycle changes are never folded. */
export type FoldableItem = DeliveryItem | BreakerItem | PolicyItem;

export type StreamItem = IncidentItem | FoldableItem | HealthItem | CountersItem | FoldedItem;
