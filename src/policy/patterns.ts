// The `matches` operator's regular expressions. A pattern is checked once, when the policy loads:
// recheck (an automata-based ReDoS checker) classifies it. Linear patterns run on V8's own engine;
// patterns that V8 would match in polynomial time (the everyday `connection.*refused`) run on RE2
// (re2js, a linear-time automaton), so no input can stall the pipeline; patterns that can
// backtrack exponentially are refused (SPEC §3), whatever engine could run them.
import { RE2JS } from 're2js';
import { checkReDoS, type ReDoSVerdict } from './redos.js';

/** Matching looks at most this many characters: a log message's limit (SPEC §2). */
export const MAX_MATCH_INPUT = 65_536;

export interface PatternMatcher {
  readonly source: string;
  /** Which engine runs it: V8 for patterns proven linear, RE2 otherwise. */
  readonly engine: 'v8' | 're2';
  test(text: string): boolean;
}

export type PatternCheck =
  { ok: true; matcher: PatternMatcher; note: string | null } | { ok: false; message: string };

const cache = new Map<string, PatternCheck>();
const verdicts = new Map<string, ReDoSVerdict>();

/**
 * Check every pattern not seen before in one go (one child process for all of them); a policy
 * load calls this first, so that `compilePattern` finds each verdict ready.
 */
export function precheckPatterns(sources: Iterable<string>): void {
  const fresh = [...new Set(sources)].filter((s) => !verdicts.has(s) && isRegExp(s));
  for (const [source, verdict] of checkReDoS(fresh)) verdicts.set(source, verdict);
}

/** The verdicts known so far, for a worker thread that compiles the same policy. */
export function knownVerdicts(): [string, ReDoSVerdict][] {
  return [...verdicts];
}

/** Verdicts from `knownVerdicts` in another thread: its patterns need no check here. */
export function learnVerdicts(entries: Iterable<[string, ReDoSVerdict]>): void {
  for (const [source, verdict] of entries) verdicts.set(source, verdict);
}

function isRegExp(source: string): boolean {
  try {
    new RegExp(source, 'i');
    return true;
  } catch {
    return false;
  }
}

function verdictOf(source: string): ReDoSVerdict {
  let verdict = verdicts.get(source);
  if (verdict === undefined) {
    verdict = checkReDoS([source]).get(source) as ReDoSVerdict;
    verdicts.set(source, verdict);
  }
  return verdict;
}

/** Check and compile a case-insensitive pattern; results are cached per source text. */
export function compilePattern(source: string): PatternCheck {
  let result = cache.get(source);
  if (result === undefined) {
    result = check(source);
    cache.set(source, result);
  }
  return result;
}

function check(source: string): PatternCheck {
  let v8: RegExp;
  try {
    v8 = new RegExp(source, 'i');
  } catch (err) {
    return {
      ok: false,
      message: `invalid regular expression ${JSON.stringify(source)}: ${(err as Error).message}`,
    };
  }
  const verdict = verdictOf(source);
  if (verdict.status === 'safe') return { ok: true, matcher: v8Matcher(source, v8), note: null };
  if (verdict.status === 'vulnerable' && verdict.exponential) {
    return {
      ok: false,
      message:
        `regular expression ${JSON.stringify(source)} can backtrack catastrophically (exponential time, ` +
        `e.g. on ${verdict.attack}); remove the nested or overlapping repetition`,
    };
  }
  const why =
    verdict.status === 'vulnerable'
      ? `${verdict.summary} time on V8`
      : `its complexity could not be proven (${verdict.error})`;
  const re2 = tryRe2(source);
  if (re2 === null) {
    return {
      ok: false,
      message: `regular expression ${JSON.stringify(source)} risks ${why} and uses features the linear-time engine lacks (backreferences, lookaround); simplify it`,
    };
  }
  return {
    ok: true,
    matcher: re2,
    note: `${JSON.stringify(source)} runs on the linear-time RE2 engine (${why})`,
  };
}

function v8Matcher(source: string, re: RegExp): PatternMatcher {
  return {
    source,
    engine: 'v8',
    test: (text) => re.test(text.length > MAX_MATCH_INPUT ? text.slice(0, MAX_MATCH_INPUT) : text),
  };
}

function tryRe2(source: string): PatternMatcher | null {
  let re: RE2JS;
  try {
    re = RE2JS.compile(source, RE2JS.CASE_INSENSITIVE);
  } catch {
    return null;
  }
  return {
    source,
    engine: 're2',
    test: (text) => re.matcher(text.length > MAX_MATCH_INPUT ? text.slice(0, MAX_MATCH_INPUT) : text).find(),
  };
}
