// On-call schedules as the rest of the service sees them (docs/policy-language.md, "On-call
// schedules"): people, and schedules compiled from the policy's `schedules:` section. Every
// instant is epoch milliseconds; every interval is half-open, [startMs, endMs).

/** A person who can be on call, with how each provider reaches them. */
export interface Person {
  name: string;
  opsgenie?: { username?: string; id?: string };
  pagerduty?: { routing_key?: string };
}

/**
 * Who holds one layer at an instant, counted from the rotation's start. `turn` is -1 before the
 * start (nobody: the layer has not begun). Each member of a rotation is a group of people on call
 * together; an empty group is an intended hole (nobody).
 */
export interface Rotation {
  readonly members: readonly (readonly string[])[];
  readonly startMs: number;
  /** The index of the hand-off in effect at `atMs` (0 from the start), -1 before the start. */
  turnAt(atMs: number): number;
  /** Every hand-off instant in [fromMs, toMs), ascending (the start counts as one). */
  handoffs(fromMs: number, toMs: number): number[];
}

/** Whether a layer may hold anyone at an instant, and where that answer can change. */
export interface Restriction {
  contains(atMs: number): boolean;
  /** Instants in [fromMs, toMs) at which `contains` may change, ascending. */
  boundaries(fromMs: number, toMs: number): number[];
}

export type LayerMode = 'add' | 'replace';

export interface CompiledLayer {
  readonly name: string;
  /** add: joins the layers above it; replace: hides them while it has someone. */
  readonly mode: LayerMode;
  readonly rotation: Rotation;
  /** null: no restriction, the layer is live at every instant of its rotation. */
  readonly restrict: Restriction | null;
}

export type OverrideAction =
  | { kind: 'add'; person: string }
  | { kind: 'remove'; person: string }
  | { kind: 'replace'; person: string; with: string };

export interface CompiledOverride {
  readonly startMs: number;
  readonly endMs: number;
  readonly action: OverrideAction;
  /** Only this layer's people are touched; null: the schedule's combined result. */
  readonly layer: string | null;
}

export interface CompiledSchedule {
  name: string;
  /** IANA zone of the schedule's wall-clock times. */
  timezone: string;
  /** Distinct people required at every instant; 0 turns the coverage check off for it. */
  minCoverage: number;
  /** Where the PagerDuty Events API can reach whoever is on call (its own service's escalation policy). */
  provider?: { pagerduty?: { routing_key?: string } };
  description?: string;
  readonly layers: readonly CompiledLayer[];
  readonly overrides: readonly CompiledOverride[];
  /** The name of a time window outside which holes do not count; null: they count always. */
  readonly coverageDuring: string | null;
}
