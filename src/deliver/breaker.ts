// One circuit breaker per provider instance (docs/architecture.md, "Circuit breakers"): closed → open
// after consecutive failures or a failure rate within a window; half open after a cool-down, admitting
// exactly one probe; closed again after a successful probe, open again (a fresh cool-down) after a
// failed one. The state is plain JSON so the dispatcher can persist it on every transition and restore
// it.
import type { Clock } from '../domain/clock.js';
import { durationMs } from '../domain/duration.js';
import type { BreakerSettings } from './settings.js';

export interface BreakerSample {
  at: number;
  ok: boolean;
}

export type BreakerState =
  /** `failures`: consecutive failures; `window`: recent outcomes for the failure rate. */
  | { kind: 'closed'; failures: number; window: BreakerSample[] }
  /** `reopenCount`: failed probes since it last closed. */
  | { kind: 'open'; openedAt: number; reopenCount: number }
  /** `probeStartedAt`: when the one admitted probe started, null while none is in flight. */
  | { kind: 'half_open'; since: number; probeStartedAt: number | null; reopenCount: number };

export type BreakerKind = BreakerState['kind'];

/** `ignored`: the caller's own fault (4xx other than 408/429), which says nothing about the provider. */
export type BreakerOutcome = 'success' | 'failure' | 'ignored';

export type BreakerListener = (from: BreakerKind, to: BreakerKind, state: BreakerState) => void;

// Enough for any paging rate; bounds memory should a provider be hammered.
const MAX_WINDOW_SAMPLES = 1_000;

export class CircuitBreaker {
  private current: BreakerState;
  private readonly listeners: BreakerListener[] = [];
  private readonly windowMs: number;
  private readonly cooldownMs: number;

  constructor(
    readonly name: string,
    private readonly settings: BreakerSettings,
    private readonly clock: Clock,
    initial?: BreakerState,
  ) {
    this.windowMs = durationMs(settings.window);
    this.cooldownMs = durationMs(settings.cooldown);
    this.current = initial ? restore(initial) : closed();
  }

  /** Whether a request may go now. In half-open this takes the single probe slot. */
  canAttempt(): boolean {
    const now = this.clock.now();
    const state = this.current;
    switch (state.kind) {
      case 'closed':
        return true;
      case 'open':
        if (now < state.openedAt + this.cooldownMs) return false;
        this.transition({
          kind: 'half_open',
          since: now,
          probeStartedAt: now,
          reopenCount: state.reopenCount,
        });
        return true;
      case 'half_open':
        // A probe that never reported back (a lost promise) must not hold the slot for ever.
        if (state.probeStartedAt !== null && now < state.probeStartedAt + this.cooldownMs) return false;
        this.current = { ...state, probeStartedAt: now };
        return true;
      default:
        return assertNever(state);
    }
  }

  record(outcome: BreakerOutcome): void {
    const now = this.clock.now();
    const state = this.current;
    switch (state.kind) {
      case 'closed':
        if (outcome !== 'ignored') this.recordClosed(state, outcome === 'success', now);
        return;
      case 'open':
        return; // a straggler that started before the breaker opened: the cool-down stands
      case 'half_open':
        if (outcome === 'success') this.transition(closed());
        else if (outcome === 'failure')
          this.transition({ kind: 'open', openedAt: now, reopenCount: state.reopenCount + 1 });
        else this.current = { ...state, probeStartedAt: null }; // inconclusive: free the slot
        return;
      default:
        return assertNever(state);
    }
  }

  /** A JSON-safe copy of the state. */
  state(): BreakerState {
    if (this.current.kind === 'closed') this.trim(this.current.window, this.clock.now());
    return structuredClone(this.current);
  }

  /** When a request may go next: null if now (closed, or half open with the probe slot free). */
  retryAt(): number | null {
    const state = this.current;
    switch (state.kind) {
      case 'closed':
        return null;
      case 'open':
        return state.openedAt + this.cooldownMs;
      case 'half_open':
        return state.probeStartedAt === null ? null : state.probeStartedAt + this.cooldownMs;
      default:
        return assertNever(state);
    }
  }

  /** Called on every change of kind; returns an unsubscribe function. */
  onChange(listener: BreakerListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  private recordClosed(state: Extract<BreakerState, { kind: 'closed' }>, ok: boolean, now: number): void {
    // In place, oldest first: the state is this breaker's own (`state()` and listeners get copies).
    // Trimmed in chunks, and always before the failure rate is read: copying up to 1,000 samples per
    // outcome, later a splice per outcome, took 3-6% of the sidecar's CPU while delivering
    // (docs/performance.md, "Delivery path").
    const window = state.window;
    window.push({ at: now, ok });
    if (ok) {
      if (window.length >= 2 * MAX_WINDOW_SAMPLES) this.trim(window, now);
      this.current = { kind: 'closed', failures: 0, window };
      return;
    }
    this.trim(window, now);
    const failures = state.failures + 1;
    this.current = { kind: 'closed', failures, window };
    if (this.shouldOpen(failures, window)) this.transition({ kind: 'open', openedAt: now, reopenCount: 0 });
  }

  /** Drops the samples older than the window, and the oldest beyond the most it keeps. */
  private trim(window: BreakerSample[], now: number): void {
    const cutoff = now - this.windowMs;
    let expired = Math.max(0, window.length - MAX_WINDOW_SAMPLES);
    while (expired < window.length && (window[expired] as BreakerSample).at <= cutoff) expired++;
    if (expired > 0) window.splice(0, expired);
  }

  private shouldOpen(failures: number, window: BreakerSample[]): boolean {
    const { consecutive_failures, min_requests, failure_rate } = this.settings;
    if (failures >= consecutive_failures) return true;
    if (window.length < min_requests) return false;
    const failed = window.filter((s) => !s.ok).length;
    return failed / window.length >= failure_rate;
  }

  private transition(next: BreakerState): void {
    const from = this.current.kind;
    this.current = next;
    for (const listener of [...this.listeners]) listener(from, next.kind, this.state());
  }
}

/** Gauge value for `incident_router_breaker_state`: 0 closed, 1 open, 2 half open. */
export function breakerGauge(kind: BreakerKind): 0 | 1 | 2 {
  switch (kind) {
    case 'closed':
      return 0;
    case 'open':
      return 1;
    case 'half_open':
      return 2;
    default:
      return assertNever(kind);
  }
}

/** Validates a stored state (Store.getBreaker returns unknown); undefined when it is not one. */
export function parseBreakerState(value: unknown): BreakerState | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
  if (v.kind === 'closed' && num(v.failures) && Array.isArray(v.window)) {
    const window = v.window.filter((s): s is BreakerSample => num(s?.at) && typeof s?.ok === 'boolean');
    return { kind: 'closed', failures: v.failures, window: window.map(({ at, ok }) => ({ at, ok })) };
  }
  const reopenCount = num(v.reopenCount) ? v.reopenCount : 0;
  if (v.kind === 'open' && num(v.openedAt)) return { kind: 'open', openedAt: v.openedAt, reopenCount };
  if (v.kind === 'half_open' && num(v.since))
    return { kind: 'half_open', since: v.since, probeStartedAt: null, reopenCount };
  return undefined;
}

function closed(): BreakerState {
  return { kind: 'closed', failures: 0, window: [] };
}

// A probe in flight when the process stopped will never report back: free its slot.
function restore(state: BreakerState): BreakerState {
  const copy = structuredClone(state);
  return copy.kind === 'half_open' ? { ...copy, probeStartedAt: null } : copy;
}

function assertNever(value: never): never {
  throw new Error(`unhandled breaker state ${JSON.stringify(value)}`);
}
