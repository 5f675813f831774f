// One attempt of one delivery, and what its outcome means (docs/architecture.md, "Delivery"):
// retry with exponential backoff and full jitter, never sooner than Retry-After; `failover`
// deliveries move to their next provider when the current one's breaker is open, its retry budget is
// spent, or it refused for good; `all`/`direct` ones stay put; a client-side rate limit keeps bursts
// waiting; when every provider is down nothing is dropped. The delivery is updated in place, and the
// hooks record each outcome. Both outboxes use it: this process's dispatcher, and the cluster's
// outbox workers; they differ only in how they wait (a timer, or a nak with a delay).
import type { Clock } from '../domain/clock.js';
import { durationMs } from '../domain/duration.js';
import type { Delivery, Incident } from '../domain/incident.js';
import type { MaybePromise } from '../domain/maybe-promise.js';
import type { DeliverySettings } from './settings.js';
import type { ProviderSpec, RateLimit } from '../providers/spec.js';
import { ProviderError, type ProviderRequest, type ProviderResponse } from '../providers/provider.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { nextDelayMs, outageDelayMs } from './backoff.js';
import type { Breakers } from './breakers.js';
import { ProviderHealth } from './health.js';
import { RateLimiter, type TakeResult } from './rate-limiter.js';

export type FailureOutcome =
  | { kind: 'retry'; at: number }
  | { kind: 'failover'; to: string }
  /** `first`: the first time every provider of this delivery failed (a `delivery_failed` moment). */
  | { kind: 'exhausted'; at: number; first: boolean }
  | { kind: 'refused'; reason: string };

export interface DeliveryHooks {
  /**
   * The request for this delivery's current provider, or null when it can no longer be built.
   * `incident`: the record as the caller has just read it (the cluster's outbox worker), not read again.
   */
  request(delivery: Delivery, provider: string, incident?: Incident): Promise<ProviderRequest | null>;
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

/** Calls per credential per minute: this process's sliding window, or the cluster's shared count. */
export interface CallLimiter {
  tryTake(key: string, nowMs: number): MaybePromise<TakeResult>;
}

export type LimiterFactory = (limit: RateLimit | undefined) => CallLimiter;

export const localLimiters: LimiterFactory = (limit) => new RateLimiter(limit);

/**
 * Deliveries whose answer is being recorded may outnumber the send slots this many times over: a
 * slot is free once the provider answered (`run`'s `answered`), since outcomes are written in
 * groups (one fsync for many) while each send waits for its own answer. Both outboxes use it.
 */
export const RECORDING_PER_SLOT = 4;

/** A send slot just taken: the function returned frees it, once however often it is called. */
export function slotTaken(free: () => void): () => void {
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    free();
  };
}

export type AttemptResult =
  /** Sent and recorded; `followUps` are new deliveries the outcome made. */
  | { kind: 'delivered'; followUps: Delivery[] }
  /** Failed and recorded: `next_attempt_at`, `current` and `status` say what comes next. */
  | { kind: 'failed'; outcome: FailureOutcome }
  /** Not attempted (rate limit, the request could not be built): `next_attempt_at` says when. */
  | { kind: 'deferred' };

interface Timing {
  timeoutMs: number;
  initialMs: number;
  maxMs: number;
  budget: number;
  outageMaxMs: number;
}

export interface AttemptsDeps {
  clock: Clock;
  random: () => number;
  breakers: Breakers;
  hooks: DeliveryHooks;
  logger: Logger;
  metrics: Metrics;
  limiters?: LimiterFactory;
}

export class Attempts {
  private readonly health = new Map<string, ProviderHealth>();
  private limiters = new Map<string, CallLimiter>();
  private providers: ProviderRegistry | null = null;
  private timing: Timing | null = null;

