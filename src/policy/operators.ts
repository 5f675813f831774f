// incident-router's custom json-rules-engine operators (docs/policy-language.md, "Operators") and the
// path resolver for `path` into object facts.
import { isSeverity, severityAtLeast } from '../domain/severity.js';
import type { CustomOperator } from './engine.js';
import type { PatternCheck } from './patterns.js';
import type { TimeWindow } from './time-windows.js';

/** The policy's compiled pattern for a source text (compile.ts keeps one per pattern). */
export type PatternLookup = (source: string) => PatternCheck;

/** `matches`: case-insensitive regular expression, checked at load and bounded (patterns.ts). */
function matches(patterns: PatternLookup): CustomOperator {
  return {
    name: 'matches',
    accepts: (factValue) => typeof factValue === 'string',
    evaluate(factValue, pattern) {
      if (typeof pattern !== 'string') return false;
      const compiled = patterns(pattern);
      return compiled.ok && compiled.matcher.test(factValue as string);
    },
  };
}

/** `severityAtLeast`: ordinal comparison, info < low < medium < high < critical. */
const severityAtLeastOperator: CustomOperator = {
  name: 'severityAtLeast',
  accepts: isSeverity,
  evaluate: (factValue, floor) => isSeverity(floor) && severityAtLeast(factValue as never, floor),
};

/** `within`: the fact `now` (epoch ms) lies inside the named time window. */
function within(windows: ReadonlyMap<string, TimeWindow>): CustomOperator {
  return {
    name: 'within',
    accepts: (factValue) => typeof factValue === 'number' && Number.isFinite(factValue),
    evaluate(factValue, windowName) {
      const window = typeof windowName === 'string' ? windows.get(windowName) : undefined;
      return window !== undefined && window.contains(factValue as number);
    },
  };
}

export function customOperators(
  windows: ReadonlyMap<string, TimeWindow>,
  patterns: PatternLookup,
): CustomOperator[] {
  return [matches(patterns), severityAtLeastOperator, within(windows)];
}

/**
 * `path` resolution for object facts (`attributes`): `$.a.b` or `a.b`, own properties only, so a
 * path can never reach a prototype. Replaces json-rules-engine's default jsonpath-plus, which is
 * slower and has had a code-execution CVE; the policy schema allows only this dotted form.
 */
export function resolvePath(value: object, path: string): unknown {
  const keys = (path.startsWith('$.') ? path.slice(2) : path).split('.');
  let current: unknown = value;
  for (const key of keys) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
