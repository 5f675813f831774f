// A layer's `restrict`: Alertmanager `time_interval` entries (the time windows' own compiler,
// src/policy/time-windows.ts, decides what they contain). For timelines and gaps it also says
// where its answer may change: each wall-clock midnight and each `times` bound, at every instant
// that wall-clock time occurs (twice in a repeated hour), plus each change of the zone's offset.
// Between two of those the entry's wall clock moves without crossing anything it tests.
import { IANAZone } from 'luxon';
import type { TimeWindow } from '../policy/time-windows.js';
import type { IntervalSpec } from '../policy/types.js';
import { offsetChanges, toLocal } from './local-time.js';
import type { Restriction } from './model.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** `window` is the compiled `entries`; `zone` is the schedule's (entries without `location`). */
export function restrictionOf(
  window: TimeWindow,
  entries: readonly IntervalSpec[],
  zone: IANAZone,
): Restriction {
  const perZone = new Map<string, Set<number>>();
  for (const entry of entries) {
    const name = entry.location ?? zone.name;
    const minutes = perZone.get(name) ?? new Set([0]);
    for (const range of entry.times ?? [])
      for (const bound of [range.start_time, range.end_time]) minutes.add(minuteOfDay(bound) % (24 * 60));
    perZone.set(name, minutes);
  }
  return {
    contains: (atMs) => window.contains(atMs),
    boundaries(fromMs, toMs) {
      const all = new Set<number>();
      for (const [name, minutes] of perZone) {
        const entryZone = IANAZone.create(name);
        for (const at of wallClockBoundaries(entryZone, minutes, fromMs, toMs)) all.add(at);
      }
      return [...all].sort((a, b) => a - b);
    },
  };
}

function minuteOfDay(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

function wallClockBoundaries(
  zone: IANAZone,
  minutes: ReadonlySet<number>,
  fromMs: number,
  toMs: number,
): number[] {
  const out: number[] = [...offsetChanges(zone, fromMs, toMs)];
  const firstDay = Math.floor(toLocal(zone, fromMs) / DAY_MS) - 1;
  const lastDay = Math.floor(toLocal(zone, toMs) / DAY_MS) + 1;
  for (let day = firstDay; day <= lastDay; day++)
    for (const minute of minutes)
      for (const at of instantsOf(zone, day * DAY_MS + minute * MINUTE_MS))
        if (at >= fromMs && at < toMs) out.push(at);
  return out;
}

/** Every instant whose wall-clock time in the zone is `localMs` (none when skipped, two when repeated). */
function instantsOf(zone: IANAZone, localMs: number): number[] {
  const offsets = new Set([zone.offset(localMs - DAY_MS), zone.offset(localMs + DAY_MS)]);
  return [...offsets].map((o) => localMs - o * MINUTE_MS).filter((at) => toLocal(zone, at) === localMs);
}
