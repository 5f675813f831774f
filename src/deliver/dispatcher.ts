// This process's outbox sender (LevelDB state: docs/architecture.md, "Delivery"). Every pending
// delivery is already durable when it gets here; this decides when each one is attempted, in
// memory: a min-heap of provider keys with work due, timers for what waits. What an attempt does
// and what its outcome means is attempts.ts, shared with the cluster's outbox workers.
// Deliveries for one provider key to one provider go in order: a resolve never overtakes its
// trigger, and a reopened fingerprint's trigger never overtakes the previous incident's resolve.
import type { Clock } from '../domain/clock.js';
import type { Delivery } from '../domain/incident.js';
import type { DeliverySettings } from './settings.js';
import type { ProviderSpec } from '../providers/spec.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import {
  Attempts,
  RECORDING_PER_SLOT,
  slotTaken,
  type DeliveryHooks,
  type LimiterFactory,
} from './attempts.js';
import type { Breakers } from './breakers.js';
import type { ProviderHealth } from './health.js';
import { DueQueue } from './due-queue.js';
import type { DeliveryEngine } from './engine.js';

export type { DeliveryHooks, FailureOutcome } from './attempts.js';

export interface DispatcherDeps {
  clock: Clock;
  random: () => number;
  breakers: Breakers;
  hooks: DeliveryHooks;
  logger: Logger;
  metrics: Metrics;
  maxInFlight?: number;
  limiters?: LimiterFactory;
}

