// Every provider webhook, once authenticated and read, goes through here: replay check, match to an
// incident and to the provider instance that sent it, then one call to the incident service, which
// applies the change, writes the replay mark in the same batch and queues the sync deliveries. The
// answer never waits for a delivery (PagerDuty expects a 2xx within 5 s: docs/providers.md,
// "PagerDuty webhook delivery behaviour").
import type { Clock } from '../domain/clock.js';
import type { Outbox } from '../deliver/outbox.js';
import type { Incidents } from '../incidents/incidents.js';
import type { ProviderEventResult } from '../incidents/provider-events.js';
import type { StateBackend } from '../state/backend.js';
import type { Logger } from '../telemetry/logger.js';
import type { InboundEvent, WebhookProvider } from './inbound.js';
import { findIncident, pickInstance, type ProviderTypes } from './match.js';
import type { WebhookResult, WebhookTelemetry } from './telemetry.js';
import type { UnmatchedWebhooks } from './unmatched.js';

export interface WebhookInboxDeps {
  incidents: Pick<Incidents, 'get' | 'applyProviderEvent'>;
  state: Pick<StateBackend, 'findByRef' | 'seenWebhook' | 'markWebhook'>;
  outbox: Outbox;
  /** Provider instances of the active policy (name → type). */
  providers(): ProviderTypes;
  unmatched: UnmatchedWebhooks;
  telemetry: WebhookTelemetry;
  clock: Clock;
  logger: Logger;
}

export interface InboxAnswer {
  status: 200 | 202;
  body: { result: WebhookResult; incident_id?: string; state?: string; reason?: string };
}

// PagerDuty retries a delivery for up to 48 h (docs/providers.md): ids are kept a day longer, and
// pruned by the retention janitor (src/state/retention.ts).
export const WEBHOOK_ID_RETENTION_MS = 72 * 3_600_000;
/** How far ahead of ours a provider's clock may run before its event time is not believed. */
const CLOCK_AHEAD_TOLERANCE_MS = 5 * 60_000;

