// Building incident records and audit entries: pure helpers, no I/O.
import type { Decision } from '../domain/decision.js';
import type { AuditEntry, Incident, ProviderHold } from '../domain/incident.js';
import type { PipelineInput } from '../domain/log-event.js';
import type { NewAuditEntry } from '../store/index.js';
import type { LifecycleEvent, LifecycleKind } from './lifecycle.js';

export interface Actor {
  /** Who: `incident-router`, `policy:<rule>`, `api`, a provider user's name… */
  actor: string;
  /** Through what: `pipeline`, `api`, or a provider instance name (webhooks). */
  source: string;
  sourceEventId?: string | null;
}

export function newIncident(
  ids: { id: string; correlationId: string },
  decision: Decision,
  input: PipelineInput,
  nowIso: string,
  storm: { fingerprint: string; providerKey: string; title: string } | null,
): Incident {
  const e = input.event;
  return {
    id: ids.id,
    correlation_id: ids.correlationId,
    fingerprint: storm?.fingerprint ?? decision.fingerprint,
    provider_key: storm?.providerKey ?? decision.provider_key,
    state: 'triggered',
    escalated: false,
    severity: decision.severity,
    title: storm?.title ?? decision.title,
    service: decision.service,
    team: decision.team,
    criticality: decision.criticality,
    rule: storm ? 'storm' : decision.classification.rule,
    event: {
      timestamp: e.timestamp,
      level: e.level,
      message: e.message,
      source: e.source ?? null,
      host: e.host ?? null,
      trace_id: e.trace_id ?? null,
      attributes: e.attributes ?? null,
    },
    occurrences: 1,
    opened_at: nowIso,
    last_seen: nowIso,
    acknowledged_at: null,
    resolved_at: null,
    policy: decision.policy,
    routes: decision.routes,
    holds: {},
    storm: storm ? { folded: 1 } : null,
    revision: 1,
  };
}

export function audit(
  incident: Incident,
  type: string,
  actor: Actor,
  policyVersion: string,
  nowIso: string,
  message: string,
  extra: { provider?: string | null; details?: Record<string, unknown> } = {},
): NewAuditEntry {
  const entry: Omit<AuditEntry, 'seq'> = {
    incident_id: incident.id,
    at: nowIso,
    type,
    actor: actor.actor,
    provider: extra.provider ?? (actor.source !== 'pipeline' && actor.source !== 'api' ? actor.source : null),
    source_event_id: actor.sourceEventId ?? null,
    policy_version: policyVersion,
    message,
  };
  if (extra.details) entry.details = extra.details;
  return entry;
}

export function lifecycleEvent(
  kind: LifecycleKind,
  incident: Incident,
  actor: Actor,
  nowIso: string,
  details?: Record<string, unknown>,
): LifecycleEvent {
  return {
    kind,
    at: nowIso,
    correlation_id: incident.correlation_id,
    incident_id: incident.id,
    fingerprint: incident.fingerprint,
    provider_key: incident.provider_key,
    severity: incident.severity,
    service: incident.service,
    team: incident.team,
    title: incident.title,
    state: incident.state,
    providers: Object.fromEntries(
      Object.values(incident.holds).map((h) => [h.provider, { state: h.state, ref: h.external_ref ?? null }]),
    ),
    policy_version: incident.policy.version,
    actor: actor.actor,
    source: actor.source,
    ...(details ? { details } : {}),
  };
}

/**
 * Holds a follow-up (acknowledge, resolve) must reach, with their keys: delivered, not already in
 * that state, not the source. An escalation tier's own PagerDuty service or webhook URL is a hold
 * of its own (src/deliver/plan.ts, `holdKeyOf`): when the source provider holds the incident more
 * than once, which of them spoke is not known, so each gets the follow-up (the one that spoke
 * takes it as a repeat, and its webhook back is our echo).
 */
export function holdsToFollow(
  incident: Incident,
  target: 'acknowledged' | 'resolved',
  origin: string | null,
): [string, ProviderHold][] {
  const several = origin !== null && holdsOf(incident, origin).length > 1;
  return Object.entries(incident.holds).filter(
    ([, h]) =>
      (h.provider !== origin || several) &&
      (h.state === 'open' || (h.state === 'acknowledged' && target === 'resolved')),
  );
}

/** The holds of one provider instance (its own, and any escalation tier's). */
export function holdsOf(incident: Incident, provider: string): ProviderHold[] {
  return Object.values(incident.holds).filter((h) => h.provider === provider);
}
