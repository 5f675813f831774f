// The pipeline of SPEC §1 in one place: decide, then let incidents correlate and record it; the
// dispatcher delivers from the outbox afterwards. Sources (HTTP, NATS) call `process`.
import type { Clock } from './domain/clock.js';
import type { Decision } from './domain/decision.js';
import type { PipelineInput } from './domain/log-event.js';
import type { ApplyResult, IncidentService } from './incidents/service.js';
import { decide } from './policy/decide.js';
import type { PolicyManager } from './policy/manager.js';
import type { Logger } from './telemetry/logger.js';
import type { Metrics } from './telemetry/metrics.js';

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

  /** Resolves once the outcome is durable (incident, outbox and audit committed). */
  async process(input: PipelineInput): Promise<PipelineResult> {
    const { policies, incidents, clock, metrics, logger } = this.deps;
    const policy = policies.current().compiled;
    const now = clock.now();
    const decision = await decide(input, policy, now, incidents.open, {
      onDisagreement: (stage, rule) =>
        logger.error(
          { event: 'evaluator_disagreement', stage, rule, policy: policy.stamp },
          `predicate and json-rules-engine disagree on ${stage} rule "${rule}"; the engine's answer stands`,
        ),
    });
    const result = await incidents.apply(decision, input, now);
    metrics.decisions.inc({ outcome: result.outcome });
    return { ...result, decision };
  }
}
