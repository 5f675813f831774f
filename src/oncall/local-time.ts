// Wall-clock times of a zone ↔ instants, with the DST rules of docs/policy-language.md ("On-call
// schedules", "Hand-offs across DST"):
// - a wall-clock time the zone skips (02:30 on a spring-forward day) is the transition instant
//   (03:00 local), not luxon's "shift forward by the gap" (03:30);
// - a wall-clock time the zone repeats (02:30 on a fall-back day) is its first occurrence.
// A "local" time is written as epoch-like milliseconds of that wall clock read as if it were UTC,
// so calendar and clock arithmetic on it is plain addition (a day is always 24 h of wall clock).
import type { IANAZone } from 'luxon';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** The wall-clock time of `instantMs` in `zone`, as local milliseconds. */
export function toLocal(zone: IANAZone, instantMs: number): number {
  return instantMs + zone.offset(instantMs) * MINUTE_MS;
}

export type LocalKind = 'exact' | 'skipped' | 'repeated';

/** The instant of a wall-clock time, and whether the zone skips or repeats it. */
export function resolveLocal(zone: IANAZone, localMs: number): { instantMs: number; kind: LocalKind } {
  // Real zones change their offset at most once within a day, so the offsets a day before and a
  // day after are every offset this wall-clock time can have.
  const offsets = new Set([zone.offset(localMs - DAY_MS), zone.offset(localMs + DAY_MS)]);
  const matches: number[] = [];
  for (const offset of offsets) {
    const candidate = localMs - offset * MINUTE_MS;
    if (zone.offset(candidate) === offset) matches.push(candidate);
  }
  if (matches.length === 1) return { instantMs: matches[0] as number, kind: 'exact' };
  if (matches.length > 1) return { instantMs: Math.min(...matches), kind: 'repeated' };
  return { instantMs: transitionBefore(zone, localMs, [...offsets]), kind: 'skipped' };
}

/** `resolveLocal`, the instant only. */
export function fromLocal(zone: IANAZone, localMs: number): number {
  return resolveLocal(zone, localMs).instantMs;
}

/** The instant the clock jumped over `localMs`: the first instant with the later offset. */
function transitionBefore(zone: IANAZone, localMs: number, offsets: number[]): number {
  const after = zone.offset(localMs + DAY_MS);
  // Reading the skipped time with either offset brackets the jump.
  let lo = localMs - Math.max(...offsets) * MINUTE_MS; // still the earlier offset
  let hi = localMs - Math.min(...offsets) * MINUTE_MS; // already the later one
  if (zone.offset(lo) === after) return lo;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (zone.offset(mid) === after) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Instants in [fromMs, toMs) at which the zone's offset changes, ascending. */
export function offsetChanges(zone: IANAZone, fromMs: number, toMs: number): number[] {
  const changes: number[] = [];
  // Offsets change at most a few times a year and never twice within hours: hourly probes find each.
  const STEP_MS = 3_600_000;
  let prevMs = fromMs;
  let prevOffset = zone.offset(fromMs);
  for (let probe = fromMs + STEP_MS; prevMs < toMs; probe += STEP_MS) {
    const at = Math.min(probe, toMs);
    const offset = zone.offset(at);
    if (offset !== prevOffset) {
      let lo = prevMs;
      let hi = at;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (zone.offset(mid) === prevOffset) lo = mid;
        else hi = mid;
      }
      if (hi < toMs) changes.push(hi);
      prevOffset = offset;
    }
    prevMs = at;
  }
  return changes;
}
