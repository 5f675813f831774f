// Which incident a webhook is about, and which provider instance of ours sent it.
//
// Incident: the provider's own id of it (PagerDuty incident id, OpsGenie alert id) once learned is
// exact; otherwise our provider key (PagerDuty `incident_key`, OpsGenie `alias`) names every
// incident of one fingerprint, newest first: the newest with a hold of that provider type not
// bound to another provider-side id. One with no hold of that type at all is the webhook's only
// when the event created the provider's incident (it can overtake our record of the trigger that
// did) or when no incident of the key holds one that fits: a later event (an acknowledgement)
// is about a provider incident that a trigger of ours made, and an incident whose trigger never
// went there (it waited behind an older incident's resolve) is not it.
//
// Time: an incident that opened after the event happened (the provider's clock, give or take
// OPENED_AFTER_TOLERANCE_MS) is taken only when no incident open by then fits. When a key resolves and
// opens again within seconds, PagerDuty's `incident.triggered` for the first incident can arrive
// after the second's trigger went: both holds are unbound and the newer fits, but the event is dated
// before it opened. Matched to the newer incident, the first one's provider id would be indexed to
// it, and the provider's echo of the first one's resolve would then resolve the second: a page
// withdrawn that nobody answered (docs/architecture.md, "Webhooks and cross-provider sync").
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
  /** `fresh`: as the state holds them now, not as a replica's view last saw them. */
  incidentIdsByRef(ref: string, limit?: number, fresh?: boolean): Promise<string[]>;
  get(id: string): Promise<Incident | undefined>;
}

/** Provider instances of the active policy: name → type. */
export type ProviderTypes = Readonly<Record<string, { type: string }>>;

const CANDIDATES = 20;

/**
 * How far the provider's clock may run behind ours before an event about an incident looks older than
 * the incident: a trigger goes after its incident opened, so the provider incident it creates, and
 * every event of it, is dated after the opening by its clock, unless that clock is this far behind.
 */
export const OPENED_AFTER_TOLERANCE_MS = 1_000;

/** What the webhook says besides its ids: whether it created the provider's incident, and when. */
export interface MatchHints {
  /** The event created the provider's incident (PagerDuty `incident.triggered`, OpsGenie `Create`). */
  creates?: boolean;
  /** When it happened by the provider's clock, epoch ms; null or absent when unknown. */
  occurredAtMs?: number | null;
}

export async function findIncident(
  finder: IncidentFinder,
  provider: WebhookProvider,
  providerKey: string | null,
  externalId: string | null,
  hints: MatchHints = {},
): Promise<Incident | null> {
  if (externalId !== null) {
    const [exact] = await finder.incidentIdsByRef(`${provider}:${externalId}`, 1);
    const incident = exact === undefined ? undefined : await finder.get(exact);
    if (incident) return incident;
  }
  if (providerKey === null) return null;
  const takes = (fit: Fit): boolean => fit === 'holds' || (hints.creates === true && fit === 'no hold');
  const occurred = hints.occurredAtMs ?? null;
  const openedAfter = (incident: Incident): boolean =>
    occurred !== null && Date.parse(incident.opened_at) > occurred + OPENED_AFTER_TOLERANCE_MS;
  // The newest incident of the key first: it is nearly always the one, and one id is what the
  // state backends know in memory for a key (docs/performance.md, "Delivery path"); a creation
  // event reads it fresh, as it may overtake that knowledge (StateBackend.findByRef).
  const [latest] = await finder.incidentIdsByRef(providerKey, 1, hints.creates === true);
  const first = latest === undefined ? undefined : await finder.get(latest);
  if (first && !openedAfter(first) && takes(fitOf(first, provider, externalId))) return first;
  if (latest === undefined) return null;
  let newest: Incident | null = null;
  let holdless: Incident | null = null;
  let openedLater: Incident | null = null;
  for (const id of await finder.incidentIdsByRef(providerKey, CANDIDATES)) {
    const incident = id === latest ? first : await finder.get(id); // the newest was read above
    if (!incident) continue;
    newest ??= incident;
    const fit = fitOf(incident, provider, externalId);
    if (takes(fit)) {
      if (!openedAfter(incident)) return incident;
      openedLater ??= incident;
    } else if (fit === 'no hold') holdless ??= incident;
  }
  return openedLater ?? holdless ?? newest;
}

/**
 * How an incident fits a webhook about a provider-side incident: a hold of that type that is
 * (or may become) bound to its id, no hold of that type, or holds all bound to other ids.
 */
type Fit = 'holds' | 'no hold' | 'bound elsewhere';

function fitOf(incident: Incident, provider: WebhookProvider, externalId: string | null): Fit {
  if (externalId === null) return 'holds';
  const holds = holdsOf(incident, provider);
  if (holds.length === 0) return 'no hold';
  return holds.some((h) => (h.external_id ?? externalId) === externalId) ? 'holds' : 'bound elsewhere';
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
