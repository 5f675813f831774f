// What the time-window compilers share: the problem list they all append to (so one pass
// reports every problem), the compiled-entry interface, and zone resolution.
import { IANAZone } from 'luxon';
import type { WindowProblem } from '../time-windows.js';

export type Path = WindowProblem['path'];

/** Compile functions push here and carry on, so a policy author sees every problem at once. */
export type Problems = WindowProblem[];

/** One compiled entry of a window. `instantMs` is already known to be a valid epoch ms. */
export interface EntryMatcher {
  contains(instantMs: number): boolean;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value as a policy author would recognise it in a message: `"mondey"`, `3`, `a list`. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'function') return 'a function';
  return String(value);
}

/**
 * The entry's IANA zone: its own `location`, else the policy's `settings.timezone`. Checked with
 * luxon before anything uses it: luxon turns an unknown zone into an invalid DateTime and
 * cron-parser into "CronDate: unhandled timestamp" (docs/policy-language.md, "Time windows").
 */
export function resolveZone(
  entry: Record<string, unknown>,
  at: Path,
  defaultZone: string,
  problems: Problems,
): IANAZone | null {
  if (!Object.hasOwn(entry, 'location')) {
    if (isKnownZone(defaultZone)) return IANAZone.create(defaultZone);
    problems.push({
      path: at,
      message: `no location given, and the default time zone ${describe(defaultZone)} (settings.timezone) is unknown`,
    });
    return null;
  }
  const location = entry['location'];
  if (typeof location !== 'string') {
    problems.push({
      path: [...at, 'location'],
      message: `location must be an IANA time zone name like "Europe/Berlin", got ${describe(location)}`,
    });
    return null;
  }
  if (isKnownZone(location)) return IANAZone.create(location);
  problems.push({ path: [...at, 'location'], message: `unknown time zone ${describe(location)}` });
  return null;
}

function isKnownZone(name: unknown): name is string {
  return typeof name === 'string' && IANAZone.isValidZone(name);
}