export class Dispatcher implements DeliveryEngine {
  private readonly pending = new Map<string, Delivery>();
  /** `visit`'s scratch set (one per dispatcher, not one per visit: it runs for every delivery). */
  private readonly busy = new Set<string>();
  /** Pending deliveries by provider key, in creation order: the unit of ordering. */
  private readonly byKey = new Map<string, Delivery[]>();
  /** Deliveries attempted and not yet recorded: each holds its key and provider's turn. */
  private readonly inFlight = new Set<string>();
  /** Of those, the ones waiting for the provider's answer: at most `maxInFlight`. */
  private sending = 0;
  /** Keys with a delivery that may be due; only those are looked at. */
  private readonly due = new DueQueue();
  private readonly cancelled = new Set<string>();
  private readonly attempts: Attempts;
  private timer: NodeJS.Timeout | null = null;
  private pumpQueued = false;
  private stopped = false;
  /** Held: deliveries are taken in, in order, but none is attempted until `release`. */
  private held = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly deps: DispatcherDeps) {
    this.attempts = new Attempts(deps);
  }

  /** The providers and settings of the active policy; called at start and on every reload. */
  configure(
    providers: ProviderRegistry,
    specs: Readonly<Record<string, ProviderSpec>>,
    settings: DeliverySettings,
  ): void {
    this.attempts.configure(providers, specs, settings);
    const now = this.deps.clock.now();
    for (const key of this.byKey.keys()) this.due.add(key, now); // new limits, providers, timings
    this.schedule();
  }

  enqueue(deliveries: readonly Delivery[]): void {
    for (const d of deliveries) {
      if (d.status !== 'pending' || this.pending.has(d.id)) continue;
      this.pending.set(d.id, d);
      const list = this.byKey.get(d.provider_key) ?? [];
      list.push(d);
      // Older incidents first (ids are time-ordered), then creation order: a reopened
      // fingerprint's trigger waits for everything the previous incident still has to send.
      list.sort((a, b) =>
        a.incident_id === b.incident_id ? (a.id < b.id ? -1 : 1) : a.incident_id < b.incident_id ? -1 : 1,
      );
      this.byKey.set(d.provider_key, list);
      this.due.add(d.provider_key, d.next_attempt_at);
    }
    this.metricsPending();
    this.schedule();
  }

  /**
   * Withdraw deliveries the incident core marked superseded (a resolved incident's triggers): those
   * not in flight are dropped; one in flight finishes its attempt and is superseded if it fails.
   */
  withdraw(deliveries: readonly Delivery[]): void {
    const keys = new Set<string>();
    for (const w of deliveries) {
      const d = this.pending.get(w.id);
      if (d === undefined) continue;
      if (this.inFlight.has(d.id)) {
        this.cancelled.add(d.id);
        continue;
      }
      d.status = 'superseded';
      this.remove(d);
      keys.add(d.provider_key);
    }
    // What waited behind a withdrawn delivery may go now.
    const now = this.deps.clock.now();
    for (const key of keys) this.due.add(key, now);
    if (keys.size > 0) this.schedule();
    this.metricsPending();
  }

  pendingCount(): Promise<number> {
    return Promise.resolve(this.pending.size);
  }

  /** Pending deliveries by the provider each one is waiting for. */
  pendingByProvider(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const d of this.pending.values()) {
      const name = d.candidates[d.current] as string;
      out[name] = (out[name] ?? 0) + 1;
    }
    return out;
  }

  healthOf(provider: string): ProviderHealth {
    return this.attempts.healthOf(provider);
  }

  /** Resolves when nothing is pending or in flight (tests, shutdown drains). */
  idle(): Promise<void> {
    if (this.pending.size === 0 && this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Attempt nothing until `release`. A restart resumes its outbox while it is still opening the rest
   * of its state: the resumed deliveries' requests, and the fsyncs recording their outcomes, kept the
   * thread pool busy and put off ready by 1.5 s with 3,700 pending (docs/performance.md, "Restart and
   * footprint"). Deliveries taken in meanwhile keep their order; none waits longer than the start.
   */
  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    this.schedule();
  }

  /** Stop starting attempts; wait (up to graceMs) for those in flight. Pending ones stay in the outbox. */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const deadline = this.deps.clock.now() + graceMs;
    while (this.inFlight.size > 0 && this.deps.clock.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
  }

  private schedule(): void {
    if (this.pumpQueued || this.stopped || this.held) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.stopped || this.held || !this.attempts.configured) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const now = this.deps.clock.now();
    while (this.hasSlot()) {
      const key = this.due.takeDue(now);
      if (key === null) break;
      this.visit(key, now);
    }
    // With no slot free, the next answer or record pumps again; no timer needed for that.
    const next = this.due.peek();
    if (next !== null && (next > now || this.hasSlot())) {
      this.timer = setTimeout(() => this.schedule(), Math.max(0, next - now));
      this.timer.unref();
    }
    this.settleIdle();
  }

  /**
   * Start what is due among one key's deliveries: per provider, only the oldest pending one may
   * go (order per key and provider). Requeues the key for whatever has to wait.
   */
  private visit(key: string, now: number): void {
    const list = this.byKey.get(key);
    if (list === undefined) return;
    let earliest = Infinity;
    const busy = this.busy; // providers with an earlier delivery for this key still pending
    busy.clear();
    for (const d of list) {
      const provider = d.candidates[d.current] as string;
      const blocked = busy.has(provider);
      busy.add(provider);
      if (blocked || this.inFlight.has(d.id)) continue; // the one ahead requeues the key when done
      if (d.next_attempt_at > now) {
        earliest = Math.min(earliest, d.next_attempt_at);
        continue;
      }
      if (!this.hasSlot()) {
        earliest = now;
        continue;
      }
      this.inFlight.add(d.id);
      this.sending++;
      const answered = slotTaken(() => {
        this.sending--;
        this.schedule();
      });
      void this.attempt(d, answered).finally(() => {
        answered();
        this.inFlight.delete(d.id);
        this.cancelled.delete(d.id);
        this.due.add(key, this.deps.clock.now());
        this.settleIdle();
        this.schedule();
      });
    }
    if (earliest !== Infinity) this.due.add(key, earliest);
  }

  /** One attempt through attempts.ts; a finished delivery leaves, and its follow-ups come in. */
  private async attempt(d: Delivery, answered: () => void): Promise<void> {
    let result;
    try {
      result = await this.attempts.run(d, () => this.cancelled.has(d.id), answered);
    } catch (err) {
      // Its outcome could not be recorded: it stays pending on disk and is sent again at the next
      // start (providers dedup by key); here it must not block the deliveries behind it.
      this.deps.logger.error(
        { event: 'delivery_unrecorded', delivery: d.id, err },
        'could not record a delivery outcome',
      );
      if (d.status !== 'pending') this.remove(d);
      else d.next_attempt_at = this.deps.clock.now() + 5_000;
      return;
    }
    // A delivered one keeps its place until its outcome is recorded: a catch-up resolve it made
    // must come before anything newer for the same key.
    if (d.status !== 'pending') this.remove(d);
    this.metricsPending();
    if (result.kind === 'delivered') this.enqueue(result.followUps);
  }

  /** A send slot is free, and the outcomes waiting to be recorded are within their bound. */
  private hasSlot(): boolean {
    const max = this.deps.maxInFlight ?? 64;
    return this.sending < max && this.inFlight.size < max * RECORDING_PER_SLOT;
  }

  private remove(d: Delivery): void {
    this.pending.delete(d.id);
    this.metricsPending();
    const list = this.byKey.get(d.provider_key);
    if (!list) return;
    const i = list.indexOf(d);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byKey.delete(d.provider_key);
  }

  private metricsPending(): void {
    this.deps.metrics.deliveriesPending.set(this.pending.size);
  }

  private settleIdle(): void {
    if (this.pending.size > 0 || this.inFlight.size > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
