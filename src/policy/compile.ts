// PolicyDocument → CompiledPolicy: json-rules-engine rules registered on one engine per policy,
// each paired with a synchronous predicate built from the same engine's operators (conditions.ts),
// templates compiled, time windows compiled, the catalog indexed. A compiled policy is immutable;
// a reload builds a new one and swaps it in whole.
import type { DeliveryMode, FlapDamping, PolicyStamp, RuleTrace } from '../domain/decision.js';
import { durationMs } from '../domain/duration.js';
import { LOG_LEVELS, type LogLevel } from '../domain/log-event.js';
import type { Severity } from '../domain/severity.js';
import { compileCondition, type ConditionContext, type Predicate } from './conditions.js';
import { createRuleEngine, type RuleEngine } from './engine.js';
import { EngineMemo } from './memo.js';
import { customOperators, resolvePath, type PatternLookup } from './operators.js';
import { compilePattern, type PatternCheck } from './patterns.js';
import type { Verdicts } from './redos.js';
import { compileTemplate, type Template } from './templates.js';
import { compileTimeWindow, type TimeWindow } from './time-windows.js';
import { compileOnCall } from '../oncall/compile.js';
import { compileEscalations, type CompiledEscalation } from '../escalation/compile.js';
import type { CompiledSchedule, Person } from '../oncall/model.js';
import {
  UNKNOWN_CRITICALITY,
  UNOWNED_TEAM,
  type PolicyDocument,
  type ProviderSpec,
  type Settings,
  type TeamSpec,
  type TopCondition,
} from './types.js';

export interface CompiledRule {
  readonly name: string;
  /** The rule's exact answer, synchronously, from json-rules-engine's own operators. */
  readonly test: Predicate;
  /** The same rule inside json-rules-engine, which has the last word on every match. */
  readonly engineRule: ReturnType<RuleEngine['addRule']>;
  /** The engine's past answers keyed on the facts the rule reads; null for rules that read `now`. */
  readonly memo: EngineMemo | null;
  /** Shared, frozen trace entries: live decisions trace every rule without allocating. */
  readonly traceMatched: Readonly<RuleTrace>;
  readonly traceNotMatched: Readonly<RuleTrace>;
}
export interface CompiledClassifyRule extends CompiledRule {
  readonly severity: Severity | null;
  readonly title: Template | null;
  readonly fingerprint: Template | null;
  readonly resolve: Template | null;
  readonly continue: boolean;
}
export interface CompiledUpgradeRule extends CompiledRule {
  readonly severity: Severity;
}
export interface CompiledSuppressRule extends CompiledRule {
  readonly reason: string;
}
export interface CompiledRoute extends CompiledRule {
  readonly mode: DeliveryMode;
  readonly providers: readonly string[];
  readonly continue: boolean;
  /** The escalation policy of incidents it opens, or null. */
  readonly escalation: string | null;
  /** Flap damping (docs/policy-language.md, "Flap damping"), or null. */
  readonly flap: FlapDamping | null;
}

export interface CatalogEntry {
  team: string;
  criticality: string;
}

export interface CompiledPolicy {
  readonly stamp: PolicyStamp;
  readonly document: PolicyDocument;
  readonly settings: Settings;
  readonly stormWindowMs: number;
  readonly levelSeverity: Readonly<Record<LogLevel, Severity | undefined>>;
  readonly providers: Readonly<Record<string, ProviderSpec>>;
  readonly teams: Readonly<Record<string, TeamSpec>>;
  readonly windows: ReadonlyMap<string, TimeWindow>;
  /** `people:` and `schedules:` (docs/policy-language.md, "On-call schedules"); empty when absent. */
  readonly people: ReadonlyMap<string, Person>;
  readonly schedules: ReadonlyMap<string, CompiledSchedule>;
  /** `escalations:` (docs/policy-language.md, "Escalations"); empty when absent. */
  readonly escalations: ReadonlyMap<string, CompiledEscalation>;
  readonly classify: readonly CompiledClassifyRule[];
  readonly upgrade: readonly CompiledUpgradeRule[];
  readonly suppress: readonly CompiledSuppressRule[];
  readonly routes: readonly CompiledRoute[];
  readonly engine: RuleEngine;
  catalog(service: string): CatalogEntry;
  /** The policy's `matches` patterns, compiled as its rules run them (V8 or RE2 by their verdicts). */
  readonly patterns: PatternLookup;
}

