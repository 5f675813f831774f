// The escalation timer as pure functions of the incident's escalation (docs/policy-language.md,
// "Escalations"): fire the tier that is due, stop on acknowledge or resolve, restart from tier 1
// when the incident is triggered again. The incident core writes what these return together with
// the deliveries in one change, so a tier advances exactly when its triggers are recorded.
import type { EscalationPlan, IncidentEscalation } from '../domain/escalation.js';
import { planTriggers, type NewDelivery } from '../deliver/plan.js';
import { tierTriggers, type ProviderTypeOf } from './deliveries.js';
import { reachOf, type Directory } from './reach.js';

export interface FireDeps {
  directory: Directory;
  typeOf: ProviderTypeOf;
}

export interface Fired {
  /** The tier fired, 1-based. */
  tier: number;
  deliveries: NewDelivery[];
  /** People reached through `person` and `schedule` targets. */
  people: string[];
  /** Tiers passed over because they reached nobody, each with why. */
  skipped: string[];
  /** Nobody was reachable from this tier on: the route's own providers were paged instead. */
  fallback: boolean;
  /** Schedules of the tiers looked at (skipped or fired) with nobody on call: coverage gaps now. */
  emptySchedules: string[];
  next: IncidentEscalation;
}

/** A new escalation whose first tier is due now (an incident opening). */
export function beginEscalation(plan: EscalationPlan, nowMs: number): IncidentEscalation {
  return { plan, next_tier: 0, round: 0, started_at: nowMs, due_at: nowMs, due: 'tier', fired_tier: 0 };
}

/**
 * Fires the tier that is due: the next tier that reaches anyone (a tier that reaches nobody is
 * skipped at once), or, when none of the rest of this round does, the route's own providers
 * (never dropped). Who is on call is asked at `nowMs`.
 */
export function fireTier(esc: IncidentEscalation, nowMs: number, deps: FireDeps): Fired {
  const { tiers, route } = esc.plan;
  const skipped: string[] = [];
  const emptySchedules = new Set<string>();
  for (let i = esc.next_tier; i < tiers.length; i++) {
    const tier = tiers[i] as EscalationTier;
    const reach = reachOf(tier.targets, nowMs, deps.directory);
    for (const name of reach.emptySchedules) emptySchedules.add(name);
    const deliveries = tierTriggers(tier, i + 1, reach, route.name, deps.typeOf);
    if (deliveries.length > 0) {
      // Reached someone (a provider that cannot address them gets its own setting).
      const note = reach.people.length > 0 ? `tier ${i + 1}: ${reach.people.join(', ')}` : null;
      return {
        tier: i + 1,
        deliveries: deliveries.map((d) => ({ ...d, note })),
        people: reach.people,
        skipped,
        fallback: false,
        emptySchedules: [...emptySchedules],
        next: advance(esc, i),
      };
    }
    const why = reach.skipped.length > 0 ? reach.skipped.join('; ') : 'none of its providers is defined';
    skipped.push(`tier ${i + 1}: ${why}`);
  }
  const tier = esc.next_tier + 1;
  const deliveries = planTriggers([route]).map((d) => ({ ...d, tier }));
  return {
    tier,
    deliveries,
    people: [],
    skipped,
    fallback: true,
    emptySchedules: [...emptySchedules],
    next: advance(esc, esc.next_tier),
  };
}

/** After tier `index` fired: the next tier, a repeat of the tiers, or nothing more. */
function advance(esc: IncidentEscalation, index: number): IncidentEscalation {
  const { tiers, repeat } = esc.plan;
  const fired = { ...esc, fired_tier: index + 1 };
  const following = tiers[index + 1];
  if (following !== undefined)
    return { ...fired, next_tier: index + 1, due_at: esc.started_at + following.after_ms, due: 'tier' };
  if (repeat !== null && esc.round < repeat.times) {
    const last = (tiers.at(-1) as EscalationTier).after_ms;
    const started = esc.started_at + last + repeat.after_ms;
    return {
      ...fired,
      next_tier: 0,
      round: esc.round + 1,
      started_at: started,
      due_at: started,
      due: 'tier',
    };
  }
  return { ...fired, due_at: null, due: null };
}

/** Acknowledged: no tier fires; with `ack_timeout`, the incident is triggered again after it. */
export function acknowledgedEscalation(esc: IncidentEscalation, nowMs: number): IncidentEscalation {
  const timeout = esc.plan.ack_timeout_ms;
  return timeout === null
    ? { ...esc, due_at: null, due: null }
    : { ...esc, due_at: nowMs + timeout, due: 'ack_timeout' };
}

/** Resolved: nothing more fires. */
export function stoppedEscalation(esc: IncidentEscalation): IncidentEscalation {
  return { ...esc, due_at: null, due: null };
}

/** Triggered again (un-acknowledged, reopened, acknowledgement timed out): from tier 1, now. */
export function restartedEscalation(esc: IncidentEscalation, nowMs: number): IncidentEscalation {
  return { ...esc, next_tier: 0, round: 0, started_at: nowMs, due_at: nowMs, due: 'tier' };
}

type EscalationTier = EscalationPlan['tiers'][number];
