// The incident core: what a correlated decision, a manual action or a provider's report does to
// incident state. It keeps the local view of open incidents (dedup without a round trip), writes
// through the state backend (src/state/backend.ts) one incident at a time, publishes lifecycle
// events, and returns the deliveries each change created: the caller hands them to the outbox.
import type { Clock } from '../domain/clock.js';
import type { Decision, FlapDamping } from '../domain/decision.js';
import type { Delivery, Incident, IncidentFlap } from '../domain/incident.js';
import type { PipelineInput } from '../domain/log-event.js';
import { providerKey } from '../domain/provider-key.js';
import { correlate, type Correlation } from '../correlate/correlate.js';
import { Recoveries } from '../correlate/recoveries.js';
import { stormFingerprint, StormGuard } from '../correlate/storm.js';
import { newDelivery, planTriggers } from '../deliver/plan.js';
import type { TimerSchedule } from '../escalation/scheduler.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { Change, IncidentRef, Snapshot, StateBackend } from '../state/backend.js';
import type { IdGenerator } from '../store/index.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { LifecycleBus, LifecycleKind } from './lifecycle.js';
import { eventMs, OpenIncidents, refOf, type OpenRef } from './open-incidents.js';
import {
  learnExternalId,
  nextMark,
  staleReason,
  type ProviderChange,
  type ProviderEvent,
  type ProviderEventResult,
} from './provider-events.js';
import { audit, lifecycleEvent, newIncident, type Actor } from './records.js';
import { applyTransition, type TransitionOutcome, type TransitionRequest } from './transitions.js';
import type { IncidentAction } from './state-machine.js';
import {
  ackTimeoutDetail,
  ESCALATOR,
  escalatingRoute,
  escalationAfter,
  fireDepsOf,
  openEscalation,
  tierAudit,
  tierRecord,
} from './escalation-steps.js';
import { fireTier } from '../escalation/timer.js';
import { escalationDueOf } from '../domain/escalation.js';
import { formatDuration } from '../domain/duration.js';
import { FlapHistory, flapOnOpen, heldWhy, traceOf } from './flap.js';
import { BoundedMap } from '../domain/bounded-map.js';

/** `held`: a re-trigger held open by flap damping (docs/policy-language.md, "Flap damping"). */
export type Outcome = 'paged' | 'deduplicated' | 'recorded' | 'suppressed' | 'ignored' | 'resolved' | 'held';

export interface ApplyResult {
  outcome: Outcome;
  incident: { id: string; correlation_id: string } | null;
  /** New deliveries: the caller hands them to the outbox. */
  deliveries: Delivery[];
  /** Pending deliveries withdrawn (superseded): the caller tells the outbox. */
  withdrawn: Delivery[];
  storm: boolean;
}

export type TransitionResult =
  | { ok: true; changed: boolean; incident: Incident; deliveries: Delivery[]; withdrawn: Delivery[] }
  | { ok: false; reason: string; incident: Incident | null };

export interface IncidentsDeps {
  state: StateBackend;
  ids: IdGenerator;
  clock: Clock;
  lifecycle: LifecycleBus;
  logger: Logger;
  metrics: Metrics;
  policy(): CompiledPolicy;
  /** Escalation timers in memory (src/escalation/scheduler.ts): told of every timer a write sets. */
  timers?: TimerSchedule;
  /**
   * A tier fired found these schedules with nobody on call (told after the write): the coverage
   * check runs at once rather than at its next interval (docs/policy-language.md, "Coverage gaps").
   */
  onEmptySchedules?: (schedules: readonly string[]) => void;
}

/** What firing an incident's escalation timer did. */
export type EscalationResult =
  | { fired: false }
  | { fired: true; incident: Incident; deliveries: Delivery[]; tier: number }
  | { fired: false; ackTimeout: TransitionResult };

const PIPELINE: Actor = { actor: 'incident-router', source: 'pipeline' };
/** Occurrences of repeats are written back this often; a repeat itself never waits for it. */
const WRITE_BACK_MS = 1_000;
/** The longest wait before a write-back, when write-backs take long (see `writeBackDelay`). */
const WRITE_BACK_MAX_MS = 10_000;

/**
 * The wait before the next write-back, from how long the last one took: a second, or three times
 * that when it took longer than a third of a second (10,000 incidents repeating at once take about
 * 0.2 s to write back with LevelDB's counts apart, longer with JetStream's compare-and-set of each
 * record), so write-backs never take more than about a quarter of the time; at most 10 s. What a crash can cost grows with it: the counts of that long, never an incident.
 */
