// What every post-merge check shares: the merged policy, where to report, and the load's options.
import type { Settings } from '../types.js';
import type { MergedPolicy } from './merge.js';
import type { Reporter } from './report.js';
import { holdsPlaceholder } from './interpolate.js';
import type { Verdicts } from '../redos.js';

export interface CheckContext {
  merged: MergedPolicy;
  report: Reporter;
  sandbox: boolean;
  /** A candidate from a request: values holding a withheld variable's placeholder are not checked. */
  candidate: boolean;
  /** The first file by name: where problems of the policy as a whole are reported (1:1). */
  firstFile: string;
  /**
   * False when some file or section could not be read at all: then a name missing from the
   * merge may live in the unreadable part, so "unknown X" and "missing X" would be guesses and are
   * not reported (the unreadable part has its own problems).
   */
  complete: boolean;
  /** Settings with defaults; an invalid time zone is replaced by UTC so it is reported once. */
  settings: Settings;
  /** ReDoS verdicts of the policy's patterns, judged before the checks run (redos.ts). */
  verdicts: Verdicts;
  /** Names referenced anywhere, for the "never used" warnings. */
  used: { windows: Set<string>; conditions: Set<string> };
}

/** Whether `name` is defined in a map section, or cannot be known to be missing. */
export function isKnown(ctx: CheckContext, map: ReadonlyMap<string, unknown>, name: string): boolean {
  return map.has(name) || !ctx.complete;
}

/** Whether a value cannot be checked: a candidate's placeholder for a withheld variable. */
export function isWithheld(ctx: CheckContext, value: string): boolean {
  return ctx.candidate && holdsPlaceholder(value);
}
