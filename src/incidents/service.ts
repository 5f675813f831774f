// Incidents: the only writer of incidents, deliveries and audit entries. Every change of one
// incident is serialised (KeyedSerial) and committed as one atomic LevelDB batch together with the
// deliveries it creates and its timeline entries; only then are deliveries handed to the
// dispatcher and lifecycle events published.
import type { Clock } from '../domain/clock.js';
import { changesNothing, type Decision } from '../domain/decision.js';
import type { Delivery, Incident } from '../domain/incident.js';
import type { PipelineInput } from '../domain/log-event.js';
import { providerKey } from '../domain/provider-key.js';
import { stormFingerprint, StormGuard } from '../correlate/storm.js';
import type { Dispatcher } from '../deliver/dispatcher.js';
import { newDelivery, planTriggers, type NewDelivery } from '../deliver/plan.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { IdGenerator, Store, Transaction } from '../store/index.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { LifecycleBus } from './lifecycle.js';
import { OpenIncidents, type OpenRef } from './open-incidents.js';
import {
  learnExternalId,
  nextMark,
  staleReason,
  type ProviderChange,
  type ProviderEvent,
  type ProviderEventResult,
} from './provider-events.js';
import { audit, holdsToFollow, lifecycleEvent, newIncident, type Actor } from './records.js';
import { KeyedSerial } from './serial.js';
import { transition, type IncidentAction } from './state-machine.js';

export type Outcome = 'paged' | 'deduplicated' | 'recorded' | 'suppressed' | 'ignored' | 'resolved';

export interface ApplyResult {
  outcome: Outcome;
  incident: { id: string; correlation_id: string } | null;
  deliveries: Delivery[];
  storm: boolean;
}

export type TransitionResult =
  | { ok: true; changed: boolean; incident: Incident; deliveries: Delivery[] }
  | { ok: false; reason: string; incident: Incident | null };

export interface IncidentServiceDeps {
  store: Store;
  ids: IdGenerator;
  clock: Clock;
  lifecycle: LifecycleBus;
  logger: Logger;
  metrics: Metrics;
  policy(): CompiledPolicy;
}

const PIPELINE: Actor = { actor: 'incident-router', source: 'pipeline' };
const CACHE_LIMIT = 5_000;
const FLUSH_DELAY_MS = 50;

export class IncidentService {
  readonly open = new OpenIncidents();
  readonly serial = new KeyedSerial();
  private readonly storm = new StormGuard();
  private readonly cache = new Map<string, Incident>();
  /** Fingerprints whose incident is being resolved by the pipeline, until its follow-ups exist. */
  private readonly closing = new Map<string, Promise<unknown>>();
  private dispatcher: Dispatcher | null = null;
  private flushing: Promise<void> | null = null;

  constructor(private readonly deps: IncidentServiceDeps) {}

  attach(dispatcher: Dispatcher): void {
    this.dispatcher = dispatcher;
  }

  /** Load the dedup index from disk and hand every pending delivery back to the dispatcher. */
  async start(): Promise<{ open: number; pending: number }> {
    for (const { fingerprint, incident } of await this.deps.store.loadOpenIncidents()) {
      this.open.set(fingerprint, refOf(incident));
    }
    const pending = await this.deps.store.loadPendingDeliveries();
    // A restart is a new chance: waiting deliveries go now (breakers still pace the providers).
    const now = this.deps.clock.now();
    for (const d of pending) d.next_attempt_at = Math.min(d.next_attempt_at, now);
    this.requireDispatcher().enqueue(pending);
    await this.refreshGauges();
    return { open: this.open.size, pending: pending.length };
  }

  /** What a decision means for incident state: open, count, fold into a storm, resolve, or record. */
  async apply(decision: Decision, input: PipelineInput, nowMs: number): Promise<ApplyResult> {
    return this.applyNow(decision, input, nowMs);
  }

