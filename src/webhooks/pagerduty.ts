// PagerDuty Webhooks V3 (docs/providers.md, "PagerDuty webhook events"): one event per
// delivery, `{event: {id, event_type, resource_type, occurred_at, agent, client, data}}`; `data` is
// the incident (`id`, `incident_key`, `status`, …) or, for `incident.annotated`, an incident_note
// (`{incident: {id}, content}`). Unknown event types must be accepted and ignored: PagerDuty adds
// new ones ("Additional event types may be added").
import type { ProviderChange } from '../incidents/provider-events.js';
import { digest, isObject, safeId, text, type InboundEvent, type ReadResult } from './inbound.js';

const NOTE_CHARS = 4_000;

interface Context {
  data: Record<string, unknown>;
  /** `in <instance> by <actor>`, for timeline messages. */
  by: string;
  echo: boolean;
}

type Mapping = (c: Context) => ProviderChange;

const transition =
  (action: 'acknowledge' | 'unacknowledge' | 'resolve' | 'reopen' | 'escalate'): Mapping =>
  ({ data, echo }) =>
    // Our own acknowledge or resolve coming back (it went through the Events API integration) tells
    // us nothing new: observed, never applied, so it cannot undo a later change from elsewhere.
    echo && (action === 'acknowledge' || action === 'resolve')
      ? { kind: 'observe' }
      : { kind: 'transition', action, note: null, detail: action === 'escalate' ? assigned(data) : null };

const MAPPINGS: Readonly<Record<string, Mapping>> = {
  'incident.triggered': () => ({ kind: 'observe' }),
  'incident.acknowledged': transition('acknowledge'),
  'incident.unacknowledged': transition('unacknowledge'),
  'incident.resolved': transition('resolve'),
  'incident.reopened': transition('reopen'),
  'incident.escalated': transition('escalate'),
  'incident.reassigned': ({ data, by }) => ({
    kind: 'timeline',
    type: 'reassigned',
    message: `reassigned ${by}${assigned(data) ? ` ${assigned(data)}` : ''}`,
  }),
  'incident.priority_updated': ({ data, by }) => {
    const priority = isObject(data['priority']) ? text(data['priority']['summary'], 100) : null;
    return {
      kind: 'timeline',
      type: 'priority_updated',
      message: `priority ${priority === null ? 'cleared' : `set to ${priority}`} ${by}`,
    };
  },
  'incident.annotated': ({ data, by }) => ({
    kind: 'timeline',
    type: 'note',
    message: `note ${by}: ${text(data['content'], NOTE_CHARS) ?? '(empty)'}`,
  }),
};

/**
 * Reads a parsed, authenticated body. The replay key is the event's own `id`, which the signature
 * covers, not the X-Webhook-Id header, which it does not: a captured body sent again under a fresh
 * header id is still the same event, and is applied once.
 */
export function readPagerDutyWebhook(body: unknown): ReadResult {
  const event = isObject(body) ? body['event'] : undefined;
  if (!isObject(event) || typeof event['id'] !== 'string' || typeof event['event_type'] !== 'string')
    return {
      kind: 'invalid',
      message: 'expected a PagerDuty V3 envelope {"event": {"id", "event_type", …}}',
    };
  const eventType = event['event_type'];
  if (eventType === 'pagey.ping') return { kind: 'ignored', eventType, reason: 'ping' };
  // Own keys only: `constructor`, `toString` and friends are not event types.
  const mapping = Object.hasOwn(MAPPINGS, eventType) ? MAPPINGS[eventType] : undefined;
  if (mapping === undefined) return { kind: 'ignored', eventType, reason: 'event type not mapped' };
  const data = isObject(event['data']) ? event['data'] : {};
  const agent = isObject(event['agent']) ? event['agent'] : null;
  const actor = text(agent?.['summary'], 100) ?? clientName(event['client']) ?? 'PagerDuty';
  // [unverified] PagerDuty names the Events API integration as the agent of changes made through it,
  // as the simulator does (PagerDuty's examples show only user agents: docs/providers.md,
  // "PagerDuty webhook events").
  const echo = agent?.['type'] === 'inbound_integration_reference';
  const occurred = typeof event['occurred_at'] === 'string' ? Date.parse(event['occurred_at']) : NaN;
  const inbound: InboundEvent = {
    provider: 'pagerduty',
    eventType,
    eventId: text(event['id'], 200) ?? '',
    dedupId: `pagerduty:event:${dedupPart(event['id'])}`,
    occurredAtMs: Number.isFinite(occurred) ? occurred : null,
    providerKey: safeId(data['incident_key']),
    // An incident_note names its incident in `data.incident`; every other event is the incident.
    externalId: safeId(isObject(data['incident']) ? data['incident']['id'] : data['id']),
    creates: eventType === 'incident.triggered',
    actor,
    change: (instance) => mapping({ data, by: `in ${instance} by ${actor}`, echo }),
  };
  return { kind: 'event', event: inbound };
}

function assigned(data: Record<string, unknown>): string | null {
  const assignees = Array.isArray(data['assignees']) ? data['assignees'] : [];
  const names = assignees
    .map((a) => (isObject(a) ? text(a['summary'], 100) : null))
    .filter((n) => n !== null);
  return names.length === 0 ? null : `to ${names.join(', ')}`;
}

function clientName(client: unknown): string | null {
  return isObject(client) ? text(client['name'], 100) : null;
}

/** Event ids are short; anything else long or odd is hashed into a key-safe form. */
function dedupPart(id: string): string {
  return safeId(id) ?? `h${digest([id])}`;
}
