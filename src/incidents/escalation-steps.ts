// What escalation means for the incident core (docs/policy-language.md, "Escalations"), as pure
// steps on the incident it is about to write: the plan and first tier of an incident opening, the
// timer after a transition (acknowledged: stopped or `ack_timeout`; resolved: stopped; triggered
// again: from tier 1), and one tier fired with its triggers and timeline entry. The caller writes
// each in the same change as the rest, so a tier advances exactly when its deliveries exist.
import type { RouteChoice } from '../domain/decision.js';
import { formatDuration } from '../domain/duration.js';
import type { Incident, IncidentState } from '../domain/incident.js';
import { planOf } from '../escalation/compile.js';
import {
  acknowledgedEscalation,
  beginEscalation,
  fireTier,
  restartedEscalation,
  stoppedEscalation,
  type FireDeps,
  type Fired,
} from '../escalation/timer.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { NewAuditEntry } from '../state/backend.js';
import { audit, type Actor } from './records.js';

export const ESCALATOR: Actor = { actor: 'incident-router', source: 'pipeline' };

/** The first route that names an escalation the policy defines, or null. */
export function escalatingRoute(routes: readonly RouteChoice[], policy: CompiledPolicy): RouteChoice | null {
  return routes.find((r) => r.escalation !== undefined && policy.escalations.has(r.escalation)) ?? null;
}

export function fireDepsOf(policy: CompiledPolicy): FireDeps {
  return {
    directory: { people: policy.people, schedules: policy.schedules },
    typeOf: (provider) => policy.providers[provider]?.type,
  };
}

/** A new incident's escalation: its plan (kept on the incident) and its first tier, fired now. */
export function openEscalation(
  incident: Incident,
  route: RouteChoice,
  policy: CompiledPolicy,
  nowMs: number,
): Fired {
  const compiled = policy.escalations.get(route.escalation as string);
  if (compiled === undefined) throw new Error(`escalation "${route.escalation}" is not defined`);
  const fired = fireTier(beginEscalation(planOf(compiled, route), nowMs), nowMs, fireDepsOf(policy));
  incident.escalation = fired.next;
  return fired;
}

/** The timer after the incident moved to `to`: the change the transition writes carries it. */
export function escalationAfter(incident: Incident, from: IncidentState, nowMs: number): void {
  const esc = incident.escalation;
  if (esc === undefined || from === incident.state) return;
  if (incident.state === 'acknowledged') incident.escalation = acknowledgedEscalation(esc, nowMs);
  else if (incident.state === 'resolved') incident.escalation = stoppedEscalation(esc);
  else incident.escalation = restartedEscalation(esc, nowMs);
}

/** The timeline entry of a fired tier (after the first: that one is on the `opened` entry). */
export function tierAudit(
  incident: Incident,
  fired: Fired,
  policyVersion: string,
  nowMs: number,
): NewAuditEntry {
  const { message, details } = tierRecord(incident, fired);
  return audit(incident, 'escalated', ESCALATOR, policyVersion, iso(nowMs), message, { details });
}

/** A fired tier for the timeline: who, through what, what was skipped, what comes next. */
export function tierRecord(
  incident: Incident,
  fired: Fired,
): { message: string; details: Record<string, unknown> } {
  const esc = incident.escalation;
  const name = esc?.plan.name ?? '?';
  const due = esc?.due_at ?? null;
  const providers = [...new Set(fired.deliveries.flatMap((d) => d.candidates))].join(', ');
  const whom = fired.fallback
    ? `nobody reachable: the route's providers (${providers})`
    : `${fired.people.length > 0 ? `${fired.people.join(', ')} ` : ''}via ${providers}`;
  const skipped = fired.skipped.length > 0 ? `; skipped ${fired.skipped.join('; ')}` : '';
  const nextTier = (esc?.next_tier ?? 0) + 1;
  const next = due === null ? '; no tier after it' : `; next: tier ${nextTier} at ${iso(due)}`;
  const message = `escalation ${name} tier ${fired.tier}: ${whom}${skipped}${next}`;
  const details = {
    escalation: name,
    tier: fired.tier,
    round: esc?.round ?? 0,
    people: fired.people,
    skipped: fired.skipped,
    fallback: fired.fallback,
    next: due === null ? null : { tier: nextTier, at: iso(due) },
  };
  return { message, details };
}

/** Why an acknowledged incident is triggered again by its `ack_timeout`. */
export function ackTimeoutDetail(incident: Incident): string {
  const ms = incident.escalation?.plan.ack_timeout_ms ?? null;
  return `acknowledgement timed out after ${ms === null ? '?' : formatDuration(ms)}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
