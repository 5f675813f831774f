// What a delivery's outcome means for its incident: the outbox reports, this records it through the
// state backend. A delivered trigger makes the provider a holder of the incident (with the
// credentials follow-ups must reuse); a trigger that lands after the incident was acknowledged or
// resolved is followed at once by the matching action (returned: the outbox sends it next);
// failovers, exhausted providers and refusals are on the timeline.
import type { Clock } from '../domain/clock.js';
import type { Delivery, Incident, ProviderHold } from '../domain/incident.js';
import type { DeliveryHooks, FailureOutcome } from '../deliver/attempts.js';
import { holdKeyOf, newDelivery, type NewDelivery } from '../deliver/plan.js';
import type { ProviderError, ProviderRequest, ProviderResponse } from '../providers/provider.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { Change, StateBackend } from '../state/backend.js';
import type { Logger } from '../telemetry/logger.js';
import type { LifecycleBus } from './lifecycle.js';
import { audit, lifecycleEvent, type Actor } from './records.js';

const DISPATCHER: Actor = { actor: 'incident-router', source: 'pipeline' };

export interface DeliveryRecorderDeps {
  state: StateBackend;
  /** The incident with its live occurrence count (the incident core's view). */
  live(incident: Incident): Incident;
  providers(): ProviderRegistry;
  clock: Clock;
  lifecycle: LifecycleBus;
  logger: Logger;
  policyVersion(): string;
  incidentUrl(id: string): string;
  deliveryId(): string;
}

export class DeliveryRecorder implements DeliveryHooks {
  constructor(private readonly deps: DeliveryRecorderDeps) {}

  async request(delivery: Delivery, provider: string, known?: Incident): Promise<ProviderRequest | null> {
    const incident = known ?? (await this.deps.state.get(delivery.incident_id));
    if (!incident) return null;
    const current = this.deps.providers().get(provider).target(incident.team);
    let target = current;
    if (delivery.action === 'trigger') {
      // An escalation tier's own target (a person's PagerDuty key, OpsGenie responders, a URL).
      const own = delivery.targets?.[provider];
      if (own !== undefined) target = { ...current, ...own };
    } else {
      // Acknowledge and resolve must reuse the credentials that opened it: PagerDuty silently
      // drops them otherwise (Events API v2: same routing_key as the trigger).
      const hold = incident.holds[delivery.hold ?? provider];
      if (!hold) return null;
      target = {
        url: hold.url ?? current.url,
        ...(hold.routing_key ? { routing_key: hold.routing_key } : {}),
        ...(hold.api_key ? { api_key: hold.api_key } : {}),
      };
    }
    return {
      action: delivery.action,
      incident: this.deps.live(incident),
      target,
      note: delivery.note,
      incidentUrl: this.deps.incidentUrl(incident.id),
    };
  }

  /** Records the delivery and what it means for the incident; returns the follow-ups it made. */
  async delivered(
    delivery: Delivery,
    provider: string,
    response: ProviderResponse,
    request: ProviderRequest,
    latencyMs: number,
  ): Promise<Delivery[]> {
    const nowIso = new Date(this.deps.clock.now()).toISOString();
    delivery.done_at = nowIso;
    delivery.updated_at = nowIso;
    delivery.result = {
      provider,
      status: response.status,
      ref: response.ref,
      latency_ms: Math.round(latencyMs),
      at: nowIso,
    };
    const followUps = await this.deps.state.update(delivery.incident_id, {}, ({ incident }) => {
      const made = this.holdAfter(incident, delivery, provider, request, response, nowIso);
      const via =
        delivery.current > 0
          ? ` (failover from ${delivery.candidates.slice(0, delivery.current).join(', ')})`
          : '';
      const rekeyed =
        response.api_key === undefined
          ? ''
          : ' with the API key configured now (the key it was opened with was refused: HTTP 401)';
      const message = `${delivery.action} accepted by ${provider}${via}${rekeyed}: HTTP ${response.status} in ${Math.round(latencyMs)} ms after ${delivery.attempts} attempt(s)`;
      const entry = audit(incident, 'delivered', DISPATCHER, this.deps.policyVersion(), nowIso, message, {
        provider,
        details: { delivery_id: delivery.id, ref: response.ref, route: delivery.route },
      });
      const change: Change = { incident, deliveries: [delivery, ...made], audit: [entry], durable: true };
      return { change, result: made };
    });
    return followUps ?? [];
  }

  /** The hold a delivery leaves with its provider, and the catch-up a late trigger needs. */
  private holdAfter(
    incident: Incident,
    delivery: Delivery,
    provider: string,
    request: ProviderRequest,
    response: ProviderResponse,
    nowIso: string,
  ): Delivery[] {
    if (delivery.action === 'trigger') {
      const key = holdKeyOf(provider, delivery.targets?.[provider]);
      incident.holds[key] = this.hold(incident, delivery, provider, request, response, nowIso);
      return this.catchUp(incident, key);
    }
    const hold = incident.holds[delivery.hold ?? provider];
    if (hold && (delivery.action === 'acknowledge' || delivery.action === 'resolve'))
      hold.state = delivery.action === 'acknowledge' ? 'acknowledged' : 'resolved';
    // The key it was opened with was refused and the one configured now acted: later follow-ups use it.
    if (hold && response.api_key !== undefined) hold.api_key = response.api_key;
    return [];
  }

