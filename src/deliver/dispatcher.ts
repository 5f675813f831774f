// The outbox's sender (SPEC §4). Every pending delivery is already durable when it gets here; this
// decides when and where each one is attempted:
//   - retries with exponential backoff and full jitter, honouring Retry-After, a timeout per attempt;
//   - `failover` deliveries move to their next provider when the current one's breaker is open, its
//     retry budget is spent, or it refused the request for good; `all`/`direct` ones stay put;
//   - a client-side rate limit per provider key keeps bursts waiting here instead of collecting 429s;
//   - when every provider is down nothing is dropped: deliveries wait with capped backoff.
// Deliveries for one provider key to one provider go in order: a resolve never overtakes its
// trigger, and a reopened fingerprint's trigger never overtakes the previous incident's resolve.
// Persistence and incident bookkeeping are the hooks' job (the incident service).
import type { Clock } from '../domain/clock.js';
import { durationMs } from '../domain/duration.js';
import type { Delivery } from '../domain/incident.js';
import type { DeliverySettings, ProviderSpec } from '../policy/types.js';
import { ProviderError, type ProviderRequest, type ProviderResponse } from '../providers/provider.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { nextDelayMs, outageDelayMs } from './backoff.js';
import type { Breakers } from './breakers.js';
import { ProviderHealth } from './health.js';
import { DueQueue } from './due-queue.js';
import type { DeliveryEngine } from './engine.js';
import { RateLimiter } from './rate-limiter.js';

export type FailureOutcome =
  | { kind: 'retry'; at: number }
  | { kind: 'failover'; to: string }
  /** `first`: the first time every provider of this delivery failed (a `delivery_failed` moment). */
  | { kind: 'exhausted'; at: number; first: boolean }
  | { kind: 'refused'; reason: string };

export interface DeliveryHooks {
  /** The request for this delivery's current provider, or null when it can no longer be built. */
  request(delivery: Delivery, provider: string): Promise<ProviderRequest | null>;
  /** Records a success; returns the follow-ups it made (a late trigger's catch-up), sent next. */
  delivered(
    delivery: Delivery,
    provider: string,
    response: ProviderResponse,
    request: ProviderRequest,
    latencyMs: number,
  ): Promise<Delivery[]>;
  failed(delivery: Delivery, provider: string, error: ProviderError, outcome: FailureOutcome): Promise<void>;
}

interface Timing {
  timeoutMs: number;
  initialMs: number;
  maxMs: number;
  budget: number;
  outageMaxMs: number;
}

export interface DispatcherDeps {
  clock: Clock;
  random: () => number;
  breakers: Breakers;
  hooks: DeliveryHooks;
  logger: Logger;
  metrics: Metrics;
  maxInFlight?: number;
}

