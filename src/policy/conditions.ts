// Compiles json-rules-engine condition trees into synchronous predicates that give the engine's
// own answers: every leaf calls the engine's own operator object (decorators included), facts are
// resolved exactly as the engine's Almanac resolves them (`path`, `{fact}` values), and boolean
// nodes follow the engine's rules, including its quirk that an empty `any` is true
// (rule.js `prioritizeAndRun`). The decider uses them to skip rules that cannot match, so that
// json-rules-engine only runs on rules that will; tests/policy/differential.test.ts proves the
// two agree over a large generated corpus.
import type { EngineOperator, PathResolver } from './engine.js';
import type { Condition, LeafCondition, TopCondition } from './types.js';

export type Facts = Readonly<Record<string, unknown>>;
export type Predicate = (facts: Facts) => boolean;

export interface ConditionContext {
  operator(name: string): EngineOperator | null;
  namedConditions: Readonly<Record<string, TopCondition>>;
  pathResolver: PathResolver;
}

export function compileCondition(condition: Condition, ctx: ConditionContext): Predicate {
  if ('all' in condition) return every(condition.all.map((c) => compileCondition(c, ctx)));
  if ('any' in condition) return some(condition.any.map((c) => compileCondition(c, ctx)));
  if ('not' in condition) {
    const inner = compileCondition(condition.not, ctx);
    return (facts) => !inner(facts);
  }
  if ('condition' in condition) {
    const named = ctx.namedConditions[condition.condition];
    if (named === undefined) throw new Error(`no condition named "${condition.condition}"`);
    return compileCondition(named, ctx);
  }
  return compileLeaf(condition, ctx);
}

function every(preds: Predicate[]): Predicate {
  if (preds.length === 0) return () => true;
  if (preds.length === 1) return preds[0] as Predicate;
  if (preds.length === 2) {
    const [a, b] = preds as [Predicate, Predicate];
    return (facts) => a(facts) && b(facts);
  }
  return (facts) => {
    for (const p of preds) if (!p(facts)) return false;
    return true;
  };
}

function some(preds: Predicate[]): Predicate {
  // json-rules-engine: an `any` with no conditions passes.
  if (preds.length === 0) return () => true;
  if (preds.length === 1) return preds[0] as Predicate;
  return (facts) => {
    for (const p of preds) if (p(facts)) return true;
    return false;
  };
}

type ValueReader = (facts: Facts) => unknown;

function compileLeaf(leaf: LeafCondition, ctx: ConditionContext): Predicate {
  const op = ctx.operator(leaf.operator);
  if (op === null) throw new Error(`unknown operator "${leaf.operator}"`);
  const readFact = factReader(leaf.fact, leaf.path, ctx.pathResolver);
  const value = leaf.value;
  if (isFactReference(value)) {
    const readValue = factReader(value.fact, value.path, ctx.pathResolver);
    return (facts) => op.evaluate(readFact(facts), readValue(facts));
  }
  return (facts) => op.evaluate(readFact(facts), value);
}

/** Almanac#getValue treats an object with a `fact` key as a reference to another fact. */
function isFactReference(value: unknown): value is { fact: string; path?: string } {
  return value !== null && typeof value === 'object' && Object.hasOwn(value, 'fact');
}

/** Almanac#factValue: a path applies only to object values; other values are returned as they are. */
function factReader(fact: string, path: string | undefined, resolve: PathResolver): ValueReader {
  if (!path) return (facts) => facts[fact];
  return (facts) => {
    const v = facts[fact];
    return v !== null && typeof v === 'object' ? resolve(v, path) : v;
  };
}
