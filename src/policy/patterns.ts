// The `matches` operator's regular expressions. A pattern is checked once, when the policy loads:
// recheck (an automata-based ReDoS checker) classifies it. Linear patterns run on V8's own engine;
// patterns that V8 would match in polynomial time (the everyday `connection.*refused`) run on RE2
// (re2js, a linear-time automaton), so no input can stall the pipeline; patterns that can
// backtrack exponentially are refused (docs/policy-language.md, "Regular expressions"), whatever engine
// could run them.
import { RE2JS } from 're2js';
import type { ReDoSVerdict } from './redos.js';

/** Matching looks at most this many characters: a log message's limit (docs/policy-language.md). */
export const MAX_MATCH_INPUT = 65_536;
/** A longer pattern is refused: no log rule needs one, and checking it costs the loader seconds. */
export const MAX_PATTERN_CHARS = 4_096;

export interface PatternMatcher {
  readonly source: string;
  /** Which engine runs it: V8 for patterns proven linear, RE2 otherwise. */
  readonly engine: 'v8' | 're2';
  test(text: string): boolean;
}

export type PatternCheck =
  { ok: true; matcher: PatternMatcher; note: string | null } | { ok: false; message: string };

/** Whether `source` compiles as a JavaScript regular expression (only those are sent to the checker). */
export function isRegExp(source: string): boolean {
  try {
    new RegExp(source, 'i');
    return true;
  } catch {
    return false;
  }
}

/**
 * Compile a case-insensitive pattern by its ReDoS verdict (redos.ts). Pure: no cache, no check of
 * its own; a pattern without a verdict is treated as unproven and runs on RE2.
 */
export function compilePattern(source: string, verdict: ReDoSVerdict | undefined): PatternCheck {
  if (source.length > MAX_PATTERN_CHARS)
    return {
      ok: false,
      message: `regular expression of ${source.length} characters is longer than ${MAX_PATTERN_CHARS}`,
    };
  return check(source, verdict ?? { status: 'unknown', error: 'not checked' });
}

function check(source: string, verdict: ReDoSVerdict): PatternCheck {
  let v8: RegExp;
  try {
    v8 = new RegExp(source, 'i');
  } catch (err) {
    return {
      ok: false,
      message: `invalid regular expression ${JSON.stringify(source)}: ${(err as Error).message}`,
    };
  }
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
