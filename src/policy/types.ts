// The policy language (docs/policy-language.md) as TypeScript types. `PolicyDocument` is the merged,
// schema-valid content of the policy directory after `${ENV}` interpolation;
// `schemas/policy.schema.json` is its contract. Compiled forms live in compile.ts.
import type { DeliveryMode } from '../domain/decision.js';
import type { LogLevel } from '../domain/log-event.js';
import type { Severity } from '../domain/severity.js';
import type { DeliverySettings } from '../deliver/settings.js';
import type { ProviderSpec, TeamSpec } from '../providers/spec.js';
import type { CoverageCheckSettings, PersonSpec, ScheduleSpec } from '../oncall/spec.js';
import type { EscalationSpec } from '../escalation/spec.js';

// Owned by the folders that use them; re-exported for the policy's own modules.
export type { BreakerSettings, DeliverySettings, RetrySettings } from '../deliver/settings.js';
export type {
  OpsgenieProviderSpec,
  OpsgenieResponder,
  PagerDutyProviderSpec,
  ProviderSpec,
  ProviderType,
  RateLimit,
  TeamProviderOverride,
  TeamSpec,
  WebhookProviderSpec,
} from '../providers/spec.js';
export type {
  CoverageCheckSettings,
  LayerSpec,
  MemberSpec,
  OverrideSpec,
  PersonSpec,
  RotationSpec,
  ScheduleSpec,
} from '../oncall/spec.js';
export type { EscalationSpec, TargetSpec, TierSpec } from '../escalation/spec.js';

export const API_VERSION = 'incident-router/v1';

/** Facts a condition may read (docs/policy-language.md, "Facts"). */
export const FACTS = [
  'message',
  'level',
  'source',
  'service',
  'host',
  'trace_id',
  'attributes',
  'timestamp',
  'team',
  'criticality',
  'severity',
  'rule',
  'fingerprint',
  'now',
] as const;
export type FactName = (typeof FACTS)[number];

export const CRITICALITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Criticality = (typeof CRITICALITIES)[number];
/** Team and criticality of a service missing from the catalog. */
export const UNOWNED_TEAM = 'unowned';
export const UNKNOWN_CRITICALITY = 'unknown';

// --- conditions (json-rules-engine's shape) -------------------------------------------------
export interface LeafCondition {
  fact: FactName;
  operator: string;
  value: unknown;
  path?: string;
  params?: Record<string, unknown>;
  name?: string;
  priority?: number;
}
export interface AllCondition {
  all: Condition[];
  name?: string;
  priority?: number;
}
export interface AnyCondition {
  any: Condition[];
  name?: string;
  priority?: number;
}
export interface NotCondition {
  not: Condition;
  name?: string;
  priority?: number;
}
export interface ConditionReference {
  condition: string;
  name?: string;
  priority?: number;
}
export type Condition = LeafCondition | AllCondition | AnyCondition | NotCondition | ConditionReference;
/** A rule's `when`: json-rules-engine requires a boolean node (all/any/not/condition) at the top. */
export type TopCondition = AllCondition | AnyCondition | NotCondition | ConditionReference;

// --- settings ---------------------------------------------------------------------------------
export interface StormSettings {
  max_new_incidents: number;
  /** Duration text, e.g. "1m". */
  window: string;
}
export interface Settings {
  timezone: string;
  storm: StormSettings;
  level_severity: Partial<Record<LogLevel, Severity>>;
  delivery: DeliverySettings;
  coverage_check: CoverageCheckSettings;
}

export interface ServiceSpec {
  team: string;
  criticality: Criticality;
  description?: string;
}

// --- time windows (Alertmanager time_interval syntax plus cron windows) ----------------------
export interface TimeRangeSpec {
  start_time: string;
  end_time: string;
}
export interface IntervalSpec {
  times?: TimeRangeSpec[];
  weekdays?: string[];
  /** Text like "1:5" or "-1", or a bare whole number as YAML reads `[15]`; likewise months and years. */
  days_of_month?: (string | number)[];
  months?: (string | number)[];
  years?: (string | number)[];
  location?: string;
}
export interface CronWindowSpec {
  cron: string;
  duration: string;
  location?: string;
}
export type TimeWindowEntry = IntervalSpec | CronWindowSpec;

// --- rules ------------------------------------------------------------------------------------
interface RuleBase {
  name: string;
  description?: string;
  priority?: number;
  when?: TopCondition;
}
export interface ClassifyRuleSpec extends RuleBase {
  severity?: Severity;
  title?: string;
  fingerprint?: string;
  /** Fingerprint template of the incident this event resolves. */
  resolve?: string;
  continue?: boolean;
}
export interface UpgradeRuleSpec extends RuleBase {
  when: TopCondition;
  severity: Severity;
}
export interface SuppressRuleSpec extends RuleBase {
  when: TopCondition;
  reason: string;
}
export interface RouteRuleSpec extends RuleBase {
  deliver: { mode: DeliveryMode; providers: string[] };
  continue?: boolean;
  /** The escalation policy of incidents this route opens (docs/policy-language.md, "Escalations"). */
  escalation?: string;
  /** Flap damping (docs/policy-language.md, "Flap damping"). */
  flap?: { max_repages: number; window: string; hold: string };
}

/** One policy file as written (before merge). Every key but apiVersion is optional per file. */
export interface PolicyFileDocument {
  apiVersion: typeof API_VERSION;
  version?: string;
  settings?: Partial<Settings>;
  providers?: Record<string, ProviderSpec>;
  time_windows?: Record<string, TimeWindowEntry[]>;
  teams?: Record<string, TeamSpec>;
  services?: Record<string, ServiceSpec>;
  conditions?: Record<string, TopCondition>;
  classify?: ClassifyRuleSpec[];
  upgrade?: UpgradeRuleSpec[];
  suppress?: SuppressRuleSpec[];
  routes?: RouteRuleSpec[];
  people?: Record<string, PersonSpec>;
  schedules?: Record<string, ScheduleSpec>;
  escalations?: Record<string, EscalationSpec>;
}

export const RULE_SECTIONS = ['classify', 'upgrade', 'suppress', 'routes'] as const;
export type RuleSection = (typeof RULE_SECTIONS)[number];
export const MAP_SECTIONS = [
  'providers',
  'time_windows',
  'teams',
  'services',
  'conditions',
  'people',
  'schedules',
  'escalations',
] as const;
export type MapSection = (typeof MAP_SECTIONS)[number];

/** Where a merged item came from, so later checks can report `file:line:col`. */
export interface SourceRef {
  file: string;
  /** Path inside that file's document, e.g. ['classify', 2, 'when']. */
  path: (string | number)[];
}

/** The merged policy: defaults applied, rule lists ordered by priority, then file name, then position. */
export interface PolicyDocument {
  version: string;
  settings: Settings;
  providers: Record<string, ProviderSpec>;
  time_windows: Record<string, TimeWindowEntry[]>;
  teams: Record<string, TeamSpec>;
  services: Record<string, ServiceSpec>;
  conditions: Record<string, TopCondition>;
  classify: ClassifyRuleSpec[];
  upgrade: UpgradeRuleSpec[];
  suppress: SuppressRuleSpec[];
  routes: RouteRuleSpec[];
  people: Record<string, PersonSpec>;
  schedules: Record<string, ScheduleSpec>;
  escalations: Record<string, EscalationSpec>;
}

export interface PolicyFileInfo {
  name: string;
  sha256: string;
}