export class Dispatcher implements DeliveryEngine {
  private readonly pending = new Map<string, Delivery>();
  /** Pending deliveries by provider key, in creation order: the unit of ordering. */
  private readonly byKey = new Map<string, Delivery[]>();
  private readonly inFlight = new Set<string>();
  /** Keys with a delivery that may be due; only those are looked at. */
  private readonly due = new DueQueue();
  private readonly cancelled = new Set<string>();
  private readonly health = new Map<string, ProviderHealth>();
  private limiters = new Map<string, RateLimiter>();
  private providers: ProviderRegistry | null = null;
  private timing: Timing | null = null;
  private timer: NodeJS.Timeout | null = null;
  private pumpQueued = false;
  private stopped = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly deps: DispatcherDeps) {}

  /** The providers and settings of the active policy; called at start and on every reload. */
  configure(
    providers: ProviderRegistry,
    specs: Readonly<Record<string, ProviderSpec>>,
    settings: DeliverySettings,
  ): void {
    this.providers = providers;
    this.timing = {
      timeoutMs: durationMs(settings.timeout),
      initialMs: durationMs(settings.retry.initial),
      maxMs: durationMs(settings.retry.max),
      budget: settings.retry.budget,
      outageMaxMs: durationMs(settings.outage_backoff_max),
    };
    this.limiters = new Map(
      Object.entries(specs).map(([name, spec]) => [name, new RateLimiter(spec.rate_limit)]),
    );
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

  pendingFor(incident: { id: string; provider_key: string }): Delivery[] {
    return (this.byKey.get(incident.provider_key) ?? []).filter((d) => d.incident_id === incident.id);
  }

  healthOf(provider: string): ProviderHealth {
    let h = this.health.get(provider);
    if (h === undefined) {
      h = new ProviderHealth();
      this.health.set(provider, h);
    }
    return h;
  }

  /** Resolves when nothing is pending or in flight (tests, shutdown drains). */
  idle(): Promise<void> {
    if (this.pending.size === 0 && this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
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
    if (this.pumpQueued || this.stopped) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.stopped || this.providers === null) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const now = this.deps.clock.now();
    const maxInFlight = this.deps.maxInFlight ?? 64;
    while (this.inFlight.size < maxInFlight) {
      const key = this.due.takeDue(now);
      if (key === null) break;
      this.visit(key, now, maxInFlight);
    }
    // At the in-flight limit, the next attempt to finish pumps again; no timer needed for that.
    const next = this.due.peek();
    if (next !== null && (next > now || this.inFlight.size < maxInFlight)) {
      this.timer = setTimeout(() => this.schedule(), Math.max(0, next - now));
      this.timer.unref();
    }
    this.settleIdle();
  }

  /**
   * Start what is due among one key's deliveries: per provider, only the oldest pending one may
   * go (order per key and provider). Requeues the key for whatever has to wait.
   */
  private visit(key: string, now: number, maxInFlight: number): void {
    const list = this.byKey.get(key);
    if (list === undefined) return;
    let earliest = Infinity;
    const busy = new Set<string>(); // providers with an earlier delivery for this key still pending
    for (const d of list) {
      const provider = d.candidates[d.current] as string;
      const blocked = busy.has(provider);
      busy.add(provider);
      if (blocked || this.inFlight.has(d.id)) continue; // the one ahead requeues the key when done
      if (d.next_attempt_at > now) {
        earliest = Math.min(earliest, d.next_attempt_at);
        continue;
      }
      if (this.inFlight.size >= maxInFlight) {
        earliest = now;
        continue;
      }
      this.inFlight.add(d.id);
      void this.attempt(d).finally(() => {
        this.inFlight.delete(d.id);
        this.cancelled.delete(d.id);
        this.due.add(key, this.deps.clock.now());
        this.settleIdle();
        this.schedule();
      });
    }
    if (earliest !== Infinity) this.due.add(key, earliest);
  }

  private async attempt(d: Delivery): Promise<void> {
    const timing = this.timing as Timing;
    const name = d.candidates[d.current] as string;
    const registry = this.providers as ProviderRegistry;
    if (!registry.has(name)) {
      await this.fail(
        d,
        name,
        new ProviderError(name, 'client_error', `provider "${name}" is not in the active policy`, {
          retryable: false,
        }),
      );
      return;
    }
    const breaker = this.deps.breakers.get(name);
    if (!breaker.canAttempt()) {
      await this.unavailable(d, name, breaker.retryAt());
      return;
    }
    let request: ProviderRequest | null;
    try {
      request = await this.deps.hooks.request(d, name);
    } catch (err) {
      breaker.record('ignored');
      this.deps.logger.error(
        { event: 'delivery_request_failed', delivery: d.id, err },
        'could not build a provider request',
      );
      d.next_attempt_at = this.deps.clock.now() + timing.outageMaxMs;
      return;
    }
    if (request === null) {
      breaker.record('ignored');
      await this.fail(
        d,
        name,
        new ProviderError(name, 'client_error', 'the incident no longer has what this delivery needs', {
          retryable: false,
        }),
      );
      return;
    }
    const limit = this.limiters.get(name)?.tryTake(limiterKey(name, request), this.deps.clock.now());
    if (limit && !limit.ok) {
      breaker.record('ignored'); // not attempted: frees a half-open probe slot
      d.next_attempt_at = limit.retryAtMs;
      return;
    }
    const started = performance.now();
    try {
      const response = await registry.get(name).send(request, AbortSignal.timeout(timing.timeoutMs));
      const latencyMs = performance.now() - started;
      breaker.record('success');
      this.observe(name, true, latencyMs, null);
      d.attempts++;
      d.status = 'done';
      // It keeps its place until the hooks have run: a catch-up resolve they enqueue must come
      // before anything newer for the same key.
      let followUps: Delivery[] = [];
      try {
        followUps = await this.deps.hooks.delivered(d, name, response, request, latencyMs);
      } finally {
        this.remove(d);
      }
      this.enqueue(followUps);
    } catch (err) {
      const error =
        err instanceof ProviderError
          ? err
          : new ProviderError(name, 'network', String(err), { retryable: true, cause: err });
      breaker.record(error.reason === 'client_error' ? 'ignored' : 'failure');
      this.observe(name, false, performance.now() - started, error);
      d.attempts++;
      d.attempts_on_current++;
      await this.fail(d, name, error);
    }
  }

  /** After a failed attempt: retry here, fail over, wait out an outage, or give up on a refusal. */
  private async fail(d: Delivery, name: string, error: ProviderError): Promise<void> {
    const timing = this.timing as Timing;
    const now = this.deps.clock.now();
    d.last_error = {
      provider: name,
      reason: error.reason,
      status: error.status,
      message: error.message,
      at: new Date(now).toISOString(),
    };
    d.updated_at = d.last_error.at;
    let outcome: FailureOutcome;
    if (this.cancelled.has(d.id)) {
      d.status = 'superseded';
      this.remove(d);
      outcome = { kind: 'refused', reason: 'superseded while in flight' };
    } else if (!error.retryable) {
      if (!d.refused.includes(name)) d.refused.push(name);
      const next = this.nextCandidate(d, false);
      if (next === null) {
        d.status = 'failed';
        this.remove(d);
        outcome = { kind: 'refused', reason: `every provider refused: ${d.refused.join(', ')}` };
      } else outcome = this.moveTo(d, next, now);
    } else if (d.attempts_on_current < timing.budget) {
      d.next_attempt_at =
        now + nextDelayMs(d.attempts_on_current - 1, timing, this.deps.random, error.retryAfterMs);
      outcome = { kind: 'retry', at: d.next_attempt_at };
    } else {
      const next = d.mode === 'failover' ? this.nextCandidate(d, true) : null;
      outcome = next === null ? this.exhaust(d, now, error.retryAfterMs) : this.moveTo(d, next, now);
    }
    this.metricsPending();
    await this.deps.hooks.failed(d, name, error, outcome);
  }

  /** The current provider's breaker is open: fail over without an attempt, or wait for the probe. */
  private async unavailable(d: Delivery, name: string, retryAt: number | null): Promise<void> {
    const now = this.deps.clock.now();
    const next = d.mode === 'failover' ? this.nextCandidate(d, true) : null;
    const error = new ProviderError(name, 'breaker_open', `${name}'s circuit breaker is open`, {
      retryable: true,
    });
    if (next !== null) {
      await this.deps.hooks.failed(d, name, error, this.moveTo(d, next, now));
      return;
    }
    // Open: wait for the cool-down to end. Half open with its probe out: look again shortly, so a
    // successful probe releases the queue at once.
    const probing = this.deps.breakers.get(name).state().kind === 'half_open';
    const waitUntil = probing
      ? now + 250
      : Math.min(retryAt ?? now, now + (this.timing as Timing).outageMaxMs);
    if (!d.exhausted) {
      // No provider can take it now: the first time, that is a `delivery_failed` moment.
      await this.deps.hooks.failed(d, name, error, this.exhaust(d, now, waitUntil - now));
      return;
    }
    d.next_attempt_at = Math.max(waitUntil, now + 10);
  }

  /**
   * The next usable candidate after the current one, wrapping around: one that did not refuse for
   * good and, when `healthyOnly`, whose breaker is not open. Null when there is none but the current.
   */
  private nextCandidate(d: Delivery, healthyOnly: boolean): number | null {
    for (let step = 1; step < d.candidates.length; step++) {
      const i = (d.current + step) % d.candidates.length;
      const name = d.candidates[i] as string;
      if (d.refused.includes(name)) continue;
      if (healthyOnly && this.deps.breakers.get(name).retryAt() !== null) continue;
      return i;
    }
    return null;
  }

  private moveTo(d: Delivery, index: number, now: number): FailureOutcome {
    // Wrapping back to the first provider means every one was tried: that is an outage.
    if (index <= d.current && d.attempts_on_current > 0) {
      d.current = index;
      d.attempts_on_current = 0;
      return this.exhaust(d, now, null);
    }
    d.current = index;
    d.attempts_on_current = 0;
    d.next_attempt_at = now;
    return { kind: 'failover', to: d.candidates[index] as string };
  }

  /** Every provider has had its chance: keep the delivery, retry with capped backoff. */
  private exhaust(d: Delivery, now: number, retryAfterMs: number | null): FailureOutcome {
    const timing = this.timing as Timing;
    const round = Math.floor(d.attempts / Math.max(1, timing.budget * d.candidates.length));
    d.next_attempt_at =
      now + Math.max(retryAfterMs ?? 0, outageDelayMs(round, timing.outageMaxMs, this.deps.random));
    d.attempts_on_current = 0;
    const first = !d.exhausted;
    d.exhausted = true;
    return { kind: 'exhausted', at: d.next_attempt_at, first };
  }

  private observe(name: string, ok: boolean, latencyMs: number, error: ProviderError | null): void {
    this.healthOf(name).record({
      ok,
      latencyMs,
      at: this.deps.clock.now(),
      ...(error ? { error: `${error.reason}: ${error.message}` } : {}),
    });
    if (ok) {
      this.deps.metrics.notifications.inc({ provider: name });
      this.deps.metrics.notificationLatency.observe({ provider: name }, latencyMs / 1000);
    } else {
      this.deps.metrics.notificationsFailed.inc({ provider: name, reason: error?.reason ?? 'network' });
    }
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

/** One rate-limit bucket per provider and credential (PagerDuty limits per integration key). */
function limiterKey(name: string, request: ProviderRequest): string {
  return `${name}\u0000${request.target.routing_key ?? request.target.api_key ?? request.target.url}`;
}
