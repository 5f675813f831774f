// A state change of one incident, as a pure function: the state machine (state-machine.ts) applied
// to the incident, the provider that told us brought along, the follow-ups that bring every other
// provider holding it to the new state (never back to the one that told us), and the triggers a
// resolution withdraws. The incident core writes what this returns in one change.
import type { Delivery, Incident, IncidentState } from '../domain/incident.js';
import { Attempts } from '../deliver/attempts.js';
import { newDelivery, type NewDelivery } from '../deliver/plan.js';
import type { NewAuditEntry } from '../state/backend.js';
import type { LifecycleKind } from './lifecycle.js';
import { audit, holdsOf, holdsToFollow, type Actor } from './records.js';
import { transition, type IncidentAction } from './state-machine.js';

export interface TransitionRequest {
  action: IncidentAction;
  actor: Actor;
  /** The provider instance that reported it (a webhook), or null (pipeline, API). */
  origin: string | null;
  note: string | null;
  /** Added to the timeline message (a provider's assignee, …). */
  detail: string | null;
  /** A resolve by a recovery line: the line's own time (the incident's `recovery_line_at`). */
  recoveryLineMs?: number;
}

export interface TransitionContext {
  nowMs: number;
  policyVersion: string;
  /** The id of another open incident of the same fingerprint, if any (a reopen must not shadow it). */
  newerOpen: string | null;
  /** The incident's deliveries still pending (a resolution withdraws its triggers). */
  pending: readonly Delivery[];
  deliveryId(): string;
}

export type TransitionOutcome =
  | { ok: false; reason: string; incident: Incident; audit: NewAuditEntry; holdChanged: boolean }
  | { ok: true; changed: false; incident: Incident; holdChanged: boolean }
  | {
      ok: true;
      changed: true;
      incident: Incident;
      to: IncidentState;
      kind: LifecycleKind;
      /** Follow-ups to the other providers holding it. */
      deliveries: Delivery[];
      /** Pending triggers withdrawn by a resolution, marked `superseded`. */
      withdrawn: Delivery[];
      audit: NewAuditEntry;
    };

/** Applies `request` to `incident` (which it changes in place: pass the snapshot's copy). */
export function applyTransition(
  incident: Incident,
  request: TransitionRequest,
  ctx: TransitionContext,
): TransitionOutcome {
  const { action, actor, origin } = request;
  const nowIso = new Date(ctx.nowMs).toISOString();
  const t = transition(incident.state, action);
  const refuse = (reason: string, holdChanged: boolean): TransitionOutcome => {
    const by = origin === null ? '' : ` in ${origin} by ${actor.actor}`;
    const message = `${action}${by} refused: ${reason}`;
    const entry = audit(incident, 'transition_refused', actor, ctx.policyVersion, nowIso, message);
    return { ok: false, reason, incident, audit: entry, holdChanged };
  };
  if (!t.ok) return refuse(t.reason, false);
  if (action === 'reopen' && ctx.newerOpen !== null && ctx.newerOpen !== incident.id)
    return refuse(`a newer incident ${ctx.newerOpen} with the same fingerprint is open`, false);
  const holdChanged = origin !== null && updateHold(incident, origin, t.to);
  if (!t.changed) return { ok: true, changed: false, incident, holdChanged };
  applyState(incident, action, t.to, nowIso);
  if (t.to === 'resolved' && request.recoveryLineMs !== undefined && Number.isFinite(request.recoveryLineMs))
    incident.recovery_line_at = new Date(request.recoveryLineMs).toISOString();
  const deliveries = followUps(incident, t.to, request, ctx);
  const withdrawn = t.to === 'resolved' ? withdrawTriggers(ctx.pending, nowIso) : [];
  const sync = deliveries.length ? `; syncing ${deliveries.map((d) => d.candidates[0]).join(', ')}` : '';
  // Nobody was paged for those: the timeline says so, or it could not say why a provider never heard of it.
  const unsent = withdrawn.length
    ? `; not paged (trigger withdrawn before it was sent): ${withdrawn.map(Attempts.providerOf).join(', ')}`
    : '';
  const detail = request.detail ? ` (${request.detail})` : '';
  const message = `${action}${origin ? ` in ${origin}` : ''} by ${actor.actor}${detail}${sync}${unsent}`;
  const type = action === 'escalate' ? 'escalated' : t.to;
  return {
    ok: true,
    changed: true,
    incident,
    to: t.to,
    kind: lifecycleKind(action, t.to),
    deliveries,
    withdrawn,
    audit: audit(incident, type, actor, ctx.policyVersion, nowIso, message),
  };
}

function lifecycleKind(action: IncidentAction, to: IncidentState): LifecycleKind {
  if (action === 'escalate') return 'escalated';
  if (to === 'acknowledged') return 'acknowledged';
  if (to === 'resolved') return 'resolved';
  return 'triggered';
}

function applyState(incident: Incident, action: IncidentAction, to: IncidentState, nowIso: string): void {
  if (action === 'escalate') incident.escalated = true;
  if (action === 'reopen') {
    incident.resolved_at = null;
    incident.acknowledged_at = null;
    delete incident.recovery_line_at;
  }
  incident.state = to;
  if (to === 'acknowledged') incident.acknowledged_at = nowIso;
  if (to === 'resolved') incident.resolved_at = nowIso;
  if (to === 'triggered' && action === 'unacknowledge') incident.acknowledged_at = null;
}

/** Deliveries that bring the other providers to the incident's new state. */
function followUps(
  incident: Incident,
  to: IncidentState,
  request: TransitionRequest,
  ctx: TransitionContext,
): Delivery[] {
  if (to !== 'acknowledged' && to !== 'resolved') return [];
  const action = to === 'acknowledged' ? 'acknowledge' : 'resolve';
  return holdsToFollow(incident, to, request.origin).map(([key, h]) => {
    const plan: NewDelivery = {
      action,
      route: h.route,
      mode: 'direct',
      candidates: [h.provider],
      origin: request.origin,
      note: request.note,
      ...(key === h.provider ? {} : { hold: key }),
    };
    return newDelivery(ctx.deliveryId(), incident, plan, ctx.nowMs);
  });
}

/** A resolved incident's triggers still waiting to be sent: nobody is paged for what is over. */
function withdrawTriggers(pending: readonly Delivery[], nowIso: string): Delivery[] {
  return pending
    .filter((d) => d.status === 'pending' && d.action === 'trigger')
    .map((d) => ({ ...d, status: 'superseded' as const, updated_at: nowIso }));
}

/**
 * The provider that told us of a change is in that state already; returns whether it changed. A
 * provider holding the incident more than once (an escalation tier's own service) is left as it is:
 * which of its holds spoke is not known, and each gets the follow-up (records.ts, `holdsToFollow`).
 */
function updateHold(incident: Incident, provider: string, to: IncidentState): boolean {
  const holds = holdsOf(incident, provider);
  const hold = holds[0];
  if (holds.length !== 1 || !hold || hold.state === 'failed' || hold.state === 'pending') return false;
  const state = to === 'triggered' ? 'open' : to;
  if (hold.state === state) return false;
  hold.state = state;
  return true;
}
