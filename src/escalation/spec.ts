// The policy's `escalations:` section as written (docs/policy-language.md, "Escalations";
// schemas/policy.schema.json is its contract). Routes name one with `escalation: <name>`.
import type { DeliveryMode } from '../domain/decision.js';
import type { OpsgenieResponder } from '../providers/spec.js';

/** Exactly one key: who a tier reaches. `person` and `schedule` are resolved when the tier fires. */
export type TargetSpec =
  | { person: string }
  | { schedule: string }
  | { pagerduty: { routing_key: string } }
  | { opsgenie: { responders: OpsgenieResponder[] } }
  | { webhook: { url: string } };

export interface TierSpec {
  /** Time without acknowledgement since the incident was (re)triggered: `0m`, `15m`, … */
  after: string;
  description?: string;
  targets: TargetSpec[];
  /** Default: the route's own `deliver`. */
  deliver?: { mode: DeliveryMode; providers: string[] };
}

export interface EscalationSpec {
  description?: string;
  tiers: TierSpec[];
  /** After the last tier has waited `after`, start again at tier 1, `times` more times. */
  repeat?: { times: number; after: string };
  /** Acknowledged but not resolved for this long → triggered again, escalating from tier 1. */
  ack_timeout?: string;
}
