// Named time windows for the `within` operator (docs/policy-language.md, "Time windows"): Alertmanager's
// `time_interval` syntax (prometheus.io/docs/alerting/latest/configuration/#time_interval) plus
// cron windows. A window contains an instant when any of its entries does; an empty list of
// entries contains nothing. Interval entries live in time-windows/interval.ts, cron entries in
// time-windows/cron.ts.
import { compileCron } from './time-windows/cron.js';
import { compileInterval } from './time-windows/interval.js';
import { describe, isRecord, type EntryMatcher, type Problems } from './time-windows/shared.js';
import type { TimeWindowEntry } from './types.js';

export interface TimeWindow {
  readonly name: string;
  /** Whether the instant (epoch ms) is inside the window. */
  contains(instantMs: number): boolean;
}

/** A problem in one window's definition; `path` is relative to the window's entry list, e.g. [0, 'times', 1, 'start_time'] or [2, 'cron']. */
export interface WindowProblem {
  path: (string | number)[];
  message: string;
}

export type WindowCompileResult = { ok: true; window: TimeWindow } | { ok: false; problems: WindowProblem[] };

const INTERVAL_KEYS = ['times', 'weekdays', 'days_of_month', 'months', 'years', 'location'];
const CRON_KEYS = ['cron', 'duration', 'location'];
// ECMA-262 time values stop at ±8.64e15 ms; luxon and cron-parser cannot place instants beyond.
const MAX_INSTANT_MS = 8.64e15;

/** Validate and compile. Report EVERY problem (all entries, all fields), never just the first. */
export function compileTimeWindow(
  name: string,
  entries: readonly TimeWindowEntry[],
  defaultZone: string,
): WindowCompileResult {
  try {
    return compileEntries(name, entries, defaultZone);
  } catch (err) {
    // The compilers return problems for any input; this only keeps a bug of ours from taking
    // policy loading down with a stack trace instead of a message.
    const reason = err instanceof Error ? err.message : String(err);
    return { ok: false, problems: [{ path: [], message: `time window could not be compiled: ${reason}` }] };
  }
}

function compileEntries(name: string, entries: unknown, defaultZone: string): WindowCompileResult {
  if (!Array.isArray(entries)) {
    return {
      ok: false,
      problems: [{ path: [], message: `a time window is a list of entries, got ${describe(entries)}` }],
    };
  }
  const problems: Problems = [];
  const matchers: EntryMatcher[] = [];
  for (let index = 0; index < entries.length; index++) {
    const matcher = compileEntry(entries[index], index, name, defaultZone, problems);
    if (matcher !== null) matchers.push(matcher);
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, window: windowOf(name, matchers) };
}

function compileEntry(
  entry: unknown,
  index: number,
  name: string,
  defaultZone: string,
  problems: Problems,
): EntryMatcher | null {
  if (!isRecord(entry)) {
    problems.push({
      path: [index],
      message:
        'an entry is a mapping: an interval (times, weekdays, days_of_month, months, years, location) ' +
        `or a cron window (cron, duration, location), got ${describe(entry)}`,
    });
    return null;
  }
  const isCron = Object.hasOwn(entry, 'cron') || Object.hasOwn(entry, 'duration');
  checkKeys(entry, index, isCron, problems);
  return isCron
    ? compileCron(entry, [index], { windowName: name, defaultZone }, problems)
    : compileInterval(entry, [index], defaultZone, problems);
}

function checkKeys(entry: Record<string, unknown>, index: number, isCron: boolean, problems: Problems): void {
  for (const key of Object.keys(entry)) {
    if ((isCron ? CRON_KEYS : INTERVAL_KEYS).includes(key)) continue;
    problems.push({ path: [index, key], message: unknownKeyMessage(key, isCron) });
  }
}

function unknownKeyMessage(key: string, isCron: boolean): string {
  if (key === 'time_zone') return 'Alertmanager\'s "time_zone" is called "location" here';
  if (isCron && INTERVAL_KEYS.includes(key)) {
    return `"${key}" cannot be combined with cron and duration; put the interval in an entry of its own`;
  }
  if (isCron) return `unknown field "${key}" (expected ${CRON_KEYS.join(', ')})`;
  return `unknown field "${key}" (expected ${INTERVAL_KEYS.join(', ')}; or cron and duration for a cron window)`;
}

function windowOf(name: string, matchers: readonly EntryMatcher[]): TimeWindow {
  return {
    name,
    contains: (instantMs) =>
      Number.isFinite(instantMs) &&
      Math.abs(instantMs) <= MAX_INSTANT_MS &&
      matchers.some((matcher) => matcher.contains(instantMs)),
  };
}
