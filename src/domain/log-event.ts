import type { Severity } from './severity.js';

/** Log levels accepted on input (docs/nats.md, "Input: log events"). */
export const LOG_LEVELS = [
  'trace',
  'debug',
  'info',
  'notice',
  'warn',
  'warning',
  'error',
  'fatal',
  'critical',
] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A validated log event (schemas/log-event.schema.json). */
export interface LogEvent {
  timestamp: string;
  service: string;
  level: LogLevel;
  message: string;
  source?: string;
  host?: string;
  trace_id?: string;
  attributes?: Record<string, unknown>;
}

/** The seed's alert shape accepted on POST /api/v1/alerts (schemas/alert.schema.json). */
export interface AlertInput {
  title: string;
  source: string;
  severity: Severity;
  service_name: string;
  description?: string;
  details?: Record<string, unknown>;
}

/**
 * What the pipeline decides on: a log event, plus the severity an alert arrived with. For log
 * events the initial severity comes from the policy's `settings.level_severity`.
 */
export interface PipelineInput {
  event: LogEvent;
  initialSeverity: Severity | null;
  /**
   * The event's JSON as it arrived (NATS), when known: the recent-events ring stores it rather
   * than serializing the event again (src/diff/recent/recent-events.ts).
   */
  text?: string;
  /** An alert the sidecar raises itself (a `coverage_gap`): classified by it, not by the policy. */
  builtIn?: BuiltInClassification;
}

/**
 * The classify stage's answer for an alert the sidecar raises itself: upgrade, suppress and route
 * rules still decide what becomes of it (docs/policy-language.md, "Coverage gaps").
 */
export interface BuiltInClassification {
  rule: string;
  severity: Severity;
  title: string;
  fingerprint: string;
  /** The fingerprint whose open incident this resolves (then `severity` is info), or null. */
  resolves: string | null;
}

// An alert carries a severity, not a level; the level is derived so that level-based rules and
// `level_severity` read sensibly for alerts too.
const LEVEL_OF_SEVERITY: Readonly<Record<Severity, LogLevel>> = {
  critical: 'critical',
  high: 'error',
  medium: 'warning',
  low: 'notice',
  info: 'info',
};

/** The seed's alert shape as a pipeline input: message = title, service = service_name. */
export function alertToInput(alert: AlertInput, receivedAt: Date): PipelineInput {
  const attributes: Record<string, unknown> = { ...(alert.details ?? {}) };
  if (alert.description !== undefined) attributes['description'] = alert.description;
  const event: LogEvent = {
    timestamp: receivedAt.toISOString(),
    service: alert.service_name,
    level: LEVEL_OF_SEVERITY[alert.severity],
    message: alert.title,
    source: alert.source,
    ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
  };
  return { event, initialSeverity: alert.severity };
}

export function eventToInput(event: LogEvent, text?: string): PipelineInput {
  return text === undefined ? { event, initialSeverity: null } : { event, initialSeverity: null, text };
}
