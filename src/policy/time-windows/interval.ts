// Interval entries: Alertmanager's `time_interval` (prometheus.io/docs/alerting/latest/
// configuration/#time_interval). An entry matches when every field it gives matches; a field it
// leaves out matches anything. Everything is compared in the wall-clock time of the entry's zone
// (TimeInterval.ContainsTime in Alertmanager's timeinterval/timeinterval.go), so across DST:
// - a wall-clock minute that is skipped (spring forward) never matches;
// - a wall-clock minute that repeats (fall back) matches both times it occurs;
// - 09:00-18:00 stays 09:00-18:00 local, however many real hours that is on the day.
import { DateTime, type IANAZone } from 'luxon';
import {
  DAY_OF_MONTH,
  MONTH,
  parseRange,
  WEEKDAY,
  YEAR,
  type InclusiveRange,
  type RangeKind,
} from './ranges.js';
import { describe, resolveZone, type EntryMatcher, type Path, type Problems } from './shared.js';
import { parseMinuteRange, type MinuteRange } from './times.js';

/** A null field matches anything. */
interface IntervalRules {
  readonly zone: IANAZone;
  readonly times: readonly MinuteRange[] | null;
  readonly weekdays: readonly InclusiveRange[] | null;
  readonly daysOfMonth: readonly InclusiveRange[] | null;
  readonly months: readonly InclusiveRange[] | null;
  readonly years: readonly InclusiveRange[] | null;
}

const MINUTE_MS = 60_000;

export function compileInterval(
  entry: Record<string, unknown>,
  at: Path,
  defaultZone: string,
  problems: Problems,
): EntryMatcher | null {
  const before = problems.length;
  const rules = {
    zone: resolveZone(entry, at, defaultZone, problems),
    times: compileList(entry, 'times', at, problems, parseMinuteRange),
    weekdays: compileRanges(entry, WEEKDAY, at, problems),
    daysOfMonth: compileRanges(entry, DAY_OF_MONTH, at, problems),
    months: compileRanges(entry, MONTH, at, problems),
    years: compileRanges(entry, YEAR, at, problems),
  };
  if (problems.length > before || rules.zone === null) return null;
  return intervalMatcher({ ...rules, zone: rules.zone });
}

/**
 * Every boundary is a whole wall-clock minute, and zone offsets change on whole minutes, so the
 * answer is constant within a UTC minute: remember the last one. (Pre-1972 local mean times with
 * second offsets could blur a boundary by those seconds; no real policy reaches back there.)
 */
function intervalMatcher(rules: IntervalRules): EntryMatcher {
  let lastMinute = Number.NaN;
  let lastAnswer = false;
  return {
    contains(instantMs) {
      const minute = Math.floor(instantMs / MINUTE_MS);
      if (minute !== lastMinute) {
        // Valid: the zone was checked at compile time and the window bounds the instant.
        const local = DateTime.fromMillis(instantMs, { zone: rules.zone }) as DateTime<true>;
        lastAnswer = matchesWallClock(rules, local);
        lastMinute = minute;
      }
      return lastAnswer;
    },
  };
}

function matchesWallClock(rules: IntervalRules, local: DateTime<true>): boolean {
  const minuteOfDay = local.hour * 60 + local.minute;
  return (
    (rules.times === null ||
      rules.times.some((r) => minuteOfDay >= r.startMinute && minuteOfDay < r.endMinute)) &&
    inAny(rules.weekdays, local.weekday % 7) && // luxon: 1 = monday … 7 = sunday; Go: 0 = sunday
    (rules.daysOfMonth === null ||
      rules.daysOfMonth.some((r) => dayInRange(r, local.day, local.daysInMonth))) &&
    inAny(rules.months, local.month) &&
    inAny(rules.years, local.year)
  );
}

function inAny(ranges: readonly InclusiveRange[] | null, value: number): boolean {
  return ranges === null || ranges.some((r) => value >= r.begin && value <= r.end);
}

/**
 * Alertmanager's rule: -n is day (daysInMonth + 1 - n); a range starting after the month's last
 * day matches nothing that month; an end past it stops at the last day; a negative day before the
 * month's first day (-31 in February) starts at the first.
 */
function dayInRange({ begin, end }: InclusiveRange, day: number, daysInMonth: number): boolean {
  const first = begin < 0 ? daysInMonth + 1 + begin : begin;
  const last = end < 0 ? daysInMonth + 1 + end : end;
  return first <= daysInMonth && day >= first && day <= last;
}

function compileRanges(
  entry: Record<string, unknown>,
  kind: RangeKind,
  at: Path,
  problems: Problems,
): InclusiveRange[] | null {
  return compileList(entry, kind.field, at, problems, (item, itemAt) => {
    const parsed = parseRange(item, kind);
    if (parsed.ok) return parsed.value;
    problems.push({ path: itemAt, message: parsed.message });
    return null;
  });
}

/** null when the field is absent (it matches anything); otherwise the items that parsed. */
function compileList<T>(
  entry: Record<string, unknown>,
  field: string,
  at: Path,
  problems: Problems,
  parseItem: (item: unknown, itemAt: Path, problems: Problems) => T | null,
): T[] | null {
  if (!Object.hasOwn(entry, field)) return null;
  const list = entry[field];
  if (!Array.isArray(list)) {
    problems.push({ path: [...at, field], message: `${field} must be a list, got ${describe(list)}` });
    return [];
  }
  // Alertmanager treats a present but empty list as "matches nothing"; that is never what a
  // policy author means, so say so rather than silently never matching.
  if (list.length === 0) {
    problems.push({
      path: [...at, field],
      message: `${field} is empty, so this entry could never match; leave ${field} out to match any`,
    });
  }
  const items: T[] = [];
  for (let index = 0; index < list.length; index++) {
    const parsed = parseItem(list[index], [...at, field, index], problems);
    if (parsed !== null) items.push(parsed);
  }
  return items;
}
