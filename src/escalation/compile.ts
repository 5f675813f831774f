// The policy's `escalations:` → compiled escalation policies, and the plan an incident keeps
// (docs/policy-language.md, "Escalations"). The loader has checked them (src/escalation/check.ts).
import type { RouteChoice } from '../domain/decision.js';
import { durationMs } from '../domain/duration.js';
import type { EscalationPlan, EscalationTarget } from '../domain/escalation.js';
import { cloneJson } from '../domain/json-shape.js';
import type { EscalationSpec } from './spec.js';

export interface CompiledEscalation {
  readonly name: string;
  readonly tiers: readonly {
    after_ms: number;
    targets: EscalationTarget[];
    deliver: EscalationPlan['tiers'][number]['deliver'] | null;
  }[];
  readonly repeat: EscalationPlan['repeat'];
  readonly ack_timeout_ms: number | null;
}

export function compileEscalations(
  specs: Readonly<Record<string, EscalationSpec>>,
): ReadonlyMap<string, CompiledEscalation> {
  return new Map(
    Object.entries(specs).map(([name, spec]) => [
      name,
      {
        name,
        tiers: spec.tiers.map((t) => ({
          after_ms: durationMs(t.after),
          targets: t.targets as EscalationTarget[],
          deliver:
            t.deliver === undefined ? null : { mode: t.deliver.mode, providers: [...t.deliver.providers] },
        })),
        repeat:
          spec.repeat === undefined
            ? null
            : { times: spec.repeat.times, after_ms: durationMs(spec.repeat.after) },
        ack_timeout_ms: spec.ack_timeout === undefined ? null : durationMs(spec.ack_timeout),
      },
    ]),
  );
}

/** The plan an incident opened by `route` keeps: tiers without `deliver` use the route's. */
export function planOf(escalation: CompiledEscalation, route: RouteChoice): EscalationPlan {
  const own = { name: route.name, mode: route.mode, providers: [...route.providers] };
  return {
    name: escalation.name,
    route: own,
    tiers: escalation.tiers.map((t) => ({
      after_ms: t.after_ms,
      targets: cloneJson(t.targets),
      deliver: t.deliver ?? { mode: own.mode, providers: own.providers },
    })),
    repeat: escalation.repeat,
    ack_timeout_ms: escalation.ack_timeout_ms,
  };
}
