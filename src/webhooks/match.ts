// Which incident a webhook is about, and which provider instance of ours sent it.
//
// Incident: the provider's own id of it (PagerDuty incident id, OpsGenie alert id) once learned is
// exact; otherwise our provider key (PagerDuty `incident_key`, OpsGenie `alias`) names every
// incident of one fingerprint, newest first: the newest whose holds of that provider type are not
// all bound to another provider-side id.
//
// Instance (the sync origin): a policy may define several instances of one type. In order:
//   1. the instance named in the path (`/api/v1/webhooks/pagerduty/<instance>`);
//   2. the hold of that type whose learned provider-side id is the webhook's;
//   3. the first hold of that type (by name) that has not learned one yet;
//   4. the first hold of that type;
//   5. no hold of that type yet (the webhook overtook our own delivery record): the first instance
//      of that type in the incident's routes, else in the policy, else the type's name.
// One subscription per instance, each pointing at its own path, removes every guess.
import type { Incident, ProviderHold } from '../domain/incident.js';
import type { WebhookProvider } from './inbound.js';

export interface IncidentFinder {
  incidentIdsByRef(ref: string, limit?: number): Promise<string[]>;
  get(id: string): Promise<Incident | undefined>;
}

/** Provider instances of the active policy: name → type. */
export type ProviderTypes = Readonly<Record<string, { type: string }>>;

const CANDIDATES = 20;

export async function findIncident(
  finder: IncidentFinder,
  provider: WebhookProvider,
  providerKey: string | null,
  externalId: string | null,
): Promise<Incident | null> {
  if (externalId !== null) {
    const [exact] = await finder.incidentIdsByRef(`${provider}:${externalId}`, 1);
    const incident = exact === undefined ? undefined : await finder.get(exact);
    if (incident) return incident;
  }
  if (providerKey === null) return null;
  // The newest incident of the key first: it is nearly always the one, and one id is what the
  // state backends know in memory for a key (docs/performance.md, "Delivery path").
  const [latest] = await finder.incidentIdsByRef(providerKey, 1);
  const first = latest === undefined ? undefined : await finder.get(latest);
  if (first && fits(first, provider, externalId)) return first;
  if (latest === undefined) return null;
  let newest: Incident | null = null;
  for (const id of await finder.incidentIdsByRef(providerKey, CANDIDATES)) {
    const incident = await finder.get(id);
    if (!incident) continue;
    newest ??= incident;
    if (fits(incident, provider, externalId)) return incident;
  }
  return newest;
}

/** False when every hold of this type already belongs to another provider-side incident. */
function fits(incident: Incident, provider: WebhookProvider, externalId: string | null): boolean {
  const holds = holdsOf(incident, provider);
  return (
    externalId === null ||
    holds.length === 0 ||
    holds.some((h) => (h.external_id ?? externalId) === externalId)
  );
}

export function pickInstance(
  incident: Incident,
  provider: WebhookProvider,
  externalId: string | null,
  explicit: string | null,
  policy: ProviderTypes,
): string {
  if (explicit !== null) return explicit;
  const holds = holdsOf(incident, provider);
  const chosen =
    holds.find((h) => externalId !== null && h.external_id === externalId) ??
    holds.find((h) => h.external_id === undefined) ??
    holds[0];
  if (chosen) return chosen.provider;
  const ofType = (name: string): boolean => policy[name]?.type === provider;
  const routed = incident.routes.flatMap((r) => r.providers).find(ofType);
  return routed ?? Object.keys(policy).find(ofType) ?? provider;
}

function holdsOf(incident: Incident, provider: WebhookProvider): ProviderHold[] {
  return Object.values(incident.holds)
    .filter((h) => h.type === provider)
    .sort((a, b) => (a.provider < b.provider ? -1 : a.provider > b.provider ? 1 : 0));
}