  /** `apply`, synchronous when there is nothing to make durable (an ignored or recorded alert). */
  applyNow(decision: Decision, input: PipelineInput, nowMs: number): ApplyResult | Promise<ApplyResult> {
    if (decision.resolves !== null) return this.applyResolve(decision);
    if (!decision.paged) {
      return { outcome: this.record(decision, input, nowMs), incident: null, deliveries: [], storm: false };
    }
    const existing = this.open.get(decision.fingerprint);
    if (existing) return this.repeat(decision.fingerprint, existing, nowMs, false);
    const { settings, stormWindowMs } = this.deps.policy();
    if (this.storm.admit(decision.service, nowMs, settings.storm.max_new_incidents, stormWindowMs)) {
      return this.openIncident(decision, input, nowMs, false);
    }
    const stormFp = stormFingerprint(decision.service);
    const stormRef = this.open.get(stormFp);
    if (stormRef) return this.repeat(stormFp, stormRef, nowMs, true);
    return this.openIncident(decision, input, nowMs, true);
  }

  private record(decision: Decision, input: PipelineInput, nowMs: number): Outcome {
    if (changesNothing(decision)) return 'ignored';
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
      policy_version: decision.policy.version,
    });
    return decision.suppressed ? 'suppressed' : 'recorded';
  }

  private async repeat(
    fingerprint: string,
    ref: OpenRef,
    nowMs: number,
    storm: boolean,
  ): Promise<ApplyResult> {
    this.open.repeat(fingerprint, ref, nowMs);
    await this.scheduleFlush();
    return {
      outcome: 'deduplicated',
      incident: { id: ref.id, correlation_id: ref.correlationId },
      deliveries: [],
      storm,
    };
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
    // Reserve the fingerprint now, in event order: a later alert of it is a repeat, and a later
    // resolve of it queues behind this open (same per-incident queue, joined synchronously here).
    const reserved = refOf(incident);
    this.open.set(incident.fingerprint, reserved);
    const previousResolve = this.closing.get(incident.fingerprint);
    const why = `${decision.classification.rule} → ${decision.severity}${decision.upgrades.length ? ` (upgraded by ${decision.upgrades.map((u) => u.rule).join(', ')})` : ''} → route ${decision.routes.map((r) => `${r.name} (${r.mode}: ${r.providers.join(', ')})`).join(' + ')}`;
    let deliveries: Delivery[];
    try {
      deliveries = await this.serial.run(incident.id, async () => {
        // A previous incident of this fingerprint is still being resolved: its resolve deliveries
        // must exist (and so be older: ids are time-ordered) before this incident's triggers, which
        // share its provider key and must not overtake them.
        await previousResolve?.catch(() => undefined);
        const planned = planTriggers(decision.routes).map((p) =>
          newDelivery(this.deps.ids.deliveryId(), incident, p, nowMs),
        );
        const tx = this.deps.store.transaction().putIncident(incident);
        // Providers name it by its provider key in their webhooks (PagerDuty incident_key, OpsGenie alias).
        tx.indexIncidentRef(incident.provider_key, incident.id);
        for (const d of planned) tx.putDelivery(d);
        tx.appendAudit(
          audit(incident, storm ? 'storm_opened' : 'opened', PIPELINE, decision.policy.version, nowIso, why, {
            details: { decision },
          }),
        );
        await this.deps.store.commit(tx, { sync: true });
        this.remember(incident);
        this.requireDispatcher().enqueue(planned);
        return planned;
      });
    } catch (err) {
      if (this.open.get(incident.fingerprint) === reserved) this.open.delete(incident.fingerprint);
      throw err;
    }
    this.deps.lifecycle.incident(
      lifecycleEvent('triggered', incident, PIPELINE, nowIso, {
        decision_rule: decision.classification.rule,
      }),
    );
    void this.refreshGauges();
    return {
      outcome: 'paged',
      incident: { id: incident.id, correlation_id: incident.correlation_id },
      deliveries,
      storm,
    };
  }

  private async applyResolve(decision: Decision): Promise<ApplyResult> {
    const fingerprint = decision.resolves as string;
    const ref = this.open.get(fingerprint);
    if (!ref) return { outcome: 'ignored', incident: null, deliveries: [], storm: false };
    // The resolve takes effect now, in event order: the next failure of this fingerprint opens a
    // new incident even while this one's resolution is still being written.
    this.open.delete(fingerprint);
    const actor: Actor = { actor: `policy:${decision.classification.rule}`, source: 'pipeline' };
    const resolving = this.transition(ref.id, 'resolve', actor, null);
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
    return {
      outcome: result.ok && result.changed ? 'resolved' : 'ignored',
      incident: { id: ref.id, correlation_id: ref.correlationId },
      deliveries: result.ok ? result.deliveries : [],
      storm: false,
    };
  }

  /**
   * A state change from the pipeline, the API or a provider's webhook. Follow-ups go to every
   * provider holding the incident except `origin` (the provider that told us), through the outbox.
   */
  transition(
    id: string,
    action: IncidentAction,
    actor: Actor,
    origin: string | null,
    note: string | null = null,
  ): Promise<TransitionResult> {
    return this.serial.run(id, async () => {
      const incident = await this.get(id);
      if (!incident) return { ok: false, reason: `no incident ${id}`, incident: null };
      return this.transitionLocked(incident, action, actor, origin, note, {
        tx: this.deps.store.transaction(),
        dirty: false,
        detail: null,
      });
    });
  }

  /**
   * What a provider reported (a webhook), applied in one batch with its replay mark: refused when
   * stale (older than the newest event applied from that provider instance) or illegal, recorded
   * on the timeline either way; a change syncs every other provider holding the incident.
   */
  applyProviderEvent(id: string, change: ProviderChange, event: ProviderEvent): Promise<ProviderEventResult> {
    return this.serial.run(id, async () => {
      const { store } = this.deps;
      // Checked again here, serialised with the batch that marks it: a concurrent copy is a replay.
      if (event.webhookId !== null && (await store.seenWebhook(event.webhookId))) return { result: 'replay' };
      const incident = await this.get(id);
      if (!incident) return { result: 'missing' };
      const actor: Actor = { actor: event.actor, source: event.provider, sourceEventId: event.eventId };
      const tx = store.transaction();
      if (event.webhookId !== null) tx.markWebhook(event.webhookId);
      const mark = await store.providerMark(id, event.provider);
      const stale = staleReason(change, event, mark);
      if (stale !== null) {
        const nowIso = new Date(this.deps.clock.now()).toISOString();
        const version = this.deps.policy().stamp.version;
        tx.appendAudit(audit(incident, 'stale_event', actor, version, nowIso, `ignored, stale: ${stale}`));
        await store.commit(tx);
        return { result: 'stale', incident, reason: stale };
      }
      const next = nextMark(event, mark);
      if (next !== null) tx.putProviderMark(id, event.provider, next);
      const ref = learnExternalId(incident.holds[event.provider], event.externalId);
      if (ref !== null) tx.indexIncidentRef(ref, id);
      if (change.kind === 'transition') {
        const { action, note, detail } = change;
        const r = await this.transitionLocked(incident, action, actor, event.provider, note, {
          tx,
          dirty: ref !== null,
          detail,
        });
        if (!r.ok) return { result: 'refused', incident, reason: r.reason };
        return r.changed
          ? { result: 'applied', incident: r.incident, deliveries: r.deliveries }
          : { result: 'unchanged', incident: r.incident };
      }
      if (change.kind === 'timeline') {
        const nowIso = new Date(this.deps.clock.now()).toISOString();
        const version = this.deps.policy().stamp.version;
        const details = change.details ? { details: change.details } : {};
        tx.appendAudit(audit(incident, change.type, actor, version, nowIso, change.message, details));
      }
      if (ref !== null) {
        incident.revision++;
        tx.putIncident(incident);
      }
      await store.commit(tx);
      return { result: change.kind === 'timeline' ? 'noted' : 'observed', incident };
    });
  }

  /** The transition itself, inside the incident's serial section; commits `tx` whatever happens. */
  private async transitionLocked(
    incident: Incident,
    action: IncidentAction,
    actor: Actor,
    origin: string | null,
    note: string | null,
    batch: { tx: Transaction; dirty: boolean; detail: string | null },
  ): Promise<TransitionResult> {
    const { tx, detail } = batch;
    const nowMs = this.deps.clock.now();
    const nowIso = new Date(nowMs).toISOString();
    const version = this.deps.policy().stamp.version;
    const t = transition(incident.state, action);
    const refuse = async (reason: string): Promise<TransitionResult> => {
      const by = origin === null ? '' : ` in ${origin} by ${actor.actor}`;
      tx.appendAudit(
        audit(incident, 'transition_refused', actor, version, nowIso, `${action}${by} refused: ${reason}`),
      );
      if (batch.dirty) tx.putIncident(bump(incident));
      await this.deps.store.commit(tx);
      return { ok: false, reason, incident };
    };
    if (!t.ok) return refuse(t.reason);
    if (action === 'reopen') {
      const newer = this.open.get(incident.fingerprint);
      if (newer && newer.id !== incident.id)
        return refuse(`a newer incident ${newer.id} with the same fingerprint is open`);
    }
    const holdChanged = origin !== null && updateHold(incident, origin, t.to);
    if (!t.changed) {
      if (holdChanged || batch.dirty) tx.putIncident(bump(incident));
      await this.deps.store.commit(tx);
      return { ok: true, changed: false, incident, deliveries: [] };
    }
    this.applyState(incident, action, t.to, nowIso);
    const deliveries = this.followUps(incident, t.to, origin, note, nowMs);
    if (t.to === 'resolved') {
      const superseded = this.requireDispatcher().supersede(incident, (d) => d.action === 'trigger', nowIso);
      for (const d of superseded) tx.putDelivery(d);
    }
    for (const d of deliveries) tx.putDelivery(d);
    tx.putIncident(incident);
    const message = `${action}${origin ? ` in ${origin}` : ''} by ${actor.actor}${detail ? ` (${detail})` : ''}${deliveries.length ? `; syncing ${deliveries.map((d) => d.candidates[0]).join(', ')}` : ''}`;
    tx.appendAudit(
      audit(incident, action === 'escalate' ? 'escalated' : t.to, actor, version, nowIso, message),
    );
    await this.deps.store.commit(tx, { sync: true });
    this.remember(incident);
    // Only this incident's entry: a newer incident may hold the fingerprint already.
    if (t.to === 'resolved' && this.open.get(incident.fingerprint)?.id === incident.id)
      this.open.delete(incident.fingerprint);
    this.requireDispatcher().enqueue(deliveries);
    const kind =
      action === 'escalate'
        ? 'escalated'
        : t.to === 'acknowledged'
          ? 'acknowledged'
          : t.to === 'resolved'
            ? 'resolved'
            : 'triggered';
    const source = actor.sourceEventId ? { source_event_id: actor.sourceEventId } : {};
    this.deps.lifecycle.incident(lifecycleEvent(kind, incident, actor, nowIso, { action, ...source }));
    void this.refreshGauges();
    return { ok: true, changed: true, incident, deliveries };
  }

  private applyState(
    incident: Incident,
    action: IncidentAction,
    to: Incident['state'],
    nowIso: string,
  ): void {
    if (action === 'escalate') incident.escalated = true;
    if (action === 'reopen') {
      incident.resolved_at = null;
      incident.acknowledged_at = null;
      this.open.set(incident.fingerprint, refOf(incident));
    }
    incident.state = to;
    if (to === 'acknowledged') incident.acknowledged_at = nowIso;
    if (to === 'resolved') incident.resolved_at = nowIso;
    if (to === 'triggered' && action === 'unacknowledge') incident.acknowledged_at = null;
    incident.revision++;
  }

  /** Deliveries that bring the other providers to the incident's new state. */
  private followUps(
    incident: Incident,
    to: Incident['state'],
    origin: string | null,
    note: string | null,
    nowMs: number,
  ): Delivery[] {
    if (to !== 'acknowledged' && to !== 'resolved') return [];
    const action = to === 'acknowledged' ? 'acknowledge' : 'resolve';
    return holdsToFollow(incident, to, origin).map((h) => {
      const plan: NewDelivery = {
        action,
        route: h.route,
        mode: 'direct',
        candidates: [h.provider],
        origin,
        note,
      };
      return newDelivery(this.deps.ids.deliveryId(), incident, plan, nowMs);
    });
  }

  // --- reads -------------------------------------------------------------------------------------

  async get(id: string): Promise<Incident | undefined> {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const incident = await this.deps.store.getIncident(id);
    if (incident) this.remember(incident);
    return incident;
  }

  /** The live occurrence count of an open incident (written back in batches). */
  live(incident: Incident): Incident {
    const ref = this.open.get(incident.fingerprint);
    if (!ref || ref.id !== incident.id || ref.unsaved === 0) return incident;
    return { ...incident, occurrences: ref.occurrences, last_seen: new Date(ref.lastSeenMs).toISOString() };
  }

  private remember(incident: Incident): void {
    this.cache.delete(incident.id);
    this.cache.set(incident.id, incident);
    if (this.cache.size > CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value as string);
  }

  // --- occurrence write-back ---------------------------------------------------------------------

  /** Repeats are counted in memory and written in batches; resolves when this batch is on disk. */
  private scheduleFlush(): Promise<void> {
    this.flushing ??= new Promise<void>((resolve, reject) => {
      setTimeout(() => {
        this.flushing = null;
        this.flush().then(resolve, reject);
      }, FLUSH_DELAY_MS);
    });
    return this.flushing;
  }

  async flush(): Promise<void> {
    const dirty = this.open.takeDirty();
    await Promise.all(
      dirty.map((ref) =>
        this.serial.run(ref.id, async () => {
          const incident = await this.get(ref.id);
          if (!incident || ref.unsaved === 0) return;
          incident.occurrences = ref.occurrences;
          incident.last_seen = new Date(ref.lastSeenMs).toISOString();
          if (incident.storm) incident.storm.folded = ref.occurrences;
          incident.revision++;
          ref.unsaved = 0;
          await this.deps.store.commit(this.deps.store.transaction().putIncident(incident));
        }),
      ),
    );
  }

  /** Persist a delivery with the incident changes and audit entry its outcome implies. */
  commitDelivery(
    delivery: Delivery,
    change: (incident: Incident, tx: Transaction) => Delivery[],
    sync: boolean,
  ): Promise<void> {
    return this.serial.run(delivery.incident_id, async () => {
      const incident = await this.get(delivery.incident_id);
      const tx = this.deps.store.transaction().putDelivery(delivery);
      const followUps = incident ? change(incident, tx) : [];
      for (const d of followUps) tx.putDelivery(d);
      if (incident) tx.putIncident(incident);
      await this.deps.store.commit(tx, { sync });
      this.requireDispatcher().enqueue(followUps);
    });
  }

  newFollowUp(incident: Incident, plan: NewDelivery): Delivery {
    return newDelivery(this.deps.ids.deliveryId(), incident, plan, this.deps.clock.now());
  }

  async refreshGauges(): Promise<void> {
    const counts = await this.deps.store.countIncidentsByState();
    for (const [state, n] of Object.entries(counts)) this.deps.metrics.incidents.set({ state }, n);
  }

  private requireDispatcher(): Dispatcher {
    if (this.dispatcher === null) throw new Error('IncidentService used before a dispatcher was attached');
    return this.dispatcher;
  }
}

/** The provider that told us of a change is in that state already; returns whether it changed. */
function updateHold(incident: Incident, provider: string, to: Incident['state']): boolean {
  const hold = incident.holds[provider];
  if (!hold || hold.state === 'failed' || hold.state === 'pending') return false;
  const state = to === 'triggered' ? 'open' : to;
  if (hold.state === state) return false;
  hold.state = state;
  return true;
}

function bump(incident: Incident): Incident {
  incident.revision++;
  return incident;
}

function refOf(incident: Incident): OpenRef {
  return {
    id: incident.id,
    correlationId: incident.correlation_id,
    service: incident.service,
    occurrences: incident.occurrences,
    lastSeenMs: Date.parse(incident.last_seen),
    unsaved: 0,
  };
}
