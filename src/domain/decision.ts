import type { LogLevel } from './log-event.js';
import type { Severity } from './severity.js';

export type Stage = 'classify' | 'upgrade' | 'suppress' | 'route';
export type DeliveryMode = 'failover' | 'all';

/** One rule as evaluated for one event: whether it matched, and why. */
export interface RuleTrace {
  name: string;
  matched: boolean;
  /** Why it did not match without running the engine (a necessary condition failed), or why it was not looked at. */
  reason?: string;
  /** json-rules-engine's evaluated condition tree (leaves carry factResult/result), when the engine ran it. */
  conditions?: unknown;
}

export interface StageTrace {
  stage: Stage;
  rules: RuleTrace[];
  /** Set when the whole stage was not evaluated, with the reason. */
  skipped?: string;
}

export interface PolicyStamp {
  version: string;
  revision: string;
}

export interface RouteChoice {
  name: string;
  mode: DeliveryMode;
  providers: string[];
  /** The escalation policy the route names (docs/policy-language.md, "Escalations"), if any. */
  escalation?: string;
  /** Its flap damping (docs/policy-language.md, "Flap damping"), if any. */
  flap?: FlapDamping;
}

/** Beyond `max_repages` re-triggers of one fingerprint within `window_ms`, a re-trigger is held `hold_ms`. */
export interface FlapDamping {
  max_repages: number;
  window_ms: number;
  hold_ms: number;
}

export interface Upgrade {
  rule: string;
  from: Severity;
  to: Severity;
}

export interface Suppression {
  /** The suppress rule's name, or `silence:<id>` for a silence made at run time. */
  rule: string;
  reason: string;
  /** The silence's id, when a silence suppressed it (docs/http-api.md, "Silences"). */
  silence?: string;
}

/** The full, explainable answer of `decide` (docs/http-api.md, "POST /api/v1/policy/dry-run"). */
export interface Decision {
  policy: PolicyStamp;
  at: string;
  service: string;
  level: LogLevel;
  team: string;
  criticality: string;
  classification: { rule: string; severity: Severity };
  upgrades: Upgrade[];
  severity: Severity;
  suppressed: boolean;
  suppressed_by: Suppression | null;
  paged: boolean;
  /** A classify rule matched with severity info: recorded for trends (alerts.recorded), never paged. */
  recorded: boolean;
  title: string;
  fingerprint: string;
  provider_key: string;
  /** The first matching route (null when nothing pages). */
  route: RouteChoice | null;
  /** Every matching route in order: the first, then those reached through `continue: true`. Each is its own delivery group. */
  routes: RouteChoice[];
  resolves: string | null;
  resolves_provider_key: string | null;
  incident: { open: boolean; id: string | null };
  trace: StageTrace[];
}

/**
 * A decision that changes nothing: not paged, not a resolve, neither recorded nor suppressed (both
 * publish `alerts.recorded`). Its outcome is `ignored` whatever the incident state, which only
 * fills the `incident` field.
 */
export function changesNothing(decision: Decision): boolean {
  return decision.resolves === null && !decision.paged && !decision.suppressed && !decision.recorded;
}