  async failed(
    delivery: Delivery,
    provider: string,
    error: ProviderError,
    outcome: FailureOutcome,
  ): Promise<void> {
    const nowIso = new Date(this.deps.clock.now()).toISOString();
    const first = delivery.attempts_on_current <= 1 && outcome.kind === 'retry';
    const notable = outcome.kind !== 'retry' || first;
    const announce = await this.deps.state.update(
      delivery.incident_id,
      { deliveries: true },
      ({ incident, deliveries }) => {
        // Withdrawn while it was being attempted (its incident resolved): it stays withdrawn.
        if (
          delivery.status === 'pending' &&
          deliveries.find((x) => x.id === delivery.id)?.status === 'superseded'
        )
          delivery.status = 'superseded';
        const change: Change = {
          incident: null,
          deliveries: [delivery],
          audit: [],
          durable: outcome.kind !== 'retry',
        };
        if (!notable) return { change, result: null };
        // Provider errors already say who, the status and the reason: "pagerduty: HTTP 400 (client_error): …".
        const next = describe(outcome);
        const type =
          outcome.kind === 'retry'
            ? 'delivery_retry'
            : outcome.kind === 'failover'
              ? 'failover'
              : 'delivery_failed';
        const entry = audit(
          incident,
          type,
          DISPATCHER,
          this.deps.policyVersion(),
          nowIso,
          `${delivery.action} failed: ${error.message}; ${next}`,
          {
            provider,
            details: { delivery_id: delivery.id, reason: error.reason, status: error.status },
          },
        );
        const failedForGood =
          (outcome.kind === 'exhausted' && outcome.first) ||
          (outcome.kind === 'refused' && delivery.status === 'failed');
        return { change: { ...change, audit: [entry] }, result: failedForGood ? { incident, next } : null };
      },
    );
    if (announce) this.announceFailure(delivery, error, announce.incident, announce.next, nowIso);
  }

  /** No provider took it: a `delivery_failed` lifecycle event and an error line, once. */
  private announceFailure(
    delivery: Delivery,
    error: ProviderError,
    incident: Incident,
    next: string,
    nowIso: string,
  ): void {
    this.deps.lifecycle.incident(
      lifecycleEvent('delivery_failed', incident, DISPATCHER, nowIso, {
        delivery_id: delivery.id,
        action: delivery.action,
        providers: delivery.candidates,
        reason: error.reason,
      }),
    );
    this.deps.logger.error(
      {
        event: 'delivery_failed',
        incident: incident.id,
        delivery: delivery.id,
        providers: delivery.candidates,
        reason: error.reason,
        // What the last provider said (as the delivery's `last_error` shows it over the API).
        status: error.status,
        error: error.message,
      },
      `no provider accepted ${delivery.action} of ${incident.id}: ${next}`,
    );
  }

  private hold(
    incident: Incident,
    delivery: Delivery,
    provider: string,
    request: ProviderRequest,
    response: ProviderResponse,
    nowIso: string,
  ): ProviderHold {
    const type = this.deps.providers().get(provider).type;
    return {
      provider,
      type,
      route: delivery.route,
      state: 'open',
      since: nowIso,
      ...(request.target.routing_key ? { routing_key: request.target.routing_key } : {}),
      ...(request.target.api_key ? { api_key: request.target.api_key } : {}),
      url: request.target.url,
      ...(response.ref ? { external_ref: response.ref } : {}),
    };
  }

  /** A trigger that arrived after the incident moved on: bring that hold along at once. */
  private catchUp(incident: Incident, key: string): Delivery[] {
    const hold = incident.holds[key];
    if (incident.state === 'triggered' || hold === undefined) return [];
    const action = incident.state === 'acknowledged' ? 'acknowledge' : 'resolve';
    const plan: NewDelivery = {
      action,
      route: hold.route,
      mode: 'direct',
      candidates: [hold.provider],
      origin: null,
      note: null,
      ...(key === hold.provider ? {} : { hold: key }),
    };
    return [newDelivery(this.deps.deliveryId(), incident, plan, this.deps.clock.now())];
  }
}

function describe(outcome: FailureOutcome): string {
  switch (outcome.kind) {
    case 'retry':
      return `retrying at ${new Date(outcome.at).toISOString()}`;
    case 'failover':
      return `failing over to ${outcome.to}`;
    case 'exhausted':
      return `every provider failed; waiting, next attempt at ${new Date(outcome.at).toISOString()} (nothing is dropped)`;
    case 'refused':
      return outcome.reason;
  }
}
