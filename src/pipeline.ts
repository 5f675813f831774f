// The pipeline of SPEC §1 in one place: decide, then let incidents correlate and record it; the
// dispatcher delivers from the outbox afterwards. Sources (HTTP, NATS) call `process`, or the two
// halves (`decideNow`, `applyNow`) when they must keep order: decisions are made one after another,
// and `applyNow` takes effect (dedup reservation, repeat count, resolve) synchronously in the order
// it is called, while its promise, if any, resolves when the outcome is durable.
import type { Clock } from './domain/clock.js';
import type { Decision } from './domain/decision.js';
import type { PipelineInput } from './domain/log-event.js';
import type { ApplyResult, IncidentService } from './incidents/service.js';
import { decideNow } from './policy/decide.js';
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
  constructor(
    private readonly deps: {
      policies: PolicyManager;
      incidents: IncidentService;
      clock: Clock;
      metrics: Metrics;
      logger: Logger;
    },
  ) {}

  /** The decision for an input, synchronous unless a rule waits on json-rules-engine. */
  decideNow(input: PipelineInput): Decided | Promise<Decided> {
    const { policies, incidents, clock, logger } = this.deps;
    const policy = policies.current().compiled;
    const now = clock.now();
    const decision = decideNow(input, policy, now, incidents.open, {
      onDisagreement: (stage, rule) =>
        logger.error(
          { event: 'evaluator_disagreement', stage, rule, policy: policy.stamp },
          `predicate and json-rules-engine disagree on ${stage} rule "${rule}"; the engine's answer stands`,
        ),
    });
    return decision instanceof Promise
      ? decision.then((d) => ({ decision: d, input, now }))
      : { decision, input, now };
  }

  /** Takes effect now, in call order; resolves once the outcome is durable. */
  async apply(decided: Decided): Promise<PipelineResult> {
    const result = await this.applyNow(decided);
    return { ...result, decision: decided.decision };
  }

  /**
   * `apply` without the decision in the result, and synchronous when nothing needs to be made
   * durable (an ignored or recorded event: most of them).
   */
  applyNow(decided: Decided): ApplyResult | Promise<ApplyResult> {
    const result = this.deps.incidents.applyNow(decided.decision, decided.input, decided.now);
    if (result instanceof Promise) return result.then((r) => this.counted(r));
    return this.counted(result);
  }

  private counted(result: ApplyResult): ApplyResult {
    this.deps.metrics.decisions.tally(result.outcome).inc();
    return result;
  }

  async process(input: PipelineInput): Promise<PipelineResult> {
    return this.apply(await this.decideNow(input));
  }
}
