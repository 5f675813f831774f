// Pure builders of OpsGenie Alert API v2 bodies (opsgenie/opsgenie-oas definitions/alert.yaml). The OAS has
// no lengths; every limit below is from the field table of docs.opsgenie.com/docs/alert-api
// (docs/providers.md, "OpsGenie create alert").
import type { Incident } from '../../domain/incident.js';
import type { OpsgenieResponder } from '../spec.js';
import { budgetDetails, truncateText } from '../truncate.js';
import type { OpsGeniePriority } from './config.js';

export const OPSGENIE_LIMITS = {
  message: 130,
  alias: 512,
  description: 15_000,
  responders: 50,
  tags: 20,
  tagChars: 50,
  /** "8000 characters in total": counted as the sum of key and value lengths (the docs do not say). */
  detailsTotalChars: 8_000,
  entity: 512,
  source: 100,
  user: 100,
  note: 25_000,
} as const;

/** Who the sidecar is in OpsGenie's `user` and `source` fields. */
export const ACTOR = 'incident-router';

export type Recipient =
  | { type: OpsgenieResponder['type']; id: string }
  | { type: 'team' | 'escalation' | 'schedule'; name: string }
  | { type: 'user'; username: string };

export interface CreateAlertBody {
  message: string;
  alias: string;
  description: string;
  responders: Recipient[];
  tags: string[];
  details: Record<string, string>;
  entity: string;
  source: string;
  priority: OpsGeniePriority;
  note?: string;
}

export interface ActionBody {
  user: string;
  source: string;
  note: string;
}

export interface CreateInput {
  incident: Incident;
  responders: readonly OpsgenieResponder[];
  priority: OpsGeniePriority;
  incidentUrl: string;
  note: string | null;
}

/** The alert's alias, the same on create and on every later action: the incident's provider key. */
export function aliasOf(incident: Incident): string {
  return truncateText(incident.provider_key, OPSGENIE_LIMITS.alias);
}

export function buildCreateAlert({
  incident,
  responders,
  priority,
  incidentUrl,
  note,
}: CreateInput): CreateAlertBody {
  const title = incident.title.trim() === '' ? incident.fingerprint : incident.title;
  return {
    message: truncateText(title, OPSGENIE_LIMITS.message),
    alias: aliasOf(incident),
    description: description(incident, incidentUrl),
    responders: recipients(responders),
    tags: tags(incident),
    details: budgetDetails(details(incident), OPSGENIE_LIMITS.detailsTotalChars),
    entity: truncateText(incident.service, OPSGENIE_LIMITS.entity),
    source: truncateText(ACTOR, OPSGENIE_LIMITS.source),
    priority,
    ...(note === null || note.trim() === '' ? {} : { note: truncateText(note, OPSGENIE_LIMITS.note) }),
  };
}

/** The event message, then the facts a responder needs; the message is cut so the facts always survive. */
function description(incident: Incident, incidentUrl: string): string {
  const facts = [
    `Service: ${incident.service}`,
    `Team: ${incident.team}`,
    `Fingerprint: ${incident.fingerprint}`,
    `Occurrences: ${incident.occurrences}`,
    `Incident: ${incidentUrl}`,
  ].join('\n');
  const room = OPSGENIE_LIMITS.description - facts.length - 2;
  const message = room > 0 ? truncateText(incident.event.message, room) : '';
  const text = message === '' ? facts : `${message}\n\n${facts}`;
  return truncateText(text, OPSGENIE_LIMITS.description);
}

/** Exactly one identifier each, as the API takes them (id wins); at most 50. */
function recipients(responders: readonly OpsgenieResponder[]): Recipient[] {
  const out: Recipient[] = [];
  for (const r of responders) {
    if (r.id !== undefined && r.id !== '') out.push({ type: r.type, id: r.id });
    else if (r.type === 'user' && r.username !== undefined && r.username !== '')
      out.push({ type: 'user', username: r.username });
    else if (r.type !== 'user' && r.name !== undefined && r.name !== '')
      out.push({ type: r.type, name: r.name });
  }
  return out.slice(0, OPSGENIE_LIMITS.responders);
}

/** service, team, severity, rule, criticality: each within 50 characters, no duplicates, at most 20. */
function tags(incident: Incident): string[] {
  const all = [incident.service, incident.team, incident.severity, incident.rule, incident.criticality]
    .map((tag) => truncateText(tag.trim(), OPSGENIE_LIMITS.tagChars))
    .filter((tag) => tag !== '');
  return [...new Set(all)].slice(0, OPSGENIE_LIMITS.tags);
}

/** String to string, most important first (budgetDetails cuts from the end); attributes one key each. */
function details(incident: Incident): Record<string, string> {
  const { event } = incident;
  const optional = (key: string, value: string | null): Record<string, string> =>
    value === null || value === '' ? {} : { [key]: value };
  const attributes = Object.entries(event.attributes ?? {}).map(([key, value]) => [
    `attributes.${key}`,
    typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)),
  ]);
  return {
    incident_id: incident.id,
    correlation_id: incident.correlation_id,
    fingerprint: incident.fingerprint,
    service: incident.service,
    team: incident.team,
    severity: incident.severity,
    criticality: incident.criticality,
    rule: incident.rule,
    occurrences: String(incident.occurrences),
    policy_version: incident.policy.version,
    ...optional('source', event.source),
    ...optional('host', event.host),
    ...optional('trace_id', event.trace_id),
    ...Object.fromEntries(attributes),
  };
}

/** Acknowledge and close take an optional `{user, source, note}`; we always say who and why. */
export function buildActionBody(note: string): ActionBody {
  return {
    user: truncateText(ACTOR, OPSGENIE_LIMITS.user),
    source: truncateText(ACTOR, OPSGENIE_LIMITS.source),
    note: truncateText(note, OPSGENIE_LIMITS.note),
  };
}

/**
 * Add responder (`POST /v2/alerts/{alias}/responders`): one recipient per request, as the API takes
 * it (opsgenie-oas definitions/alert.yaml, AddResponderToAlertPayload); none when it names no one.
 */
export function buildAddResponderBodies(
  responders: readonly OpsgenieResponder[],
  note: string,
): (ActionBody & { responder: Recipient })[] {
  return recipients(responders).map((responder) => ({ ...buildActionBody(note), responder }));
}

/** Add note: `note` is required and must not be blank. */
export function buildNoteBody(note: string): ActionBody {
  return buildActionBody(note);
}
