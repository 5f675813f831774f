// From a decision's routes to the trigger deliveries of a new incident (docs/policy-language.md,
// "Routes"): a `mode: all` route sends to each of its providers, each tracked on its own; a
// `mode: failover` route is one delivery that moves along its providers. A provider already reached by
// an earlier route is not sent the same incident twice.
import type { RouteChoice } from '../domain/decision.js';
import { createHash } from 'node:crypto';
import type { Delivery, DeliveryAction, DeliveryTarget } from '../domain/incident.js';

export interface NewDelivery {
  action: DeliveryAction;
  route: string;
  mode: Delivery['mode'];
  candidates: string[];
  origin: string | null;
  note: string | null;
  /** An escalation tier's trigger (src/escalation/deliveries.ts): its tier and per-candidate targets. */
  tier?: number;
  targets?: Record<string, DeliveryTarget>;
  /** A follow-up's hold, when it is not the provider's own (`incident.holds` key). */
  hold?: string;
}

/**
 * The `incident.holds` key of a trigger to `provider`: the provider's name, or, for an escalation
 * target with its own PagerDuty service or webhook URL (a second incident at the provider), the
 * name and a short hash of that credential, so acknowledge and resolve reach each of them.
 */
export function holdKeyOf(provider: string, target: DeliveryTarget | undefined): string {
  const own = target?.routing_key ?? target?.url;
  if (own === undefined) return provider;
  return `${provider}#${createHash('sha256').update(own).digest('hex').slice(0, 8)}`;
}

export function planTriggers(routes: readonly RouteChoice[]): NewDelivery[] {
  const planned: NewDelivery[] = [];
  const taken = new Set<string>();
  for (const route of routes) {
    const providers = route.providers.filter((p) => !taken.has(p));
    providers.forEach((p) => taken.add(p));
    if (providers.length === 0) continue;
    if (route.mode === 'all') {
      for (const p of providers)
        planned.push({
          action: 'trigger',
          route: route.name,
          mode: 'all',
          candidates: [p],
          origin: null,
          note: null,
        });
    } else {
      planned.push({
        action: 'trigger',
        route: route.name,
        mode: 'failover',
        candidates: providers,
        origin: null,
        note: null,
      });
    }
  }
  return planned;
}

export function newDelivery(
  id: string,
  incident: { id: string; provider_key: string },
  plan: NewDelivery,
  nowMs: number,
): Delivery {
  const at = new Date(nowMs).toISOString();
  return {
    id,
    incident_id: incident.id,
    provider_key: incident.provider_key,
    action: plan.action,
    route: plan.route,
    mode: plan.mode,
    candidates: plan.candidates,
    current: 0,
    status: 'pending',
    attempts: 0,
    attempts_on_current: 0,
    next_attempt_at: nowMs,
    created_at: at,
    updated_at: at,
    done_at: null,
    origin: plan.origin,
    note: plan.note,
    last_error: null,
    result: null,
    exhausted: false,
    refused: [],
    ...(plan.tier === undefined ? {} : { tier: plan.tier }),
    ...(plan.targets === undefined ? {} : { targets: plan.targets }),
    ...(plan.hold === undefined ? {} : { hold: plan.hold }),
  };
}
