// The pipeline in one place (docs/architecture.md, "The flow of one event"):
//   decide (policy) → correlate and apply (incidents, through the state backend) → enqueue (outbox)
// Sources (HTTP, NATS) call `process`, or its two halves when they must keep order: `decide` is
// made one event after another, and `apply` takes effect (dedup reservation, repeat count,
// resolve) synchronously in call order, while its promise, if any, resolves once it is durable.
import type { Clock } from './domain/clock.js';
import type { Decision } from './domain/decision.js';
import type { LogEvent, PipelineInput } from './domain/log-event.js';
import { andThen, type MaybePromise } from './domain/maybe-promise.js';
import type { Outbox } from './deliver/outbox.js';
import type { ApplyResult, Incidents, Outcome } from './incidents/incidents.js';
import type { CompiledPolicy } from './policy/compile.js';
import { decideNow, isRepeatLite, type DecideOptions, type SilenceLookup } from './policy/decide.js';
import type { PolicyManager } from './policy/manager.js';
import type { Logger } from './telemetry/logger.js';
import type { Metrics } from './telemetry/metrics.js';

export interface Decided {
  decision: Decision;
  input: PipelineInput;
  now: number;
}

export interface PipelineResult extends ApplyResult {
  decision: Decision;
}

export class Pipeline {
  /** The decide options of the policy in force, made once per policy rather than per event. */
  private decideOptions: {
    policy: CompiledPolicy;
    options: DecideOptions;
    fullOptions: DecideOptions;
  } | null = null;

  constructor(
    private readonly deps: {
      policies: PolicyManager;
      incidents: Incidents;
      outbox: Outbox;
      clock: Clock;
      metrics: Metrics;
      logger: Logger;
      /** Silences made at run time (src/silences), checked in the suppress stage. */
      silences?: SilenceLookup;
      /** The recent-events sample (docs/policy-diff.md): never waits, never throws. */
      recent?: {
        offer(event: LogEvent, decision: Decision, text?: string): void;
        offerIgnored(read: () => { event: LogEvent; text: string } | null): void;
      };
    },
  ) {}

  /**
   * The decision for an input: synchronous unless a rule waits on json-rules-engine. A repeat of an
   * open incident takes no route unless `full` (a caller that shows the decision: `process`).
   */
  decide(input: PipelineInput, full = false): MaybePromise<Decided> {
    const policy = this.deps.policies.current().compiled;
    const now = this.deps.clock.now();
    const { options, fullOptions } = this.optionsFor(policy);
    const decision = decideNow(input, policy, now, this.deps.incidents.open, full ? fullOptions : options);
    return decision instanceof Promise
      ? decision.then((d) => ({ decision: d, input, now }))
      : { decision, input, now };
  }

  private optionsFor(policy: CompiledPolicy): { options: DecideOptions; fullOptions: DecideOptions } {
    if (this.decideOptions?.policy === policy) return this.decideOptions;
    const { logger, silences } = this.deps;
    const fullOptions: DecideOptions = {
      onDisagreement: (stage, rule) =>
        logger.error(
          { event: 'evaluator_disagreement', stage, rule, policy: policy.stamp },
          `predicate and json-rules-engine disagree on ${stage} rule "${rule}"; the engine's answer stands`,
        ),
      ...(silences === undefined ? {} : { silences }),
    };
    // Repeats are most events that page: their route stage is work and garbage for nothing.
    this.decideOptions = { policy, options: { ...fullOptions, repeatsTakeNoRoute: true }, fullOptions };
    return this.decideOptions;
  }

  /**
   * An event decided elsewhere (the NATS triage worker) that changes nothing: only the
   * recent-events sample may want it, and reads it only then.
   */
  sampleIgnored(read: () => { event: LogEvent; text: string } | null): void {
    this.deps.recent?.offerIgnored(read);
  }

  /** Takes effect now, in call order; synchronous when nothing must be written (most events). */
  apply(decided: Decided): MaybePromise<ApplyResult> {
    // A repeat decided without routes is applied in the turn it was decided in; were its incident
    // gone by now, it would open one with no route: decided again, in full.
    const d = decided.decision;
    if (isRepeatLite(d) && this.deps.incidents.open.openIncident(d.fingerprint)?.id !== d.incident.id)
      return andThen(this.decide(decided.input, true), (again) => this.apply(again));
    if (decided.decision.suppressed_by?.silence !== undefined) this.deps.metrics.silenced.inc();
    const input = decided.input;
    if (input.builtIn === undefined) this.deps.recent?.offer(input.event, decided.decision, input.text);
    const applied = this.deps.incidents.apply(decided.decision, decided.input, decided.now);
    return andThen(applied, (result) => this.handOff(result));
  }

  /** Deliveries the change made go to the outbox; those it withdrew come back from it. */
  private handOff(result: ApplyResult): ApplyResult {
    if (result.withdrawn.length > 0) this.deps.outbox.withdraw(result.withdrawn);
    if (result.deliveries.length > 0) this.deps.outbox.enqueue(result.deliveries);
    this.deps.metrics.decisions.tally(result.outcome).inc();
    return result;
  }

  async process(input: PipelineInput): Promise<PipelineResult> {
    const decided = await this.decide(input, true);
    const result = await this.apply(decided);
    return { ...result, decision: decided.decision };
  }

  /**
   * A batch (`POST /api/v1/events`) as one: decided and applied in order, each taking effect before
   * the next is decided, while the writes they need are awaited together, so new incidents of one
   * batch share the writer's group commits and repeats never wait behind them. Resolves with each
   * one's outcome once every one is durable; when any failed, rejects with the first failure after
   * all have settled (what did take effect stays: the caller's client retries and dedup absorbs the
   * repeats). Repeats, answered from memory, cost no promise here.
   */
  async processAll(inputs: readonly PipelineInput[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    const writes: Promise<unknown>[] = [];
    for (const input of inputs) {
      let decided = this.decide(input);
      if (decided instanceof Promise) decided = await decided; // json-rules-engine: order still holds
      let applied: MaybePromise<ApplyResult>;
      try {
        applied = this.apply(decided);
      } catch (err) {
        writes.push(Promise.reject(err));
        break;
      }
      if (applied instanceof Promise) {
        const at = outcomes.push('ignored') - 1; // filled in once durable
        writes.push(applied.then((result) => (outcomes[at] = result.outcome)));
      } else outcomes.push(applied.outcome);
    }
    if (writes.length > 0) {
      const settled = await Promise.allSettled(writes);
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
    }
    return outcomes;
  }
}
