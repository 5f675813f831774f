// Pure builders of PagerDuty Events API v2 bodies (PagerDuty/api-schema reference/events-v2/openapiv3.json;
// limits from PagerDuty's Trigger Events and Overview docs: docs/providers.md, "PagerDuty limits").
import type { Incident } from '../../domain/incident.js';
import { ELLIPSIS, jsonBytes, truncateBytes, truncateText, utf8Bytes } from '../truncate.js';
import type { PagerDutySeverity } from './config.js';

export const PAGERDUTY_LIMITS = {
  /** Trigger Events: summary "Maximum of 1024 characters". */
  summaryChars: 1024,
  /** Trigger Events: dedup_key "Maximum of 255 characters". */
  dedupKeyChars: 255,
  /** Overview: "Events API payloads are limited to 512 KB"; 512 000 is the stricter reading of KB. */
  eventBytes: 512_000,
} as const;

export const CLIENT_NAME = 'incident-router';

export interface PagerDutyPayload {
  summary: string;
  source: string;
  severity: PagerDutySeverity;
  timestamp: string;
  component?: string;
  group: string;
  class: string;
  custom_details: Record<string, unknown>;
}

export interface PagerDutyTrigger {
  routing_key: string;
  event_action: 'trigger';
  dedup_key: string;
  payload: PagerDutyPayload;
  client: string;
  client_url?: string;
}

export interface PagerDutyStatusChange {
  routing_key: string;
  event_action: 'acknowledge' | 'resolve';
  dedup_key: string;
}

export type PagerDutyEvent = PagerDutyTrigger | PagerDutyStatusChange;

export interface TriggerInput {
  incident: Incident;
  routingKey: string;
  severity: PagerDutySeverity;
  incidentUrl: string;
}

function filled(text: string | null): text is string {
  return text !== null && text.trim() !== '';
}

/** The incident's dedup key, the same on every event: its provider key. */
export function dedupKeyOf(incident: Incident): string {
  return truncateText(incident.provider_key, PAGERDUTY_LIMITS.dedupKeyChars);
}

/** A trigger event within every documented limit (see `fitEvent` for the whole-request cap). */
export function buildTrigger({
  incident,
  routingKey,
  severity,
  incidentUrl,
}: TriggerInput): PagerDutyTrigger {
  const { event } = incident;
  const payload: PagerDutyPayload = {
    summary: truncateText(
      filled(incident.title) ? incident.title : incident.fingerprint,
      PAGERDUTY_LIMITS.summaryChars,
    ),
    source: filled(event.host) ? event.host : incident.service,
    severity,
    timestamp: event.timestamp,
    ...(filled(event.source) ? { component: event.source } : {}),
    group: incident.service,
    class: incident.rule,
    custom_details: customDetails(incident),
  };
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKeyOf(incident),
    payload,
    client: CLIENT_NAME,
    client_url: incidentUrl,
  };
}

/** Most useful first; `fitEvent` drops the largest, whatever their place. */
function customDetails(incident: Incident): Record<string, unknown> {
  return {
    incident_id: incident.id,
    correlation_id: incident.correlation_id,
    fingerprint: incident.fingerprint,
    service: incident.service,
    team: incident.team,
    criticality: incident.criticality,
    occurrences: incident.occurrences,
    policy_version: incident.policy.version,
    ...(incident.event.trace_id === null ? {} : { trace_id: incident.event.trace_id }),
    message: incident.event.message,
    attributes: incident.event.attributes,
  };
}

/** Acknowledge and resolve carry only the key pair: the routing key must be the one that opened it. */
export function buildStatusChange(
  action: 'acknowledge' | 'resolve',
  incident: Incident,
  routingKey: string,
): PagerDutyStatusChange {
  return { routing_key: routingKey, event_action: action, dedup_key: dedupKeyOf(incident) };
}

/**
 * Keeps the serialised event within `maxBytes`, never refusing it: drops custom_details fields, largest
 * first, and records their names in `custom_details.dropped_fields`; then cuts the largest remaining strings.
 */
export function fitEvent(
  event: PagerDutyTrigger,
  maxBytes: number = PAGERDUTY_LIMITS.eventBytes,
): PagerDutyTrigger {
  if (jsonBytes(event) <= maxBytes) return event;
  const fitted = dropDetails(structuredClone(event), maxBytes);
  return jsonBytes(fitted) <= maxBytes ? fitted : cutStrings(fitted, maxBytes);
}

function dropDetails(event: PagerDutyTrigger, maxBytes: number): PagerDutyTrigger {
  const details = event.payload.custom_details;
  const bySize = Object.keys(details).sort((a, b) => jsonBytes(details[b]) - jsonBytes(details[a]));
  const dropped: string[] = [];
  for (const key of bySize) {
    if (jsonBytes(event) <= maxBytes) break;
    delete details[key];
    dropped.push(key);
    details['dropped_fields'] = dropped;
  }
  return event;
}

/** One string field of the event that may be shortened, and how to write it back. */
interface Slot {
  value: string;
  set(value: string): void;
  /** Cut below this many characters and the field goes (or, when required, is kept at this). */
  minChars: number;
}

function slots(event: PagerDutyTrigger): Slot[] {
  const p = event.payload;
  const details = p.custom_details;
  const detailSlots: Slot[] = Object.entries(details).flatMap(([key, value]) =>
    typeof value === 'string' ? [{ value, set: (v: string) => (details[key] = v), minChars: 0 }] : [],
  );
  return [
    { value: p.summary, set: (v) => (p.summary = v), minChars: 1 },
    { value: p.source, set: (v) => (p.source = v), minChars: 1 },
    { value: p.component ?? '', set: (v) => (p.component = v), minChars: 0 },
    { value: p.group, set: (v) => (p.group = v), minChars: 0 },
    { value: p.class, set: (v) => (p.class = v), minChars: 0 },
    // A URL cut short is no URL: it goes whole (the `set` of a too-small cut is to '').
    { value: event.client_url ?? '', set: (v) => (event.client_url = v), minChars: Infinity },
    ...detailSlots,
  ];
}

/** Shortens the largest string until the event fits; each round strictly shrinks the event. */
function cutStrings(event: PagerDutyTrigger, maxBytes: number): PagerDutyTrigger {
  for (let excess = jsonBytes(event) - maxBytes; excess > 0; excess = jsonBytes(event) - maxBytes) {
    const largest = slots(event).sort((a, b) => jsonBytes(b.value) - jsonBytes(a.value))[0];
    if (largest === undefined || largest.value === '') break;
    // JSON escapes make a string longer on the wire than in UTF-8: scale the cut by that ratio.
    const raw = utf8Bytes(largest.value);
    const wire = jsonBytes(largest.value) - 2;
    const target = Math.max(0, Math.floor(((wire - excess) * raw) / wire));
    const cut = truncateBytes(largest.value, target);
    const next = cut.length >= largest.minChars ? cut : largest.minChars === 1 ? ELLIPSIS : '';
    if (next === largest.value) break;
    largest.set(next);
  }
  if (event.payload.component === '') delete event.payload.component;
  if (event.client_url === '') delete event.client_url;
  return event;
}