export interface CompileInput {
  document: PolicyDocument;
  version: string;
  revision: string;
  /** ReDoS verdicts of the document's patterns, from the load (or sent to a worker thread). */
  verdicts: Verdicts;
}

/** The loader has validated everything; a failure here is a bug, so it throws. */
export function compilePolicy(input: CompileInput): CompiledPolicy {
  const doc = input.document;
  const windows = compileWindows(doc);
  const patterns = patternLookup(input.verdicts);
  const engine = createRuleEngine({
    operators: customOperators(windows, patterns),
    conditions: doc.conditions,
    pathResolver: resolvePath,
  });
  const ctx: ConditionContext = {
    operator: (name) => engine.operator(name),
    namedConditions: doc.conditions,
    pathResolver: resolvePath,
  };
  const rule = (name: string, when: TopCondition | undefined): CompiledRule => {
    const conditions: TopCondition = when ?? { all: [] };
    return {
      name,
      test: compileCondition(conditions, ctx),
      engineRule: engine.addRule(name, conditions),
      memo: EngineMemo.forRule(conditions, doc.conditions),
      traceMatched: Object.freeze({ name, matched: true }),
      traceNotMatched: Object.freeze({ name, matched: false }),
    };
  };
  const optionalTemplate = (t: string | undefined): Template | null =>
    t === undefined ? null : compileTemplate(t);
  const catalog = new Map(
    Object.entries(doc.services).map(([name, s]) => [name, { team: s.team, criticality: s.criticality }]),
  );
  const unknown: CatalogEntry = { team: UNOWNED_TEAM, criticality: UNKNOWN_CRITICALITY };
  const oncall = compileOnCall(doc);
  return {
    stamp: { version: input.version, revision: input.revision },
    document: doc,
    settings: doc.settings,
    stormWindowMs: durationMs(doc.settings.storm.window),
    levelSeverity: Object.fromEntries(LOG_LEVELS.map((l) => [l, doc.settings.level_severity[l]])) as Record<
      LogLevel,
      Severity | undefined
    >,
    providers: doc.providers,
    teams: doc.teams,
    windows,
    people: oncall.people,
    schedules: oncall.schedules,
    escalations: compileEscalations(doc.escalations),
    classify: doc.classify.map((r) => ({
      ...rule(r.name, r.when),
      severity: r.severity ?? null,
      title: optionalTemplate(r.title),
      fingerprint: optionalTemplate(r.fingerprint),
      resolve: optionalTemplate(r.resolve),
      continue: r.continue === true,
    })),
    upgrade: doc.upgrade.map((r) => ({ ...rule(r.name, r.when), severity: r.severity })),
    suppress: doc.suppress.map((r) => ({ ...rule(r.name, r.when), reason: r.reason })),
    routes: doc.routes.map((r) => ({
      ...rule(r.name, r.when),
      mode: r.deliver.mode,
      providers: r.deliver.providers,
      continue: r.continue === true,
      escalation: r.escalation ?? null,
      flap:
        r.flap === undefined
          ? null
          : {
              max_repages: r.flap.max_repages,
              window_ms: durationMs(r.flap.window),
              hold_ms: durationMs(r.flap.hold),
            },
    })),
    engine,
    patterns,
    catalog: (service) => catalog.get(service) ?? unknown,
  };
}

function compileWindows(doc: PolicyDocument): Map<string, TimeWindow> {
  const windows = new Map<string, TimeWindow>();
  for (const [name, entries] of Object.entries(doc.time_windows)) {
    const compiled = compileTimeWindow(name, entries, doc.settings.timezone);
    if (!compiled.ok)
      throw new Error(`time window "${name}" did not compile: ${compiled.problems[0]?.message}`);
    windows.set(name, compiled.window);
  }
  return windows;
}

/** Each of the policy's patterns compiled once, by its verdict; only its own patterns are asked for. */
function patternLookup(verdicts: Verdicts): PatternLookup {
  const compiled = new Map<string, PatternCheck>();
  return (source) => {
    let check = compiled.get(source);
    if (check === undefined) {
      check = compilePattern(source, verdicts.get(source));
      compiled.set(source, check);
    }
    return check;
  };
}
