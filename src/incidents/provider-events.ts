// Changes that providers report about incidents (their webhooks), as the incident service applies
// them: what changed, who and when by the provider's clock, and what became of it. Pure helpers;
// the service does the I/O.
import type { Delivery, Incident, ProviderHold } from '../domain/incident.js';
import type { ProviderMark } from '../state/backend.js';
import type { IncidentAction } from './state-machine.js';

/** One event a provider instance reported about one of our incidents. */
export interface ProviderEvent {
  /** The provider instance it came from: the sync origin, never sent the change back. */
  provider: string;
  /** The provider's own event id (timeline `source_event_id`). */
  eventId: string;
  /** The replay key, marked in the batch that applies the event (null: not de-duplicated). */
  webhookId: string | null;
  /** When it happened by the provider's clock, epoch ms; null when the event carries no time. */
  occurredAtMs: number | null;
  /** The provider's own id of the incident (PagerDuty incident id, OpsGenie alert id). */
  externalId: string | null;
  /**
   * The provider type (`pagerduty`, `opsgenie`) when the event created the provider's incident
   * (PagerDuty `incident.triggered`, OpsGenie `Create`). Such an event can arrive before our record
   * of the trigger that made it, with no hold yet to learn the id: it is indexed all the same
   * (`learnExternalId`).
   */
  createdIn?: string | null;
  /** Who, as the provider names them (a user's name, an integration). */
  actor: string;
}

export type ProviderChange =
  /** A state change through the state machine; `detail` is added to the timeline message. */
  | { kind: 'transition'; action: IncidentAction; note: string | null; detail: string | null }
  /** A fact for the timeline only (note, reassignment, priority). */
  | { kind: 'timeline'; type: string; message: string; details?: Record<string, unknown> }
  /** Nothing to change or record (the provider confirms what we sent); refs are still learned. */
  | { kind: 'observe' };

export type ProviderEventResult =
  | { result: 'replay' }
  | { result: 'missing' }
  | { result: 'stale'; incident: Incident; reason: string }
  | { result: 'refused'; incident: Incident; reason: string }
  | { result: 'observed' | 'noted' | 'unchanged'; incident: Incident }
  | { result: 'applied'; incident: Incident; deliveries: Delivery[]; withdrawn: Delivery[] };

/**
 * Why a state change is stale, or null when it is not: it happened (provider's clock) before the
 * newest event already applied from the same provider instance. Providers deliver one incident's
 * events in order but retries and concurrent deliveries can reorder them (docs/providers.md,
 * "PagerDuty webhook delivery behaviour"); an older event must not undo a newer one. Notes are facts in
 * any order and never stale; events without a time cannot be judged and pass.
 */
export function staleReason(
  change: ProviderChange,
  event: ProviderEvent,
  mark: ProviderMark | undefined,
): string | null {
  if (change.kind !== 'transition' || event.occurredAtMs === null || mark === undefined) return null;
  if (event.occurredAtMs >= mark.at) return null;
  return `${change.action} from ${event.provider} happened at ${iso(event.occurredAtMs)}, before the last applied ${event.provider} event ${mark.event_id} at ${iso(mark.at)}`;
}

/** The mark to store after applying `event`, or null when the stored one is as new or newer. */
export function nextMark(event: ProviderEvent, mark: ProviderMark | undefined): ProviderMark | null {
  if (event.occurredAtMs === null || (mark !== undefined && mark.at >= event.occurredAtMs)) return null;
  return { at: event.occurredAtMs, event_id: event.eventId };
}

/**
 * Records the provider's id of the incident on the hold that reported it; returns the ref to index
 * (`<type>:<id>`) when it is new for this hold. The latest id wins on the hold; every id seen stays
 * indexed, so late events about an earlier provider incident still find ours. With no hold yet
 * (the event that created the provider's incident overtook our record of the trigger; with several
 * replicas another one records it), the ref is indexed without one (`createdIn`: the webhook's
 * type), and the hold learns the id from the next event, which finds this incident by it.
 */
export function learnExternalId(
  hold: ProviderHold | undefined,
  externalId: string | null,
  createdIn: string | null = null,
): string | null {
  if (externalId === null) return null;
  if (hold === undefined) return createdIn === null ? null : `${createdIn}:${externalId}`;
  if (hold.external_id === externalId) return null;
  hold.external_id = externalId;
  return `${hold.type}:${externalId}`;
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}
