// OpsGenie outgoing webhooks (docs.opsgenie.com/docs/callbacks, …/marid-alert-action-data;
// docs/providers.md, "OpsGenie webhooks"):
// `{source: {name, type}, alert: {alertId, alias, username, updatedAt, note?, owner?, …}, action, integrationId, integrationName}`.
// OpsGenie signs nothing and sends no delivery id; the token header is checked by the route, and
// replays are recognised by a hash of the event's identity. Action names beyond Create, Acknowledge,
// AddNote, AssignOwnership, Close, Delete (the callbacks page) come from OpsGenie's OEC scripts or the
// UI [unverified]; unknown actions are ignored.
import type { ProviderChange } from '../incidents/provider-events.js';
import { ACTOR } from '../providers/opsgenie/payload.js';
import { digest, isObject, safeId, text, type InboundEvent, type ReadResult } from './inbound.js';

const NOTE_CHARS = 4_000;

interface Context {
  alert: Record<string, unknown>;
  /** `in <instance> by <actor>`, for timeline messages. */
  by: string;
  actor: string;
  echo: boolean;
}

type Mapping = (c: Context) => ProviderChange;

const transition =
  (action: 'acknowledge' | 'unacknowledge' | 'resolve' | 'escalate', detail: string | null = null): Mapping =>
  ({ echo }) =>
    // Our own acknowledge or close coming back tells us nothing new: observed, never applied.
    echo && (action === 'acknowledge' || action === 'resolve')
      ? { kind: 'observe' }
      : { kind: 'transition', action, note: null, detail };

const timeline =
  (type: string, what: (c: Context) => string): Mapping =>
  (c) => ({ kind: 'timeline', type, message: what(c) });

const MAPPINGS: Readonly<Record<string, Mapping>> = {
  Create: () => ({ kind: 'observe' }),
  Acknowledge: transition('acknowledge'),
  UnAcknowledge: transition('unacknowledge'),
  Close: transition('resolve'),
  // A deleted alert pages nobody any more: resolved here, with the deletion on the timeline.
  Delete: transition('resolve', 'alert deleted'),
  Escalate: transition('escalate'),
  EscalateNext: transition('escalate'),
  AddNote: timeline('note', ({ alert, by }) => `note ${by}: ${text(alert['note'], NOTE_CHARS) ?? '(empty)'}`),
  AssignOwnership: timeline(
    'owner_changed',
    ({ alert, by }) => `ownership assigned to ${text(alert['owner'], 100) ?? '(nobody)'} ${by}`,
  ),
  TakeOwnership: timeline('owner_changed', ({ by, actor }) => `ownership taken ${by} (owner ${actor})`),
  AddResponder: timeline('responders_changed', ({ by }) => `responder added ${by}`),
  AddTeam: timeline('responders_changed', ({ by }) => `team added ${by}`),
  UpdatePriority: timeline(
    'priority_updated',
    ({ alert, by }) => `priority set to ${text(alert['priority'], 20) ?? '(unknown)'} ${by}`,
  ),
};

export function readOpsGenieWebhook(body: unknown): ReadResult {
  if (!isObject(body) || typeof body['action'] !== 'string' || !isObject(body['alert']))
    return { kind: 'invalid', message: 'expected an OpsGenie webhook {"action", "alert": {…}}' };
  const action = body['action'];
  const alert = body['alert'];
  // Own keys only: `constructor`, `toString` and friends are not event types.
  const mapping = Object.hasOwn(MAPPINGS, action) ? MAPPINGS[action] : undefined;
  if (mapping === undefined) return { kind: 'ignored', eventType: action, reason: 'action not mapped' };
  const source = isObject(body['source']) ? body['source'] : {};
  const actor = text(alert['username'], 100) ?? text(source['name'], 100) ?? 'OpsGenie';
  const echo = source['type'] === 'API' && (alert['username'] === ACTOR || source['name'] === ACTOR);
  // The identity of an alert action: the same values on a redelivery, different for any other action.
  const id = digest([
    action,
    alert['alertId'],
    alert['alias'],
    alert['updatedAt'],
    alert['note'],
    alert['owner'],
  ]);
  const inbound: InboundEvent = {
    provider: 'opsgenie',
    eventType: action,
    eventId: `opsgenie:${id}`,
    dedupId: `opsgenie:${id}`,
    occurredAtMs: epochMs(alert['updatedAt']),
    providerKey: safeId(alert['alias']),
    externalId: safeId(alert['alertId']),
    creates: action === 'Create',
    createdAtMs: action === 'Create' ? epochMs(alert['createdAt']) : null,
    actor,
    change: (instance) => mapping({ alert, by: `in ${instance} by ${actor}`, actor, echo }),
  };
  return { kind: 'event', event: inbound };
}

/**
 * `updatedAt` as epoch ms. Documented in nanoseconds (the docs' sample 1420452193166002000, beyond
 * 2^53: a JSON number keeps it to ~256 ns, plenty for ms); smaller magnitudes are read as µs, ms or s.
 */
export function epochMs(value: unknown): number | null {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d+$/.test(value)
        ? Number(value)
        : NaN;
  if (!Number.isFinite(n) || n <= 0) return null;
  if (n >= 1e17) return Math.floor(n / 1e6);
  if (n >= 1e14) return Math.floor(n / 1e3);
  if (n >= 1e11) return Math.floor(n);
  return Math.floor(n * 1000);
}
