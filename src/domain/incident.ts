import type { FlapDamping, PolicyStamp, RouteChoice } from './decision.js';
import type { EscalationResponder, IncidentEscalation } from './escalation.js';
import type { LogLevel } from './log-event.js';
import type { Severity } from './severity.js';

/**
 * triggered → acknowledged → resolved (resolved → triggered on reopen): docs/architecture.md,
 * "Incident states".
 */
export const INCIDENT_STATES = ['triggered', 'acknowledged', 'resolved'] as const;
export type IncidentState = (typeof INCIDENT_STATES)[number];

/** The event that opened an incident, as providers need to describe it. */
export interface IncidentEvent {
  timestamp: string;
  level: LogLevel;
  message: string;
  source: string | null;
  host: string | null;
  trace_id: string | null;
  attributes: Record<string, unknown> | null;
}

/**
 * A provider instance that holds (or is meant to hold) this incident. `routing_key` /
 * `api_key` are the credentials the trigger used; acknowledge and resolve must reuse them
 * (PagerDuty silently drops them otherwise: Events API v2 docs). Never shown unmasked.
 */
export interface ProviderHold {
  provider: string;
  type: 'pagerduty' | 'opsgenie' | 'webhook';
  /** The route (delivery group) that sent it there. */
  route: string;
  state: 'pending' | 'open' | 'acknowledged' | 'resolved' | 'failed';
  since: string;
  routing_key?: string;
  api_key?: string;
  url?: string;
  /** What the provider told us: PagerDuty dedup_key, OpsGenie requestId. */
  external_ref?: string;
  /** PagerDuty incident id learned from webhooks. */
  external_id?: string;
}

export interface Incident {
  id: string;
  correlation_id: string;
  fingerprint: string;
  provider_key: string;
  state: IncidentState;
  escalated: boolean;
  severity: Severity;
  title: string;
  service: string;
  team: string;
  criticality: string;
  rule: string;
  event: IncidentEvent;
  occurrences: number;
  opened_at: string;
  last_seen: string;
  acknowledged_at: string | null;
  resolved_at: string | null;
  /**
   * When it was resolved by a recovery line, that line's own time: failure lines no newer than it
   * are late and open nothing (docs/nats.md, "Ordering and backpressure"). Absent otherwise.
   */
  recovery_line_at?: string;
  policy: PolicyStamp;
  routes: RouteChoice[];
  holds: Record<string, ProviderHold>;
  /** A storm incident folds many alerts of one service (docs/architecture.md, "The flow of one event"). */
  storm: { folded: number } | null;
  /**
   * The escalation of the route that opened it, with its durable timer (docs/policy-language.md,
   * "Escalations"); absent when that route names none (and on incidents from before escalations).
   */
  escalation?: IncidentEscalation;
  /**
   * Flap damping of the route that opened it (docs/policy-language.md, "Flap damping"): the
   * fingerprint's recent re-triggers, carried from one incident of it to the next, and the hold.
   */
  flap?: IncidentFlap;
  /** Monotonic revision, bumped on every write. */
  revision: number;
}

export interface IncidentFlap {
  damping: FlapDamping;
  /** Opens of the fingerprint after a resolve within the window, epoch ms, oldest first (this one's included). */
  retriggers: number[];
  /** While held open: when it pages if still open (epoch ms); null when it paged or was never held. */
  release_at: number | null;
  /** When it was held, and when released (paged), epoch ms. */
  held_at: number | null;
  released_at: number | null;
}

export type DeliveryAction = 'trigger' | 'acknowledge' | 'resolve' | 'note';
export type DeliveryStatus = 'pending' | 'done' | 'superseded' | 'failed';

/**
 * One outbox entry: written before it is sent, marked done only after a 2xx (docs/architecture.md,
 * "The outbox").
 */
export interface Delivery {
  id: string;
  incident_id: string;
  /**
   * The incident's provider key. Deliveries are ordered per provider and key, not per incident:
   * a reopened fingerprint's new trigger must not overtake the previous incident's resolve.
   */
  provider_key: string;
  action: DeliveryAction;
  /** The route this trigger belongs to; follow-up actions carry the route of the hold they act on. */
  route: string;
  mode: 'all' | 'failover' | 'direct';
  /** Provider instances in order; `all` and `direct` deliveries have exactly one. */
  candidates: string[];
  current: number;
  status: DeliveryStatus;
  attempts: number;
  attempts_on_current: number;
  next_attempt_at: number;
  created_at: string;
  updated_at: string;
  done_at: string | null;
  /** Provider a sync action came from: never echoed back there. */
  origin: string | null;
  note: string | null;
  last_error: { provider: string; reason: string; status: number | null; message: string; at: string } | null;
  result: { provider: string; status: number; ref: string | null; latency_ms: number; at: string } | null;
  /** Whether every candidate has been exhausted at least once (`delivery_failed` recorded). */
  exhausted: boolean;
  /** Candidates that refused this delivery for good (4xx other than 408/429); skipped from then on. */
  refused: string[];
  /** An escalation tier's trigger: the tier (1-based) and, per candidate, whom it reaches. */
  tier?: number;
  targets?: Record<string, DeliveryTarget>;
  /** The hold a follow-up acts on (`incident.holds` key), when it is not the provider's own. */
  hold?: string;
}

/** Whom one escalation trigger reaches at one provider, instead of the provider's own setting. */
export interface DeliveryTarget {
  routing_key?: string;
  responders?: EscalationResponder[];
  url?: string;
}

export interface AuditEntry {
  incident_id: string;
  seq: number;
  at: string;
  type: string;
  actor: string;
  provider: string | null;
  source_event_id: string | null;
  policy_version: string;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * The time of the line that opened `incident`, epoch ms: its event's own timestamp, at most when it
 * opened (a publisher's fast clock counts as now); -Infinity when that does not parse. A recovery
 * line older than the newest failure line of an incident does not resolve it (docs/nats.md,
 * "Ordering and backpressure").
 */
export function openingLineMs(incident: Pick<Incident, 'event' | 'opened_at'>): number {
  const ms = Date.parse(incident.event.timestamp);
  return Number.isFinite(ms) ? Math.min(ms, Date.parse(incident.opened_at)) : -Infinity;
}
