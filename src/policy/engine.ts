// The slice of json-rules-engine 7.3.1 that incident-router uses, typed. Two members are runtime
// API that the package's .d.ts omits: `Rule#evaluate(almanac)` (what `Engine#run` calls for each
// rule) and `Engine#operators` (the operator map, whose `get` applies `not:`-style decorators).
// We evaluate rules one at a time with their own Almanac instead of calling `Engine#run`, because
// `run` keeps its status on the shared Engine: two concurrent runs can make one of them skip rules
// (docs/policy-language.md, "How a decision is made"). Versions are pinned exactly in package.json for
// this reason.
import { Almanac, Engine, Fact, Rule, type RuleResult, type TopLevelCondition } from 'json-rules-engine';

export interface EngineOperator {
  readonly name: string;
  evaluate(factValue: unknown, jsonValue: unknown): boolean;
}

interface OperatorMap {
  get(name: string): EngineOperator | null;
}

interface EvaluableRule {
  evaluate(almanac: Almanac): Promise<RuleResult>;
}

export type PathResolver = (value: object, path: string) => unknown;

export interface RuleEngine {
  /** A rule registered with this engine (so it sees its operators and named conditions). */
  addRule(name: string, conditions: TopLevelCondition): EvaluableRule;
  /** The engine's own operator, decorators applied, or null when the name is unknown. */
  operator(name: string): EngineOperator | null;
  /** A fresh Almanac holding these facts as constants: one per evaluation, never shared. */
  almanac(facts: Readonly<Record<string, unknown>>): Almanac;
}

export interface CustomOperator {
  name: string;
  evaluate(factValue: unknown, jsonValue: unknown): boolean;
  /** json-rules-engine calls `evaluate` only when this accepts the fact value. */
  accepts(factValue: unknown): boolean;
}

export function createRuleEngine(options: {
  operators: readonly CustomOperator[];
  conditions: Readonly<Record<string, TopLevelCondition>>;
  pathResolver: PathResolver;
}): RuleEngine {
  const engine = new Engine([], { allowUndefinedFacts: true, pathResolver: options.pathResolver });
  for (const op of options.operators) {
    engine.addOperator(
      op.name,
      (factValue: unknown, jsonValue: unknown) => op.accepts(factValue) && op.evaluate(factValue, jsonValue),
    );
  }
  for (const [name, condition] of Object.entries(options.conditions)) engine.setCondition(name, condition);
  const operators = (engine as unknown as { operators: OperatorMap }).operators;
  return {
    addRule(name, conditions) {
      const rule = new Rule({ name, conditions, event: { type: name }, priority: 1 });
      engine.addRule(rule);
      return rule as unknown as EvaluableRule;
    },
    operator: (name) => operators.get(name),
    almanac(facts) {
      const almanac = new Almanac({ allowUndefinedFacts: true, pathResolver: options.pathResolver });
      // Constants need no result cache; with `cache: true` every fact would be hashed (hash-it) on
      // the way in, which alone cost ~12 µs per Almanac. factValue() reads constants directly.
      for (const [id, value] of Object.entries(facts)) almanac.addFact(new Fact(id, value, { cache: false }));
      return almanac;
    },
  };
}
