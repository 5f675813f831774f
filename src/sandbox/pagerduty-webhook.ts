// PagerDuty Webhooks V3 bodies, shaped as PagerDuty documents them (docs/providers.md,
// "PagerDuty webhook events"): one event per delivery,
// `{event: {id, event_type, resource_type, occurred_at, agent, client, data}}`, `data` an incident
// (`type: "incident"`, `incident_key` = the Events API dedup_key) or, for `incident.annotated`, an
// `incident_note`. Object links point at the simulator itself, so a human can follow them.
import { createHash } from 'node:crypto';
import { maskSecret } from '../domain/secrets.js';
import { uuid } from './ids.js';
import type { PagerDutyIncident, PagerDutyUiAction } from './pagerduty-incidents.js';

export type PagerDutyWebhookEventType =
  | 'incident.triggered'
  | 'incident.acknowledged'
  | 'incident.unacknowledged'
  | 'incident.resolved'
  | 'incident.reopened'
  | 'incident.escalated'
  | 'incident.annotated';

export const UI_EVENT_TYPES: Readonly<Record<PagerDutyUiAction, PagerDutyWebhookEventType>> = {
  acknowledge: 'incident.acknowledged',
  unacknowledge: 'incident.unacknowledged',
  resolve: 'incident.resolved',
  reopen: 'incident.reopened',
  escalate: 'incident.escalated',
  annotate: 'incident.annotated',
};

/** A resource reference as V3 `agent` carries it. */
export interface Reference {
  id: string;
  type: string;
  summary: string;
  self: string;
  html_url: string;
}

export interface WebhookEventInput {
  eventType: PagerDutyWebhookEventType;
  incident: PagerDutyIncident;
  agent: Reference | null;
  client: { name: string } | null;
  occurredAt: string;
  /** The simulator's base URL. */
  baseUrl: string;
}

function reference(baseUrl: string, kind: string, id: string, type: string, summary: string): Reference {
  const self = `${baseUrl}/__sim/${kind}/${id}`;
  return { id, type, summary, self, html_url: self };
}

/** The human who acts in the UI of a sandbox account. */
export function sandboxUser(baseUrl: string): Reference {
  return reference(baseUrl, 'users', 'PSBXUSR', 'user_reference', 'Sandbox Responder');
}

/** The Events API v2 integration an API action came through (a service's inbound integration). */
export function integrationAgent(baseUrl: string, routingKey: string): Reference {
  const id = `P${stableSuffix(`integration:${routingKey}`)}`;
  return reference(baseUrl, 'integrations', id, 'inbound_integration_reference', 'Events API v2');
}

function service(baseUrl: string, routingKey: string): Reference {
  const id = `P${stableSuffix(`service:${routingKey}`)}`;
  return reference(
    baseUrl,
    'services',
    id,
    'service_reference',
    `Sandbox service (key ${maskSecret(routingKey)})`,
  );
}

// Every webhook names its service and integration: two hashes each, of a handful of routing keys.
const suffixes = new Map<string, string>();
const MAX_SUFFIXES = 1_000;

/** Six upper-case alphanumerics derived from a seed: one routing key is always the same service. */
function stableSuffix(seed: string): string {
  let suffix = suffixes.get(seed);
  if (suffix === undefined) {
    suffix = createHash('sha256').update(seed).digest('hex').slice(0, 6).toUpperCase();
    if (suffixes.size >= MAX_SUFFIXES) suffixes.clear();
    suffixes.set(seed, suffix);
  }
  return suffix;
}

export function incidentData(incident: PagerDutyIncident, baseUrl: string): Record<string, unknown> {
  const self = `${baseUrl}/__sim/incidents/${incident.id}`;
  return {
    id: incident.id,
    type: 'incident',
    self,
    html_url: self,
    number: incident.number,
    status: incident.status,
    incident_key: incident.dedupKey,
    created_at: incident.createdAt,
    ...(incident.reopenedAt === null ? {} : { reopened_at: incident.reopenedAt }),
    title: incident.title,
    service: service(baseUrl, incident.routingKey),
    assignees: incident.status === 'resolved' ? [] : [sandboxUser(baseUrl)],
    escalation_policy: reference(
      baseUrl,
      'escalation_policies',
      'PSBXEP1',
      'escalation_policy_reference',
      'Default',
    ),
    teams: [],
    priority: null,
    urgency: incident.urgency,
    conference_bridge: null,
    resolve_reason: null,
  };
}

function noteData(incident: PagerDutyIncident, baseUrl: string): Record<string, unknown> {
  const note = incident.notes.at(-1);
  const self = `${baseUrl}/__sim/incidents/${incident.id}`;
  return {
    incident: { id: incident.id, type: 'incident_reference', self, html_url: self },
    id: note?.id ?? '',
    content: note?.content ?? '',
    trimmed: false,
    type: 'incident_note',
  };
}

/** The exact bytes to send and sign. */
export function buildWebhookBody(input: WebhookEventInput): string {
  const data =
    input.eventType === 'incident.annotated'
      ? noteData(input.incident, input.baseUrl)
      : incidentData(input.incident, input.baseUrl);
  return JSON.stringify({
    event: {
      id: uuid(),
      event_type: input.eventType,
      resource_type: 'incident',
      occurred_at: input.occurredAt,
      agent: input.agent,
      client: input.client,
      data,
    },
  });
}
