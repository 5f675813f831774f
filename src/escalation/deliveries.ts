// A tier's triggers (docs/policy-language.md, "Escalations"): what its reach means for each of the
// tier's providers, by type (a PagerDuty routing key each, the OpsGenie responders together, a
// webhook URL each); a provider that cannot address anyone the tier reaches gets the trigger with
// its own setting (the route's PagerDuty service, the team's responders). A tier that reaches
// nobody at all plans nothing: it is skipped. Planned as a route's triggers are
// (src/deliver/plan.ts): `mode: all` one delivery per provider and target, `mode: failover` one
// delivery per target moving along the providers that have it.
import type { DeliveryTarget } from '../domain/incident.js';
import type { EscalationTier } from '../domain/escalation.js';
import type { NewDelivery } from '../deliver/plan.js';
import type { ProviderType } from '../providers/spec.js';
import type { Reach } from './reach.js';

export type ProviderTypeOf = (provider: string) => ProviderType | undefined;

export function tierTriggers(
  tier: EscalationTier,
  tierNumber: number,
  reach: Reach,
  route: string,
  typeOf: ProviderTypeOf,
): NewDelivery[] {
  if (reachesNobody(reach)) return [];
  const variants = new Map<string, DeliveryTarget[]>();
  for (const provider of tier.deliver.providers) {
    const type = typeOf(provider);
    if (type === undefined) continue; // no longer in the active policy
    const found = variantsOf(type, reach);
    variants.set(provider, found.length > 0 ? found : [{}]);
  }
  const base = { action: 'trigger' as const, route, origin: null, note: null, tier: tierNumber };
  if (tier.deliver.mode === 'all')
    return [...variants].flatMap(([provider, targets]) =>
      targets.map((t) => ({
        ...base,
        mode: 'all' as const,
        candidates: [provider],
        targets: { [provider]: t },
      })),
    );
  const rounds = Math.max(0, ...[...variants.values()].map((v) => v.length));
  const planned: NewDelivery[] = [];
  for (let i = 0; i < rounds; i++) {
    const having = [...variants].filter(([, targets]) => targets[i] !== undefined);
    planned.push({
      ...base,
      mode: 'failover',
      candidates: having.map(([p]) => p),
      targets: Object.fromEntries(having.map(([p, targets]) => [p, targets[i] as DeliveryTarget])),
    });
  }
  return planned;
}

function variantsOf(type: ProviderType, reach: Reach): DeliveryTarget[] {
  switch (type) {
    case 'pagerduty':
      return reach.pagerduty.map((routing_key) => ({ routing_key }));
    case 'opsgenie':
      return reach.opsgenie.length === 0 ? [] : [{ responders: reach.opsgenie }];
    case 'webhook':
      return reach.webhook.map((url) => ({ url }));
  }
}

export function reachesNobody(reach: Reach): boolean {
  return (
    reach.people.length === 0 &&
    reach.pagerduty.length === 0 &&
    reach.opsgenie.length === 0 &&
    reach.webhook.length === 0
  );
}
