// The policy's `people:` and `schedules:` sections and `settings.coverage_check` as written
// (docs/policy-language.md, "On-call schedules"; schemas/policy.schema.json is their contract).
import type { Severity } from '../domain/severity.js';
import type { IntervalSpec } from '../policy/types.js';

export interface PersonSpec {
  description?: string;
  opsgenie?: { username?: string; id?: string };
  pagerduty?: { routing_key?: string };
}

/** A person, or people on call together; `[]` is an intended hole (nobody that turn). */
export type MemberSpec = string | string[];

export interface RotationSpec {
  members: MemberSpec[];
  /** Wall-clock time in the schedule's zone ("2026-01-05T09:00"), or an instant with an offset. */
  start: string;
  /** Hand-off every this much wall clock (`1w`, `1d`, `12h`); or `handoff.cron`. */
  every?: string;
  handoff?: { cron: string };
}

export interface LayerSpec {
  name: string;
  description?: string;
  mode?: 'add' | 'replace';
  rotation: RotationSpec;
  /** Alertmanager `time_interval` entries; `location` defaults to the schedule's zone. */
  restrict?: IntervalSpec[];
}

export interface OverrideSpec {
  start: string;
  end: string;
  add?: string;
  remove?: string;
  replace?: string;
  with?: string;
  layer?: string;
  reason?: string;
}

export interface ScheduleSpec {
  description?: string;
  timezone?: string;
  min_coverage?: number;
  coverage_during?: string;
  provider?: { pagerduty?: { routing_key?: string } };
  layers: LayerSpec[];
  overrides?: OverrideSpec[];
}

export interface CoverageCheckSettings {
  /** How often every schedule is checked (besides at load and on every policy change). */
  every: string;
  /** How far ahead of now a check looks. */
  horizon: string;
  /** The severity of a `coverage_gap` alert. */
  severity: Severity;
}