export function writeBackDelay(lastTookMs: number): number {
  return Math.min(WRITE_BACK_MAX_MS, Math.max(WRITE_BACK_MS, 3 * lastTookMs));
}
const CLOSED_REMEMBERED = 10_000;
/** Fingerprints whose newest failure line, and unmatched recovery line, a replica keeps (cluster mode). */
const LINES_REMEMBERED = 4_096;
/** How long a recovery line that found no open incident may still resolve one another replica opens. */
const UNMATCHED_RECOVERY_MS = 60_000;
/** A change that writes nothing yet: the start of one. */
const BLANK: Change = Object.freeze({ incident: null, deliveries: [], audit: [], durable: false });
const NOTHING: ApplyResult = Object.freeze({
  outcome: 'ignored',
  incident: null,
  deliveries: [],
  withdrawn: [],
  storm: false,
}) as ApplyResult;

/** A line kept to be applied again (cluster mode): its input, its own time, when it was applied here. */
interface Line {
  input: PipelineInput;
  atMs: number;
  seenMs: number;
}

export class Incidents {
  readonly open = new OpenIncidents();
  private readonly storm = new StormGuard();
  /** Damped fingerprints' last resolve and re-triggers (src/incidents/flap.ts). */
  private readonly flaps = new FlapHistory();
  /** The recovery lines that resolved fingerprints' incidents: later-arriving older failures are late. */
  private readonly recoveries = new Recoveries();
  /** Fingerprints whose incident is being resolved by the pipeline, until its follow-ups exist. */
  private readonly closing = new Map<string, Promise<unknown>>();
  /** Incidents this replica resolved lately (cluster: late remote news of them is ignored). */
  private readonly closed = new Set<string>();
  /**
   * Cluster mode: the newest failure line of each fingerprint this replica applied (opened or
   * counted as a repeat), should another replica resolve its incident with an older recovery line
   * (`overtaken`). Null with one process, which applies every line in arrival order.
   */
  private readonly lines: BoundedMap<string, Line> | null;
  /**
   * Cluster mode: the newest recovery line of each fingerprint that found no open incident here,
   * should another replica's open of an older failure line reach this one's view after it
   * (`overtakenRecovery`).
   */
  private readonly unmatched: BoundedMap<string, Line> | null;
  private overtakenListener: ((input: PipelineInput) => void) | null = null;
  private writeBack: NodeJS.Timeout | null = null;
  private writeBackMs = WRITE_BACK_MS;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly deps: IncidentsDeps) {
    const cluster = deps.state.follow !== undefined;
    this.lines = cluster ? new BoundedMap(LINES_REMEMBERED) : null;
    this.unmatched = cluster ? new BoundedMap(LINES_REMEMBERED) : null;
  }

  /**
   * Cluster mode: told of a line another replica's line overtook (docs/nats.md, "Ordering and
   * backpressure"): a failure line this replica counted as a repeat of an incident that another
   * replica then resolved with an older recovery line, or a recovery line that found nothing open
   * here before another replica's open of an older failure line arrived. The listener applies it
   * again, in full.
   */
  onOvertaken(listener: (input: PipelineInput) => void): void {
    this.overtakenListener = listener;
  }

  /** Forgets storm control's services with no new incident inside the window (at rest). */
  shed(nowMs: number): void {
    this.storm.forgetIdle(nowMs);
  }

  /** Load the local view of open incidents. */
  async start(): Promise<{ open: number }> {
    for (const ref of await this.deps.state.openIncidents()) {
      this.open.set(ref.fingerprint, refOf(ref));
      if (ref.escalationDueMs !== undefined) this.deps.timers?.schedule(ref.id, ref.escalationDueMs);
    }
    for (const [fingerprint, trace] of await this.deps.state.flapTraces())
      this.flaps.remember(fingerprint, trace);
    // Oldest first: when there are more than it keeps, the newest stay.
    const recoveries = ((await this.deps.state.recoveries?.()) ?? []).sort((x, y) => x[1] - y[1]);
    for (const [fingerprint, lineMs] of recoveries) this.recoveries.remember(fingerprint, lineMs);
    this.deps.state.follow?.({ changed: (ref) => this.remote(ref) });
    this.deps.metrics.incidentCounts = () => this.deps.state.countByState();
    return { open: this.open.size };
  }

  /**
   * What a decision does: correlate it with the open incidents, then open, count, fold, resolve or
   * record. Takes effect now, in call order; synchronous unless something must be written.
   */
  apply(decision: Decision, input: PipelineInput, nowMs: number): ApplyResult | Promise<ApplyResult> {
    const { settings, stormWindowMs } = this.deps.policy();
    const admit = (service: string): boolean =>
      this.storm.admit(service, nowMs, settings.storm.max_new_incidents, stormWindowMs);
    const atMs = eventMs(input.event.timestamp);
    const c = correlate(decision, atMs, this.open, admit, this.recoveries);
    switch (c.kind) {
      case 'ignore':
        return NOTHING;
      case 'record':
        return this.record(decision, input, nowMs);
      case 'resolve':
        if (c.ref !== undefined) return this.resolve(decision, c.fingerprint, c.ref, atMs);
        this.rememberLine(this.unmatched, c.fingerprint, input, atMs, nowMs);
        return NOTHING;
      case 'stale_resolve':
        this.deps.metrics.staleResolves.inc();
        return NOTHING;
      case 'late_failure':
        this.deps.metrics.lateFailures.inc();
        return NOTHING;
      case 'repeat':
        if (!c.storm) this.rememberLine(this.lines, c.fingerprint, input, atMs, nowMs);
        return this.repeat(c, nowMs, atMs);
      case 'open':
        if (!c.storm) this.rememberLine(this.lines, decision.fingerprint, input, atMs, nowMs);
        return this.openIncident(decision, input, nowMs, c.storm);
    }
  }

  /** Keeps a fingerprint's newest line (by its own time) in `lines` (cluster mode only). */
  private rememberLine(
    lines: BoundedMap<string, Line> | null,
    fingerprint: string,
    input: PipelineInput,
    atMs: number,
    nowMs: number,
  ): void {
    if (lines === null) return;
    const known = lines.get(fingerprint);
    if (known === undefined || known.atMs <= atMs) lines.set(fingerprint, { input, atMs, seenMs: nowMs });
  }

  /**
   * Another replica opened `ref` with a failure line no newer than a recovery line of its fingerprint
   * that found nothing open here moments ago: the two replicas took adjacent lines, and the recovery
   * was applied here before the open reached this view. In arrival order the recovery resolves it.
   */
  private overtakenRecovery(ref: IncidentRef): void {
    const line = this.unmatched?.get(ref.fingerprint);
    if (line === undefined || ref.lineMs === undefined || line.atMs < ref.lineMs) return;
    this.unmatched?.delete(ref.fingerprint);
    if (this.deps.clock.now() - line.seenMs > UNMATCHED_RECOVERY_MS || this.overtakenListener === null)
      return;
    this.deps.metrics.overtakenLines.inc();
    this.applyAgain(ref, line, 'was opened elsewhere by a failure line older than a recovery line seen here');
  }

  /** Tells the listener to apply `line` again (`onOvertaken`), saying why in the log. */
  private applyAgain(ref: IncidentRef, line: Line, why: string): void {
    if (this.overtakenListener === null) return;
    this.deps.logger.info(
      { event: 'overtaken_line', incident: ref.id, fingerprint: ref.fingerprint },
      `incident ${ref.id} ${why}: that line is applied again`,
    );
    this.overtakenListener(line.input);
  }

  /**
   * Another replica resolved `ref` with a recovery line older than a failure line this replica had
   * applied to it (`current.lastEventMs`): replicas take events from one stream in batches, so a line
   * that came after the recovery was counted here as a repeat before the recovery was applied there,
   * and the failure would open nothing. In arrival order that line opens a new incident; it is
   * applied again now that the incident is gone.
   */
  private overtaken(ref: IncidentRef, current: OpenRef): void {
    const recoveryMs = ref.recoveryLineMs;
    if (recoveryMs === undefined || !(current.lastEventMs > recoveryMs)) return;
    const line = this.lines?.get(ref.fingerprint);
    this.deps.metrics.overtakenLines.inc();
    if (line === undefined || line.atMs <= recoveryMs || this.overtakenListener === null) {
      this.deps.logger.warn(
        { event: 'overtaken_line_lost', incident: ref.id, fingerprint: ref.fingerprint },
        `incident ${ref.id} was resolved by a recovery line older than a failure line seen here, which is no longer known: nothing opened for it`,
      );
      return;
    }
    this.lines?.delete(ref.fingerprint);
    this.applyAgain(ref, line, 'was resolved by a recovery line older than a failure line seen here');
  }

  private record(decision: Decision, input: PipelineInput, nowMs: number): ApplyResult {
    this.deps.lifecycle.recorded({
      at: new Date(nowMs).toISOString(),
      reason: decision.suppressed ? 'suppressed' : 'info',
      service: decision.service,
      team: decision.team,
      severity: decision.severity,
      rule: decision.classification.rule,
      fingerprint: decision.fingerprint,
      message: input.event.message,
      suppressed_by: decision.suppressed_by?.rule ?? null,
      silence_id: decision.suppressed_by?.silence ?? null,
      policy_version: decision.policy.version,
    });
    return { ...NOTHING, outcome: decision.suppressed ? 'suppressed' : 'recorded' };
  }

  /** Counted in memory at once; written back within `writeBackMs` (a crash may lose the count, never the incident). */
  private repeat(
    c: Extract<Correlation<OpenRef>, { kind: 'repeat' }>,
    nowMs: number,
    atMs: number,
  ): ApplyResult {
    this.open.repeat(c.fingerprint, c.ref, nowMs, atMs);
    this.writeBack ??= setTimeout(() => {
      this.writeBack = null;
      void this.flush();
    }, this.writeBackMs);
    this.writeBack.unref();
    const incident = { id: c.ref.id, correlation_id: c.ref.correlationId };
    return { outcome: 'deduplicated', incident, deliveries: [], withdrawn: [], storm: c.storm };
  }

  private async openIncident(
    decision: Decision,
    input: PipelineInput,
    nowMs: number,
    storm: boolean,
  ): Promise<ApplyResult> {
    const nowIso = new Date(nowMs).toISOString();
    const stormFp = storm ? stormFingerprint(decision.service) : null;
    const incident = newIncident(
      { id: this.deps.ids.incidentId(), correlationId: this.deps.ids.correlationId() },
      decision,
      input,
      nowIso,
      stormFp === null
        ? null
        : {
            fingerprint: stormFp,
            providerKey: providerKey(stormFp),
            title: `Alert storm on ${decision.service}: new incidents folded into one`,
          },
    );
    // Reserved now, in event order: a later alert of it is a repeat, and a later resolve of it
    // queues behind this open.
    // Flap damping follows the first route; a storm incident is never held.
    const damping = stormFp === null ? decision.routes[0]?.flap : undefined;
    if (damping !== undefined)
      incident.flap = flapOnOpen(this.flaps.get(incident.fingerprint), damping, nowMs);
    const reserved = refOf(incident);
    this.open.set(incident.fingerprint, reserved);
    const previousResolve = this.closing.get(incident.fingerprint);
    const policy = this.deps.policy();
    const held = (incident.flap?.release_at ?? null) !== null;
    // A route with an escalation delivers its first tier instead of its own triggers.
    const { fired, deliveries } = held
      ? { fired: null, deliveries: [] }
      : this.firstPages(incident, policy, nowMs);
    const type = storm ? 'storm_opened' : held ? 'flap_held' : 'opened';
    // The first tier is recorded on the opening entry (the later ones each on an `escalated` entry).
    const tier = fired === null ? null : tierRecord(incident, fired);
    const message = held
      ? `${why(decision)}; ${heldWhy(incident)}`
      : tier === null
        ? why(decision)
        : `${why(decision)}; ${tier.message}`;
    const opened = audit(incident, type, PIPELINE, decision.policy.version, nowIso, message, {
      details:
        tier === null
          ? { decision, ...(held ? { flap: incident.flap } : {}) }
          : { decision, escalation: tier.details },
    });
    try {
      // Queued now, so a resolve of it that comes next waits for it. A previous incident of this
      // fingerprint still being resolved goes first: its resolve deliveries must exist before this
      // incident's triggers, which share its provider key.
      const outcome = await this.deps.state.create(incident, deliveries, [opened], previousResolve);
      if (!outcome.created) return this.lostRace(incident.fingerprint, reserved, outcome.existing, storm);
    } catch (err) {
      if (this.open.get(incident.fingerprint) === reserved) this.open.delete(incident.fingerprint);
      throw err;
    }
    this.deps.lifecycle.incident(
      lifecycleEvent(held ? 'flapping' : 'triggered', incident, PIPELINE, nowIso, {
        decision_rule: decision.classification.rule,
        ...(held ? { flap: incident.flap } : {}),
      }),
    );
    if (held) this.deps.timers?.schedule(incident.id, escalationDueOf(incident));
    if (fired !== null) {
      this.deps.timers?.schedule(incident.id, escalationDueOf(incident));
      this.escalated(incident, fired.tier, false, fired.emptySchedules);
    }
    const ref = { id: incident.id, correlation_id: incident.correlation_id };
    return { outcome: held ? 'held' : 'paged', incident: ref, deliveries, withdrawn: [], storm };
  }

  /** The flap state a new incident of `fingerprint` would open with now (the dry-run's outlook). */
  flapOutlook(fingerprint: string, damping: FlapDamping, nowMs: number): IncidentFlap {
    return flapOnOpen(this.flaps.get(fingerprint), damping, nowMs);
  }

  /** An incident's first pages: its escalation's first tier, or its routes' triggers. */
  private firstPages(
    incident: Incident,
    policy: CompiledPolicy,
    nowMs: number,
  ): { fired: ReturnType<typeof openEscalation> | null; deliveries: Delivery[] } {
    const escalating = escalatingRoute(incident.routes, policy);
    const fired = escalating === null ? null : openEscalation(incident, escalating, policy, nowMs);
    const planned = [
      ...(fired?.deliveries ?? []),
      ...planTriggers(incident.routes).filter((p) => p.route !== escalating?.name),
    ];
    const deliveries = planned.map((p) => newDelivery(this.deps.ids.deliveryId(), incident, p, nowMs));
    return { fired, deliveries };
  }

  /** Another replica opened, changed or resolved the latest incident of a fingerprint. */
  private remote(ref: IncidentRef): void {
    const current = this.open.get(ref.fingerprint);
    // A change that was on its way before this replica resolved the incident must not reopen it
    // here: an alert would then count as a repeat of what is over. (The shared key bucket still
    // decides who opens: a view missing an open incident costs a lost race, never a page.)
    if (ref.state !== 'resolved' && this.closed.has(ref.id)) return;
    // Every replica keeps every timer; whichever fires first wins the incident's compare-and-set.
    this.deps.timers?.schedule(ref.id, ref.state === 'resolved' ? null : (ref.escalationDueMs ?? null));
    if (ref.state === 'resolved') {
      if (ref.recoveryLineMs !== undefined) this.recoveries.remember(ref.fingerprint, ref.recoveryLineMs);
      const flap = ref.flap;
      if (flap !== undefined && flap.resolvedAtMs !== null)
        this.flaps.remember(ref.fingerprint, {
          resolvedAtMs: flap.resolvedAtMs,
          retriggers: flap.retriggers,
        });
      if (current?.id === ref.id) {
        this.open.delete(ref.fingerprint);
        this.overtaken(ref, current);
      }
    } else if (current?.id !== ref.id) {
      // The key bucket holds only winners: a reservation of ours for this fingerprint will lose.
      this.open.set(ref.fingerprint, refOf(ref));
      this.overtakenRecovery(ref);
    }
  }

  private rememberClosed(id: string): void {
    this.closed.add(id);
    if (this.closed.size > CLOSED_REMEMBERED) this.closed.delete(this.closed.values().next().value as string);
  }

  /** Another replica opened the fingerprint first: ours is a repeat of its incident. */
  private lostRace(fingerprint: string, reserved: OpenRef, winner: IncidentRef, storm: boolean): ApplyResult {
    const current = this.open.get(fingerprint);
    const ref = current?.id === winner.id ? current : refOf(winner);
    this.open.replace(fingerprint, reserved, ref);
    this.open.repeat(fingerprint, ref, reserved.lastSeenMs, reserved.lastEventMs);
    const incident = { id: ref.id, correlation_id: ref.correlationId };
    return { outcome: 'deduplicated', incident, deliveries: [], withdrawn: [], storm };
  }

  /** `lineMs`: the recovery line's own time. */
  private async resolve(
    decision: Decision,
    fingerprint: string,
    ref: OpenRef,
    lineMs: number,
  ): Promise<ApplyResult> {
    // Takes effect now, in event order: the next failure of this fingerprint opens a new incident
    // even while this one's resolution is still being written (unless it is no newer than this line).
    this.open.delete(fingerprint);
    // A recovery stamped ahead of our clock (a publisher's clock runs fast) counts as now: taken at
    // its word it would make every genuine failure until then look late, and page nobody.
    const recoveredMs = Math.min(lineMs, this.deps.clock.now());
    this.recoveries.remember(fingerprint, recoveredMs);
    this.rememberClosed(ref.id);
    // A damped fingerprint's next open must see this resolve even before it is written.
    if (ref.flapRetriggers !== undefined)
      this.flaps.remember(fingerprint, {
        resolvedAtMs: this.deps.clock.now(),
        retriggers: ref.flapRetriggers,
      });
    const actor: Actor = { actor: `policy:${decision.classification.rule}`, source: 'pipeline' };
    const request: TransitionRequest = {
      action: 'resolve',
      actor,
      origin: null,
      note: null,
      detail: null,
      recoveryLineMs: recoveredMs,
    };
    const resolving = this.transitionWith(ref.id, request);
    this.closing.set(fingerprint, resolving);
    let result: TransitionResult;
    try {
      result = await resolving;
    } catch (err) {
      if (!this.open.get(fingerprint)) this.open.set(fingerprint, ref);
      throw err;
    } finally {
      if (this.closing.get(fingerprint) === resolving) this.closing.delete(fingerprint);
    }
    const changed = result.ok && result.changed;
    return {
      outcome: changed ? 'resolved' : 'ignored',
      incident: { id: ref.id, correlation_id: ref.correlationId },
      deliveries: result.ok ? result.deliveries : [],
      withdrawn: result.ok ? result.withdrawn : [],
      storm: false,
    };
  }

  /** A state change from the pipeline or the API; follow-ups go to every provider holding it. */
  async transition(
    id: string,
    action: IncidentAction,
    actor: Actor,
    origin: string | null,
    note: string | null = null,
  ): Promise<TransitionResult> {
    return this.transitionWith(id, { action, actor, origin, note, detail: null });
  }

  private async transitionWith(id: string, request: TransitionRequest): Promise<TransitionResult> {
    const nowMs = this.deps.clock.now();
    const outcome = await this.deps.state.update(id, { deliveries: request.action === 'resolve' }, (snap) =>
      this.transitionIn(snap, request, nowMs, BLANK),
    );
    if (outcome === null) return { ok: false, reason: `no incident ${id}`, incident: null };
    return this.transitioned(outcome, request);
  }

  /** The state machine on the snapshot's incident, with what else the same write carries (`extra`). */
  private transitionIn(
    snap: Snapshot,
    request: TransitionRequest,
    nowMs: number,
    extra: Change,
  ): { change: Change; result: TransitionOutcome } {
    const incident = snap.incident;
    const from = incident.state;
    const newer = this.open.get(incident.fingerprint);
    const t = applyTransition(incident, request, {
      nowMs,
      policyVersion: this.deps.policy().stamp.version,
      newerOpen: newer === undefined ? null : newer.id,
      pending: snap.deliveries,
      deliveryId: () => this.deps.ids.deliveryId(),
    });
    if (!t.ok || !t.changed) {
      const dirty = t.holdChanged || extra.incident !== null;
      const audit = t.ok ? extra.audit : [...extra.audit, t.audit];
      return { change: { ...extra, incident: dirty ? incident : null, audit }, result: t };
    }
    // Acknowledged: no tier fires (or `ack_timeout` does); resolved: none; triggered again: tier 1.
    escalationAfter(incident, from, nowMs);
    const deliveries = [...extra.deliveries, ...t.withdrawn, ...t.deliveries];
    const change = { ...extra, incident, deliveries, audit: [...extra.audit, t.audit], durable: true };
    return { change, result: t };
  }

  /** After a transition is written: the local view, the lifecycle event, the gauges. */
  private transitioned(t: TransitionOutcome, request: TransitionRequest): TransitionResult {
    if (!t.ok) return { ok: false, reason: t.reason, incident: t.incident };
    if (!t.changed) return { ok: true, changed: false, incident: t.incident, deliveries: [], withdrawn: [] };
    const { incident } = t;
    if (incident.escalation !== undefined) this.deps.timers?.schedule(incident.id, escalationDueOf(incident));
    if (incident.state === 'resolved') {
      this.rememberClosed(incident.id);
      const trace = traceOf(incident);
      if (trace !== null) this.flaps.remember(incident.fingerprint, trace);
      // Only this incident's entry: a newer incident may hold the fingerprint already.
      if (this.open.get(incident.fingerprint)?.id === incident.id) this.open.delete(incident.fingerprint);
    } else if (request.action === 'reopen') {
      this.closed.delete(incident.id);
      this.open.set(incident.fingerprint, refOf(incident));
    }
    this.announce(t.kind, incident, request);
    return { ok: true, changed: true, incident, deliveries: t.deliveries, withdrawn: t.withdrawn };
  }

  private announce(kind: LifecycleKind, incident: Incident, request: TransitionRequest): void {
    const nowIso = new Date(this.deps.clock.now()).toISOString();
    const source = request.actor.sourceEventId ? { source_event_id: request.actor.sourceEventId } : {};
    this.deps.lifecycle.incident(
      lifecycleEvent(kind, incident, request.actor, nowIso, { action: request.action, ...source }),
    );
  }

  /**
   * What a provider reported (a webhook), in one write with its replay mark: refused when stale
   * (older than the newest event applied from that provider instance) or illegal, recorded on the
   * timeline either way; a change syncs every other provider holding the incident.
   */
  async applyProviderEvent(
    id: string,
    change: ProviderChange,
    event: ProviderEvent,
  ): Promise<ProviderEventResult> {
    const nowMs = this.deps.clock.now();
    const nowIso = new Date(nowMs).toISOString();
    const version = this.deps.policy().stamp.version;
    const actor: Actor = { actor: event.actor, source: event.provider, sourceEventId: event.eventId };
    const request: TransitionRequest | null =
      change.kind === 'transition'
        ? { action: change.action, actor, origin: event.provider, note: change.note, detail: change.detail }
        : null;
    type Read = ProviderEventResult | { result: 'transition'; t: TransitionOutcome };
    const needs = { marks: true, deliveries: request?.action === 'resolve', webhookId: event.webhookId };
    const read = await this.deps.state.update<Read>(id, needs, (snap) => {
      const incident = snap.incident;
      if (event.webhookId !== null && snap.seen(event.webhookId))
        return { change: null, result: { result: 'replay' } };
      const mark = snap.marks[event.provider];
      const base: Change = { ...BLANK, webhookId: event.webhookId };
      const stale = staleReason(change, event, mark);
      if (stale !== null) {
        const entry = audit(incident, 'stale_event', actor, version, nowIso, `ignored, stale: ${stale}`);
        return { change: { ...base, audit: [entry] }, result: { result: 'stale', incident, reason: stale } };
      }
      const next = nextMark(event, mark);
      const hold = incident.holds[event.provider];
      const ref = learnExternalId(hold, event.externalId, event.createdIn ?? null);
      const extra: Change = {
        ...base,
        incident: ref === null || hold === undefined ? null : incident,
        ...(next === null ? {} : { marks: { [event.provider]: next } }),
        ...(ref === null ? {} : { refs: [ref] }),
      };
      if (request !== null) {
        const { change: written, result: t } = this.transitionIn(snap, request, nowMs, extra);
        return { change: written, result: { result: 'transition', t } };
      }
      if (change.kind !== 'timeline') return { change: extra, result: { result: 'observed', incident } };
      const details = change.details ? { details: change.details } : {};
      const entry = audit(incident, change.type, actor, version, nowIso, change.message, details);
      return { change: { ...extra, audit: [entry] }, result: { result: 'noted', incident } };
    });
    if (read === null) return { result: 'missing' };
    if (read.result !== 'transition') return read;
    const r = this.transitioned(read.t, request as TransitionRequest);
    if (!r.ok) return { result: 'refused', incident: r.incident as Incident, reason: r.reason };
    return r.changed
      ? { result: 'applied', incident: r.incident, deliveries: r.deliveries, withdrawn: r.withdrawn }
      : { result: 'unchanged', incident: r.incident };
  }

  // --- escalation timers (docs/architecture.md, "Escalation timers") ----------------------------

  /**
   * Fires the incident's escalation timer if it is due: the tier advances and its triggers are
   * recorded in one write (one LevelDB batch; one compare-and-set of the record across replicas),
   * so a tier fires once however many times, and wherever, this is called. An `ack_timeout` that
   * falls due triggers the incident again, which restarts the escalation from tier 1.
   */
  async fireEscalation(id: string): Promise<EscalationResult> {
    const nowMs = this.deps.clock.now();
    const policy = this.deps.policy();
    const version = policy.stamp.version;
    type Read =
      | { kind: 'none'; dueAt: number | null }
      | { kind: 'fired'; incident: Incident; deliveries: Delivery[]; tier: number; empty: string[] }
      | { kind: 'released'; incident: Incident; deliveries: Delivery[]; tier: number; empty: string[] }
      | { kind: 'timeout'; t: TransitionOutcome; request: TransitionRequest };
    const read = await this.deps.state.update<Read>(id, {}, (snap) => {
      const incident = snap.incident;
      const releaseAt = incident.state === 'resolved' ? null : (incident.flap?.release_at ?? null);
      if (releaseAt !== null) {
        if (releaseAt > nowMs) return { change: null, result: { kind: 'none', dueAt: releaseAt } };
        const released = this.releaseIn(incident, policy, nowMs);
        return { change: released.change, result: { kind: 'released', incident, ...released.result } };
      }
      const esc = incident.escalation;
      const dueAt = esc?.due_at ?? null;
      if (esc === undefined || dueAt === null || dueAt > nowMs)
        return { change: null, result: { kind: 'none', dueAt } };
      if (esc.due === 'ack_timeout' && incident.state === 'acknowledged') {
        const detail = ackTimeoutDetail(incident);
        const request: TransitionRequest = {
          action: 'unacknowledge',
          actor: ESCALATOR,
          origin: null,
          note: null,
          detail,
        };
        const { change, result } = this.transitionIn(snap, request, nowMs, BLANK);
        return { change, result: { kind: 'timeout', t: result, request } };
      }
      if (incident.state !== 'triggered') {
        // A timer left by a change that stopped nothing (should not happen): stopped now.
        incident.escalation = { ...esc, due_at: null, due: null };
        return { change: { ...BLANK, incident }, result: { kind: 'none', dueAt: null } };
      }
      const fired = fireTier(esc, nowMs, fireDepsOf(policy));
      incident.escalation = fired.next;
      if (fired.tier > 1) incident.escalated = true;
      const deliveries = fired.deliveries.map((p) =>
        newDelivery(this.deps.ids.deliveryId(), incident, p, nowMs),
      );
      const entry = tierAudit(incident, fired, version, nowMs);
      const change: Change = { incident, deliveries, audit: [entry], durable: true };
      const empty = fired.emptySchedules;
      return { change, result: { kind: 'fired', incident, deliveries, tier: fired.tier, empty } };
    });
    if (read === null) {
      this.deps.timers?.schedule(id, null);
      return { fired: false };
    }
    switch (read.kind) {
      case 'none':
        this.deps.timers?.schedule(id, read.dueAt);
        return { fired: false };
      case 'timeout':
        return { fired: false, ackTimeout: this.transitioned(read.t, read.request) };
      case 'fired':
        this.deps.timers?.schedule(id, escalationDueOf(read.incident));
        this.escalated(read.incident, read.tier, true, read.empty);
        return { fired: true, incident: read.incident, deliveries: read.deliveries, tier: read.tier };
      case 'released': {
        const incident = read.incident;
        this.deps.timers?.schedule(id, escalationDueOf(incident));
        const nowIso = new Date(nowMs).toISOString();
        if (read.deliveries.length > 0)
          this.deps.lifecycle.incident(
            lifecycleEvent('triggered', incident, PIPELINE, nowIso, { released_from_flap: incident.flap }),
          );
        if (read.tier > 0) this.escalated(incident, read.tier, false, read.empty);
        return { fired: true, incident, deliveries: read.deliveries, tier: read.tier };
      }
    }
  }

  /**
   * A held incident still open when its hold ends persisted: it pages now, as an open would have
   * (docs/policy-language.md, "Flap damping"); acknowledged meanwhile, it is only released.
   */
  private releaseIn(
    incident: Incident,
    policy: CompiledPolicy,
    nowMs: number,
  ): { change: Change; result: { deliveries: Delivery[]; tier: number; empty: string[] } } {
    const flap = incident.flap as NonNullable<Incident['flap']>;
    incident.flap = { ...flap, release_at: null, released_at: nowMs };
    const paging = incident.state === 'triggered';
    const { fired, deliveries } = paging
      ? this.firstPages(incident, policy, nowMs)
      : { fired: null, deliveries: [] };
    const tier = fired === null ? null : tierRecord(incident, fired);
    const held = new Date(flap.held_at as number).toISOString();
    const message = paging
      ? `flap damping released it: still open ${formatDuration(flap.damping.hold_ms)} after it was held (${held}); paged now${tier === null ? '' : `; ${tier.message}`}`
      : `flap damping released it: acknowledged while held, so nothing is paged`;
    const entry = audit(
      incident,
      'flap_released',
      PIPELINE,
      policy.stamp.version,
      new Date(nowMs).toISOString(),
      message,
      {
        details: { flap: incident.flap, ...(tier === null ? {} : { escalation: tier.details }) },
      },
    );
    return {
      change: { incident, deliveries, audit: [entry], durable: true },
      result: { deliveries, tier: fired?.tier ?? 0, empty: fired?.emptySchedules ?? [] },
    };
  }

  /** A tier fired: counted; after the open, published on `incidents.escalated`. */
  private escalated(incident: Incident, tier: number, publish: boolean, emptySchedules: string[]): void {
    const name = incident.escalation?.plan.name ?? '';
    this.deps.metrics.escalations.inc({ policy: name, tier: String(tier) });
    if (emptySchedules.length > 0) this.deps.onEmptySchedules?.(emptySchedules);
    if (!publish) return;
    const nowIso = new Date(this.deps.clock.now()).toISOString();
    const esc = incident.escalation;
    this.deps.lifecycle.incident(
      lifecycleEvent('escalated', incident, ESCALATOR, nowIso, {
        escalation: name,
        tier,
        next:
          esc === undefined || esc.due_at === null
            ? null
            : { tier: esc.next_tier + 1, at: new Date(esc.due_at).toISOString() },
      }),
    );
  }

  // --- reads ---------------------------------------------------------------------------------

  get(id: string): Promise<Incident | undefined> {
    return this.deps.state.get(id);
  }

  /** The live occurrence count of an open incident (written back in batches). */
  live(incident: Incident): Incident {
    const ref = this.open.get(incident.fingerprint);
    if (!ref || ref.id !== incident.id || ref.unsaved === 0) return incident;
    return {
      ...incident,
      occurrences: incident.occurrences + ref.unsaved,
      last_seen: new Date(Math.max(ref.lastSeenMs, Date.parse(incident.last_seen))).toISOString(),
      ...(incident.storm ? { storm: { folded: incident.storm.folded + ref.unsaved } } : {}),
    };
  }

  newFollowUp(incident: Incident, plan: Parameters<typeof newDelivery>[2]): Delivery {
    return newDelivery(this.deps.ids.deliveryId(), incident, plan, this.deps.clock.now());
  }

  // --- occurrence write-back -----------------------------------------------------------------

  /** Writes back the occurrences counted since the last write-back; resolves when they are written. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeOccurrences());
    return this.flushing;
  }

  private async writeOccurrences(): Promise<void> {
    const started = performance.now();
    await Promise.all(
      this.open.takeDirty().map(async ({ ref, count }) => {
        if (count === 0) return;
        try {
          await this.deps.state.addOccurrences(ref.id, count, ref.lastSeenMs);
          this.open.written(ref, count);
        } catch (err) {
          this.open.unwritten(ref);
          this.deps.logger.warn(
            { event: 'occurrences_unsaved', incident: ref.id, err },
            'could not write back occurrences; will retry',
          );
        }
      }),
    );
    this.writeBackMs = writeBackDelay(performance.now() - started);
  }

  /** Stop the write-back timer and write what is counted (shutdown). */
  async stop(): Promise<void> {
    if (this.writeBack) clearTimeout(this.writeBack);
    this.writeBack = null;
    await this.flush();
  }
}

/** The opening timeline message: how the decision got here. */
function why(decision: Decision): string {
  const upgraded = decision.upgrades.length
    ? ` (upgraded by ${decision.upgrades.map((u) => u.rule).join(', ')})`
    : '';
  const routes = decision.routes.map((r) => `${r.name} (${r.mode}: ${r.providers.join(', ')})`).join(' + ');
  return `${decision.classification.rule} → ${decision.severity}${upgraded} → route ${routes}`;
}