export class WebhookInbox {
  /** Copies of one delivery in flight at once (a retry after a timeout) run one after another. */
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: WebhookInboxDeps) {}

  /** Whether `name` is a provider instance of this type in the active policy. */
  knowsInstance(provider: WebhookProvider, name: string): boolean {
    return this.deps.providers()[name]?.type === provider;
  }

  receive(received: InboundEvent, instance: string | null): Promise<InboxAnswer> {
    const event = this.withPlausibleTime(received);
    const previous = this.inFlight.get(event.dedupId) ?? Promise.resolve();
    const work = previous.catch(() => undefined).then(() => this.process(event, instance));
    this.inFlight.set(event.dedupId, work);
    void work
      .finally(() => {
        if (this.inFlight.get(event.dedupId) === work) this.inFlight.delete(event.dedupId);
      })
      .catch(() => undefined);
    return work;
  }

  private async process(event: InboundEvent, explicit: string | null): Promise<InboxAnswer> {
    const { state, incidents, telemetry } = this.deps;
    // Replays are rare: a matched webhook's replay is caught by the incident service (it checks
    // under the incident's lock anyway), an unmatched one's here, so the common path reads once.
    const finder = {
      incidentIdsByRef: (ref: string, limit = 20, fresh = false) => state.findByRef(ref, limit, fresh),
      get: (id: string) => incidents.get(id),
    };
    const tooOld = this.outsideReplayWindow(event);
    if (tooOld !== null) return tooOld;
    const incident = await findIncident(finder, event.provider, event.providerKey, event.externalId, {
      creates: event.creates,
      occurredAtMs: event.createdAtMs ?? event.occurredAtMs,
    });
    if (!incident)
      return (await state.seenWebhook(event.dedupId)) ? this.replay(event) : this.unmatched(event);
    const instance = pickInstance(
      incident,
      event.provider,
      event.externalId,
      explicit,
      this.deps.providers(),
    );
    const outcome = await incidents.applyProviderEvent(incident.id, event.change(instance), {
      provider: instance,
      eventId: event.eventId,
      webhookId: event.dedupId,
      occurredAtMs: event.occurredAtMs,
      externalId: event.externalId,
      createdIn: event.creates ? event.provider : null,
      actor: event.actor,
    });
    if (outcome.result === 'replay') return this.replay(event);
    if (outcome.result === 'missing') return this.unmatched(event);
    if (outcome.result === 'applied') {
      this.deps.outbox.withdraw(outcome.withdrawn);
      this.deps.outbox.enqueue(outcome.deliveries);
    }
    const fields = {
      event_type: event.eventType,
      event_id: event.eventId,
      instance,
      incident: incident.id,
      state: outcome.incident.state,
    };
    telemetry.handled(event.provider, outcome.result, fields, describe(event, instance, outcome));
    const reason = 'reason' in outcome ? { reason: outcome.reason } : {};
    return {
      status: 200,
      body: { result: outcome.result, incident_id: incident.id, state: outcome.incident.state, ...reason },
    };
  }

  /**
   * The provider's clock orders its events (an older one never undoes a newer one), so a time far in
   * the future, or past the last JavaScript date, would make every later event of that provider look
   * stale for good. Such a time is replaced by ours when it arrives, and logged.
   */
  private withPlausibleTime(event: InboundEvent): InboundEvent {
    const now = this.deps.clock.now();
    if (event.occurredAtMs === null || event.occurredAtMs <= now + CLOCK_AHEAD_TOLERANCE_MS) return event;
    this.deps.logger.warn(
      {
        event: 'webhook_time_ahead',
        provider: event.provider,
        event_type: event.eventType,
        occurred_at_ms: event.occurredAtMs,
      },
      `${event.provider} webhook ${event.eventType} is dated ${Math.round((event.occurredAtMs - now) / 60_000)} min ahead of our clock; ordered by its arrival instead`,
    );
    return { ...event, occurredAtMs: now };
  }

  /**
   * An event older than the replay marks are kept cannot be told from a replay of a captured body
   * (the marks of its first delivery are gone): refused, like a stale event. PagerDuty stops
   * retrying after 48 h (docs/providers.md, "PagerDuty webhooks"), so nothing genuine is lost.
   */
  private outsideReplayWindow(event: InboundEvent): InboxAnswer | null {
    if (event.occurredAtMs === null) return null;
    const ageMs = this.deps.clock.now() - event.occurredAtMs;
    if (ageMs <= WEBHOOK_ID_RETENTION_MS) return null;
    const reason = `it happened ${Math.round(ageMs / 3_600_000)} h ago, beyond the ${WEBHOOK_ID_RETENTION_MS / 3_600_000} h replay window`;
    this.deps.telemetry.handled(
      event.provider,
      'stale',
      { event_type: event.eventType, event_id: event.eventId },
      `${event.provider} webhook ${event.eventType} ignored: ${reason}`,
    );
    return { status: 200, body: { result: 'stale', reason } };
  }

  private replay(event: InboundEvent): InboxAnswer {
    this.deps.telemetry.handled(
      event.provider,
      'replay',
      { event_type: event.eventType, event_id: event.eventId },
      `${event.provider} webhook ${event.dedupId} already processed; answered 200 again`,
    );
    return { status: 200, body: { result: 'replay' } };
  }

  private async unmatched(event: InboundEvent): Promise<InboxAnswer> {
    // Marked too, so a retry of it is a replay rather than a second unmatched record.
    if (!(await this.deps.state.markWebhook(event.dedupId))) return this.replay(event);
    this.deps.unmatched.add({
      at: new Date(this.deps.clock.now()).toISOString(),
      provider: event.provider,
      event_type: event.eventType,
      event_id: event.eventId,
      provider_key: event.providerKey,
      external_id: event.externalId,
    });
    this.deps.telemetry.handled(
      event.provider,
      'unmatched',
      {
        event_type: event.eventType,
        event_id: event.eventId,
        provider_key: event.providerKey,
        external_id: event.externalId,
      },
      `${event.provider} webhook ${event.eventType} matches no incident (key ${event.providerKey ?? 'none'}, ${event.provider} id ${event.externalId ?? 'none'}); recorded as unmatched`,
    );
    return { status: 202, body: { result: 'unmatched' } };
  }
}

function describe(
  event: InboundEvent,
  instance: string,
  outcome: Exclude<ProviderEventResult, { result: 'replay' | 'missing' }>,
): string {
  const head = `${event.eventType} from ${instance} on ${outcome.incident.id}`;
  switch (outcome.result) {
    case 'applied': {
      const sync = outcome.deliveries.map((d) => d.candidates[0]).join(', ');
      return `${head}: now ${outcome.incident.state}${sync ? `; syncing ${sync}` : ''}`;
    }
    case 'refused':
    case 'stale':
      return `${head} ignored (${outcome.result}): ${outcome.reason}`;
    default:
      return `${head}: ${outcome.result}`;
  }
}
