// An incident's escalation (docs/policy-language.md, "Escalations"): the plan of the policy
// revision that opened it, kept on the incident so a reload never re-plans it, and its durable
// timer: which tier fires next and when (docs/architecture.md, "Escalation timers").
import type { DeliveryMode, RouteChoice } from './decision.js';

export interface EscalationResponder {
  type: 'team' | 'user' | 'escalation' | 'schedule';
  id?: string;
  name?: string;
  username?: string;
}

/** Exactly one key; `person` and `schedule` are resolved when the tier fires. */
export type EscalationTarget =
  | { person: string }
  | { schedule: string }
  | { pagerduty: { routing_key: string } }
  | { opsgenie: { responders: EscalationResponder[] } }
  | { webhook: { url: string } };

export interface EscalationTier {
  /** Time without acknowledgement since the round began; 0 for the first tier. */
  after_ms: number;
  targets: EscalationTarget[];
  /** The tier's own `deliver`, or the route's. */
  deliver: { mode: DeliveryMode; providers: string[] };
}

export interface EscalationPlan {
  /** The escalation policy's name. */
  name: string;
  /** The route that named it: its deliveries carry its name; nobody reachable → its own deliver. */
  route: RouteChoice;
  tiers: EscalationTier[];
  repeat: { times: number; after_ms: number } | null;
  ack_timeout_ms: number | null;
}

/** What the timer does when it falls due. */
export type EscalationDue = 'tier' | 'ack_timeout';

export interface IncidentEscalation {
  plan: EscalationPlan;
  /** Index of the tier the timer fires next (0-based). */
  next_tier: number;
  /** Repeats begun so far (0 in the first round). */
  round: number;
  /** When the current round began (opened, or triggered again), epoch ms. */
  started_at: number;
  /** When the timer fires, epoch ms; null: stopped (acknowledged, resolved, or every tier fired). */
  due_at: number | null;
  /** What fires at `due_at` (null with it). */
  due: EscalationDue | null;
  /** The last tier fired, 1-based (0: none yet). */
  fired_tier: number;
}

/**
 * When an incident's timer fires, or null when none is pending: its escalation's next step, or
 * while it is held open by flap damping, its release (docs/policy-language.md, "Flap damping"),
 * which comes first (a held incident's escalation starts when it is released).
 */
export function escalationDueOf(incident: {
  state?: string;
  escalation?: IncidentEscalation;
  flap?: { release_at: number | null };
}): number | null {
  const release = incident.state === 'resolved' ? null : (incident.flap?.release_at ?? null);
  return release ?? incident.escalation?.due_at ?? null;
}
