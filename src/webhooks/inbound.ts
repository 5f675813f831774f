// What a provider's webhook says, once read: the shape both providers' readers produce and the
// inbox consumes. Provider-specific parsing lives in pagerduty.ts and opsgenie.ts.
import { createHash } from 'node:crypto';
import type { ProviderChange } from '../incidents/provider-events.js';

export type WebhookProvider = 'pagerduty' | 'opsgenie';

export interface InboundEvent {
  provider: WebhookProvider;
  /** PagerDuty `event_type`, OpsGenie `action`. */
  eventType: string;
  /** The provider's id of the event (PagerDuty `event.id`; OpsGenie has none: the dedup hash). */
  eventId: string;
  /** Replay key: PagerDuty the signed `event.id`, OpsGenie a hash of the event's identity. */
  dedupId: string;
  /** When it happened, by the provider's clock (epoch ms), or null. */
  occurredAtMs: number | null;
  /** Our provider key as the provider echoes it: PagerDuty `incident_key`, OpsGenie `alias`. */
  providerKey: string | null;
  /** The provider's own id of the incident: PagerDuty incident id, OpsGenie alert id. */
  externalId: string | null;
  /**
   * The event that created the provider's incident (PagerDuty `incident.triggered`, OpsGenie
   * `Create`): the one event that can arrive before our record of the trigger that caused it.
   */
  creates: boolean;
  /**
   * When the provider's incident was created, by its clock (epoch ms), where the event says so apart
   * from its own time (OpsGenie `Create`: `createdAt`, where `updatedAt` may be later). Matching
   * compares it with our incidents' openings (match.ts).
   */
  createdAtMs?: number | null;
  /** Who acted, as the provider names them. */
  actor: string;
  /** What it means for the incident; `instance` is the provider instance it was matched to. */
  change(instance: string): ProviderChange;
}

export type ReadResult =
  | { kind: 'event'; event: InboundEvent }
  /** Valid, but nothing for us (a ping, another resource, an event type we do not map). */
  | { kind: 'ignored'; eventType: string; reason: string }
  | { kind: 'invalid'; message: string };

const ID_TEXT = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/;

/** A provider-supplied id we may store and index (no separators, no control characters), or null. */
export function safeId(value: unknown): string | null {
  return typeof value === 'string' && ID_TEXT.test(value) ? value : null;
}

/** Text from a provider for the timeline: bounded, never undefined. */
export function text(value: unknown, maxChars: number): string | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  return value.length > maxChars ? `${value.slice(0, maxChars - 1)}…` : value;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short stable digest for keys built from provider data. */
export function digest(parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 40);
}
