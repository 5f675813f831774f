// A silence compiled once for the hot path: its span as numbers, one test per matcher (regexes
// compiled once, by the same rules as the policy's: src/policy/patterns.ts), and the exact-match
// keys the view indexes it by (docs/architecture.md, "Silences").
import type { Facts } from '../policy/conditions.js';
import { resolvePath } from '../policy/operators.js';
import { compilePattern } from '../policy/patterns.js';
import type { Matcher, Silence } from './model.js';

export interface CompiledSilence {
  silence: Silence;
  startsMs: number;
  endsMs: number;
  /** An exact fingerprint or service the silence requires (the view's index keys), if any. */
  fingerprint: string | null;
  service: string | null;
  test(facts: Facts): boolean;
}

type Test = (facts: Facts) => boolean;

function factValue(m: Matcher, facts: Facts): unknown {
  const value = facts[m.fact];
  if (m.path === undefined) return value;
  return value !== null && typeof value === 'object' ? resolvePath(value, m.path) : undefined;
}

/** Numbers and booleans in attributes match their text form; objects and missing facts never match. */
function asText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

export function compileMatcher(m: Matcher): Test {
  if (m.op === 'equal') return (facts) => asText(factValue(m, facts)) === m.value;
  const checked = compilePattern(m.value, m.verdict);
  if (!checked.ok) throw new Error(checked.message);
  const matcher = checked.matcher;
  return (facts) => {
    const text = asText(factValue(m, facts));
    return text !== null && matcher.test(text);
  };
}

function exact(matchers: readonly Matcher[], fact: 'fingerprint' | 'service'): string | null {
  const m = matchers.find((x) => x.fact === fact && x.op === 'equal' && x.path === undefined);
  return m === undefined ? null : m.value;
}

export function compileSilence(silence: Silence): CompiledSilence {
  const tests = silence.matchers.map(compileMatcher);
  return {
    silence,
    startsMs: Date.parse(silence.starts_at),
    endsMs: Date.parse(silence.ends_at),
    fingerprint: exact(silence.matchers, 'fingerprint'),
    service: exact(silence.matchers, 'service'),
    test: (facts) => {
      for (const t of tests) if (!t(facts)) return false;
      return true;
    },
  };
}
