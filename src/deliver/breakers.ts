// One circuit breaker per provider instance, restored from the store at start and persisted on
// every change of state, so an open breaker stays open across a restart.
import type { Clock } from '../domain/clock.js';
import type { BreakerSettings } from './settings.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import {
  breakerGauge,
  CircuitBreaker,
  parseBreakerState,
  type BreakerKind,
  type BreakerState,
} from './breaker.js';

export interface BreakerStore {
  getBreaker(name: string): Promise<unknown | undefined>;
  putBreaker(name: string, state: unknown): Promise<void>;
}

export class Breakers {
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly restored = new Map<string, BreakerState>();
  private readonly listeners = new Set<(name: string, from: BreakerKind, to: BreakerKind) => void>();

  constructor(
    private readonly deps: { store: BreakerStore; clock: Clock; logger: Logger; metrics: Metrics },
    private settings: BreakerSettings,
  ) {}

  /** Read the persisted states of these providers (call before the first get). */
  async restore(names: readonly string[]): Promise<void> {
    for (const name of names) {
      const state = parseBreakerState(await this.deps.store.getBreaker(name));
      if (state) this.restored.set(name, state);
    }
  }

  get(name: string): CircuitBreaker {
    let breaker = this.breakers.get(name);
    if (breaker === undefined) {
      breaker = this.create(name, this.restored.get(name));
      this.restored.delete(name);
    }
    return breaker;
  }

  /** New settings (a policy reload): every breaker keeps its state under the new thresholds. */
  reconfigure(settings: BreakerSettings): void {
    this.settings = settings;
    for (const [name, old] of this.breakers) this.create(name, old.state());
  }

  /** Every breaker's changes of state (the live stream, docs/http-api.md); returns an unsubscribe function. */
  onChange(listener: (name: string, from: BreakerKind, to: BreakerKind) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  states(): Record<string, BreakerState> {
    return Object.fromEntries([...this.breakers].map(([name, b]) => [name, b.state()]));
  }

  private create(name: string, initial: BreakerState | undefined): CircuitBreaker {
    const breaker = new CircuitBreaker(name, this.settings, this.deps.clock, initial);
    this.deps.metrics.breakerState.set({ provider: name }, breakerGauge(breaker.state().kind));
    breaker.onChange((from, to, state) => {
      this.deps.metrics.breakerState.set({ provider: name }, breakerGauge(to));
      for (const listener of this.listeners) listener(name, from, to);
      const level = to === 'open' ? 'warn' : 'info';
      this.deps.logger[level](
        { event: 'breaker_changed', provider: name, from, to },
        `breaker ${name}: ${from} → ${to}`,
      );
      this.deps.store
        .putBreaker(name, state)
        .catch((err: unknown) =>
          this.deps.logger.error(
            { event: 'breaker_persist_failed', provider: name, err },
            'could not persist breaker state',
          ),
        );
    });
    this.breakers.set(name, breaker);
    return breaker;
  }
}
