// The PagerDuty Events API v2's own checks, hand-written from the vendor's docs and its observed error
// strings — deliberately NOT our JSON Schemas, so the sidecar is tested against a second, independent
// encoding of the contract. Sources: PagerDuty's Trigger Events docs (limits; docs/providers.md,
// "PagerDuty limits"), api-schema reference/events-v2/openapiv3.json (fields, enums), observed 400
// bodies cited per message.
import { isPlainObject } from './json.js';

/** Trigger Events: "routing_key … 32 characters"; observed errors (below) say alphanumeric. */
export const ROUTING_KEY_LENGTH = 32;
/** Trigger Events: dedup_key "Maximum of 255 characters". */
export const MAX_DEDUP_KEY_CHARS = 255;
/** Trigger Events: summary "Maximum of 1024 characters". */
export const MAX_SUMMARY_CHARS = 1024;
/** Overview, "Size Limits": "Events API payloads are limited to 512 KB". KB is ambiguous (512 000 or
 *  524 288 bytes); the simulator takes the stricter reading, the same cap the sidecar enforces. */
export const MAX_EVENT_BYTES = 512_000;

/** openapiv3.json `Payload.severity` enum. */
export const PAGERDUTY_SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type PagerDutySeverity = (typeof PAGERDUTY_SEVERITIES)[number];
export const PAGERDUTY_ACTIONS = ['trigger', 'acknowledge', 'resolve'] as const;
export type PagerDutyAction = (typeof PAGERDUTY_ACTIONS)[number];

export interface PagerDutyTrigger {
  action: 'trigger';
  routingKey: string;
  dedupKey: string | undefined;
  summary: string;
  source: string;
  severity: PagerDutySeverity;
}
export interface PagerDutyStatusChange {
  action: 'acknowledge' | 'resolve';
  routingKey: string;
  dedupKey: string;
}
export type PagerDutyEvent = PagerDutyTrigger | PagerDutyStatusChange;

export type EventCheck = { ok: true; event: PagerDutyEvent } | { ok: false; errors: string[] };

function isFilled(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

// Observed: envato/pagerduty#70 (length), blockpane/tenderduty#10 (both, in this order).
function checkRoutingKey(value: unknown, errors: string[]): void {
  if (!isFilled(value)) return void errors.push("'routing_key' is missing or blank");
  if (value.length !== ROUTING_KEY_LENGTH)
    errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  if (!/^[A-Za-z0-9]*$/.test(value)) errors.push("'routing_key' cannot contain non-alphanumeric characters.");
}

// Limits are counted in UTF-16 code units: the vendor does not say which unit, and this is the stricter
// reading for JavaScript strings (never fewer than code points).
function checkDedupKey(value: unknown, action: unknown, errors: string[]): void {
  if (value === undefined || value === null) {
    // openapiv3.json: dedup_key is "Required unless the event_type is trigger". Wording [unverified].
    if (action === 'acknowledge' || action === 'resolve') errors.push("'dedup_key' is missing or blank");
    return;
  }
  if (typeof value !== 'string') return void errors.push("'dedup_key' must be a string");
  // Same template as the observed summary message, typo included [unverified for dedup_key].
  if (value.length > MAX_DEDUP_KEY_CHARS) errors.push("'dedup_key' is too long (maiximum is 255 characters)");
}

function checkPayload(payload: unknown, errors: string[]): void {
  if (!isPlainObject(payload)) return void errors.push("'payload' is missing or blank");
  // Observed wording for a missing field: "'payload.severity' is missing or blank" (SigNoz/signoz#9536).
  if (!isFilled(payload['summary'])) errors.push("'payload.summary' is missing or blank");
  // Observed, typo and all (livepeer/stream-tester#354).
  else if (payload['summary'].length > MAX_SUMMARY_CHARS)
    errors.push("'summary' is too long (maiximum is 1024 characters)");
  if (!isFilled(payload['source'])) errors.push("'payload.source' is missing or blank");
  const severity = payload['severity'];
  if (!isFilled(severity)) errors.push("'payload.severity' is missing or blank");
  else if (!(PAGERDUTY_SEVERITIES as readonly string[]).includes(severity)) {
    errors.push("'payload.severity' is invalid (must be one of: critical, error, warning, info)"); // wording [unverified]
  }
  const timestamp = payload['timestamp'];
  if (timestamp !== undefined && !isIsoTimestamp(timestamp)) errors.push("'payload.timestamp' is invalid"); // [unverified]
}

/** ISO 8601 as PagerDuty shows it (`2015-07-17T08:42:58.315+0000`) or RFC 3339. */
function isIsoTimestamp(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.exec(value);
  return iso !== null && !Number.isNaN(Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')));
}

export function checkEvent(body: Record<string, unknown>): EventCheck {
  const errors: string[] = [];
  checkRoutingKey(body['routing_key'], errors);
  const action = body['event_action'];
  if (!isFilled(action)) errors.push("'event_action' is missing or blank");
  else if (!(PAGERDUTY_ACTIONS as readonly string[]).includes(action)) {
    errors.push("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)"); // wording [unverified]
  }
  checkDedupKey(body['dedup_key'], action, errors);
  if (action === 'trigger') checkPayload(body['payload'], errors);
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, event: toEvent(body) };
}

function toEvent(body: Record<string, unknown>): PagerDutyEvent {
  const routingKey = body['routing_key'] as string;
  const dedupKey = body['dedup_key'] as string | undefined;
  const action = body['event_action'] as PagerDutyAction;
  if (action !== 'trigger') return { action, routingKey, dedupKey: dedupKey as string };
  const payload = body['payload'] as Record<string, string>;
  return {
    action,
    routingKey,
    dedupKey,
    summary: payload['summary'] as string,
    source: payload['source'] as string,
    severity: payload['severity'] as PagerDutySeverity,
  };
}