  constructor(private readonly deps: AttemptsDeps) {}

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
    const make = this.deps.limiters ?? localLimiters;
    this.limiters = new Map(Object.entries(specs).map(([name, spec]) => [name, make(spec.rate_limit)]));
  }

  get configured(): boolean {
    return this.providers !== null;
  }

  healthOf(provider: string): ProviderHealth {
    let h = this.health.get(provider);
    if (h === undefined) {
      h = new ProviderHealth();
      this.health.set(provider, h);
    }
    return h;
  }

  /** The provider a delivery waits for now. */
  static providerOf(d: Delivery): string {
    return d.candidates[d.current] as string;
  }

  /**
   * One attempt; `cancelled`: the delivery was withdrawn while in flight (superseded if it fails).
   * `answered` is called once the provider answered or the request failed, before the outcome is
   * recorded: the caller's send slot is free from then on, while the delivery's turn (its order per
   * key and provider) lasts until `run` resolves.
   */
  async run(
    d: Delivery,
    cancelled: () => boolean = () => false,
    answered: () => void = () => undefined,
    incident?: Incident,
  ): Promise<AttemptResult> {
    const timing = this.timing as Timing;
    const name = Attempts.providerOf(d);
    const registry = this.providers as ProviderRegistry;
    if (!registry.has(name)) {
      const error = new ProviderError(
        name,
        'client_error',
        `provider "${name}" is not in the active policy`,
        {
          retryable: false,
        },
      );
      return this.fail(d, name, error, cancelled);
    }
    const breaker = this.deps.breakers.get(name);
    if (!breaker.canAttempt()) return this.unavailable(d, name, breaker.retryAt());
    let request: ProviderRequest | null;
    try {
      request = await this.deps.hooks.request(d, name, incident);
    } catch (err) {
      breaker.record('ignored');
      this.deps.logger.error(
        { event: 'delivery_request_failed', delivery: d.id, err },
        'could not build a provider request',
      );
      d.next_attempt_at = this.deps.clock.now() + timing.outageMaxMs;
      return { kind: 'deferred' };
    }
    if (request === null) {
      breaker.record('ignored');
      const error = new ProviderError(
        name,
        'client_error',
        'the incident no longer has what this delivery needs',
        {
          retryable: false,
        },
      );
      return this.fail(d, name, error, cancelled);
    }
    const limit = await this.limiters.get(name)?.tryTake(limiterKey(name, request), this.deps.clock.now());
    if (limit && !limit.ok) {
      breaker.record('ignored'); // not attempted: frees a half-open probe slot
      d.next_attempt_at = limit.retryAtMs;
      return { kind: 'deferred' };
    }
    return this.send(d, name, request, registry, cancelled, answered);
  }

  private async send(
    d: Delivery,
    name: string,
    request: ProviderRequest,
    registry: ProviderRegistry,
    cancelled: () => boolean,
    answered: () => void,
  ): Promise<AttemptResult> {
    const breaker = this.deps.breakers.get(name);
    const started = performance.now();
    let response: ProviderResponse;
    try {
      response = await registry
        .get(name)
        .send(request, AbortSignal.timeout((this.timing as Timing).timeoutMs));
      answered();
    } catch (err) {
      answered();
      const error =
        err instanceof ProviderError
          ? err
          : new ProviderError(name, 'network', String(err), { retryable: true, cause: err });
      breaker.record(error.reason === 'client_error' ? 'ignored' : 'failure');
      this.observe(name, false, performance.now() - started, error);
      d.attempts++;
      d.attempts_on_current++;
      return this.fail(d, name, error, cancelled);
    }
    const latencyMs = performance.now() - started;
    breaker.record('success');
    this.observe(name, true, latencyMs, null);
    d.attempts++;
    d.status = 'done';
    const followUps = await this.deps.hooks.delivered(d, name, response, request, latencyMs);
    return { kind: 'delivered', followUps };
  }

  /** After a failed attempt: retry here, fail over, wait out an outage, or give up on a refusal. */
  private async fail(
    d: Delivery,
    name: string,
    error: ProviderError,
    cancelled: () => boolean,
  ): Promise<AttemptResult> {
    const now = this.deps.clock.now();
    d.last_error = {
      provider: name,
      reason: error.reason,
      status: error.status,
      message: error.message,
      at: new Date(now).toISOString(),
    };
    d.updated_at = d.last_error.at;
    const outcome = this.outcomeOf(d, name, error, now, cancelled());
    await this.deps.hooks.failed(d, name, error, outcome);
    return { kind: 'failed', outcome };
  }

  private outcomeOf(
    d: Delivery,
    name: string,
    error: ProviderError,
    now: number,
    cancelled: boolean,
  ): FailureOutcome {
    const timing = this.timing as Timing;
    if (cancelled) {
      d.status = 'superseded';
      return { kind: 'refused', reason: 'superseded while in flight' };
    }
    if (!error.retryable) {
      if (!d.refused.includes(name)) d.refused.push(name);
      const next = this.nextCandidate(d, false);
      if (next !== null) return this.moveTo(d, next, now);
      d.status = 'failed';
      return { kind: 'refused', reason: `every provider refused: ${d.refused.join(', ')}` };
    }
    if (d.attempts_on_current < timing.budget) {
      d.next_attempt_at =
        now + nextDelayMs(d.attempts_on_current - 1, timing, this.deps.random, error.retryAfterMs);
      return { kind: 'retry', at: d.next_attempt_at };
    }
    const next = d.mode === 'failover' ? this.nextCandidate(d, true) : null;
    return next === null ? this.exhaust(d, now, error.retryAfterMs) : this.moveTo(d, next, now);
  }

  /** The current provider's breaker is open: fail over without an attempt, or wait for the probe. */
  private async unavailable(d: Delivery, name: string, retryAt: number | null): Promise<AttemptResult> {
    const now = this.deps.clock.now();
    const next = d.mode === 'failover' ? this.nextCandidate(d, true) : null;
    const error = new ProviderError(name, 'breaker_open', `${name}'s circuit breaker is open`, {
      retryable: true,
    });
    if (next !== null) {
      const outcome = this.moveTo(d, next, now);
      await this.deps.hooks.failed(d, name, error, outcome);
      return { kind: 'failed', outcome };
    }
    // Open: wait for the cool-down to end. Half open with its probe out: look again shortly, so a
    // successful probe releases the queue at once.
    const probing = this.deps.breakers.get(name).state().kind === 'half_open';
    const waitUntil = probing
      ? now + 250
      : Math.min(retryAt ?? now, now + (this.timing as Timing).outageMaxMs);
    if (!d.exhausted) {
      // No provider can take it now: the first time, that is a `delivery_failed` moment.
      const outcome = this.exhaust(d, now, waitUntil - now);
      await this.deps.hooks.failed(d, name, error, outcome);
      return { kind: 'failed', outcome };
    }
    d.next_attempt_at = Math.max(waitUntil, now + 10);
    return { kind: 'deferred' };
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
}

/** One rate-limit bucket per provider and credential (PagerDuty limits per integration key). */
function limiterKey(name: string, request: ProviderRequest): string {
  return `${name}\u0000${request.target.routing_key ?? request.target.api_key ?? request.target.url}`;
}
