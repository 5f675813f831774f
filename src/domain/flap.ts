// Flap damping's pure part (docs/policy-language.md, "Flap damping"): what a new incident of a
// damped fingerprint inherits from the last one, and what a resolved one leaves behind.
import type { FlapDamping } from './decision.js';
import type { IncidentFlap } from './incident.js';

/** What a resolved incident leaves for the next one of its fingerprint. */
export interface FlapTrace {
  resolvedAtMs: number;
  retriggers: number[];
}

/** The flap state of a new incident of a fingerprint whose last incident left `previous`. */
export function flapOnOpen(
  previous: FlapTrace | undefined,
  damping: FlapDamping,
  nowMs: number,
): IncidentFlap {
  const since = nowMs - damping.window_ms;
  const retriggered = previous !== undefined && previous.resolvedAtMs > since;
  const retriggers = retriggered ? [...previous.retriggers.filter((t) => t > since), nowMs] : [];
  const held = retriggers.length > damping.max_repages;
  return {
    damping,
    retriggers,
    release_at: held ? nowMs + damping.hold_ms : null,
    held_at: held ? nowMs : null,
    released_at: null,
  };
}

/** What a resolved incident with damping leaves behind, or null. */
export function traceOf(incident: {
  state: string;
  resolved_at: string | null;
  flap?: IncidentFlap;
}): FlapTrace | null {
  if (incident.state !== 'resolved' || incident.flap === undefined || incident.resolved_at === null)
    return null;
  return { resolvedAtMs: Date.parse(incident.resolved_at), retriggers: incident.flap.retriggers };
}
