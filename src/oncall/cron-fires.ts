// The fires of a rotation's hand-off cron (docs/policy-language.md, "On-call schedules"), stepped in
// local time: wall-clock milliseconds read as UTC (local-time.ts), so a day is 24 h of plain
// arithmetic and each wall-clock time fires once.
//
// The expression is always read by cron-parser (the policy language's cron dialect, `H` hashing
// included). Its next() steps luxon dates field by field, 20–500 µs a fire (a weekly cron steps day
// by day), and a rotation counts its turns fire by fire from its start: with cron-parser alone a
// weekly rotation a year old cost 13–25 ms of every policy load, an hourly one 185 ms, growing with
// the rotation's age. For an expression of plain values (no `L`, no `#`) the parsed fields give the
// fires directly: every day of a listed month whose day of month or day of week matches (cron's
// rule, as cron-parser applies it: either one when both are restricted), each of its hours and
// minutes. Other expressions step cron-parser. tests/oncall/cron-fires.test.ts holds the two to the
// same fires.
import { CronExpressionParser, type CronExpression } from 'cron-parser';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** A cron matching no day this long after its last fire never fires again (29 February recurs within 8 years). */
const SEARCH_DAYS = 8 * 366;

/** The next fire (local ms) after the last one given, or null when there is none. */
export type NextFire = () => number | null;

/** Fires of `cron` after `afterLocalMs` (strictly), one per call. */
export function cronFires(cron: string, afterLocalMs: number, hashSeed?: string): NextFire {
  const expression = CronExpressionParser.parse(cron, {
    currentDate: new Date(afterLocalMs),
    tz: 'UTC',
    ...(hashSeed === undefined ? {} : { hashSeed }),
  });
  return plainFires(expression, afterLocalMs) ?? steppedFires(expression);
}

/** cron-parser's own stepping; it throws when it finds no fire. */
function steppedFires(expression: CronExpression): NextFire {
  return () => {
    try {
      return expression.next().getTime();
    } catch {
      return null;
    }
  };
}

/** The fires read from the fields, or null when the expression is not plain values. */
function plainFires(expression: CronExpression, afterLocalMs: number): NextFire | null {
  const f = expression.fields;
  const numbers = (values: readonly unknown[]): number[] | null =>
    values.every((v) => typeof v === 'number') ? [...(values as number[])].sort((a, b) => a - b) : null;
  const seconds = numbers(f.second.values);
  const minutes = numbers(f.minute.values);
  const hours = numbers(f.hour.values);
  const months = numbers(f.month.values);
  const doms = numbers(f.dayOfMonth.values);
  const dows = numbers(f.dayOfWeek.values);
  if (
    seconds === null ||
    seconds.length !== 1 ||
    seconds[0] !== 0 ||
    minutes === null ||
    hours === null ||
    months === null ||
    doms === null ||
    dows === null ||
    f.dayOfMonth.hasLastChar ||
    f.dayOfWeek.hasLastChar ||
    f.dayOfWeek.nthDay > 0
  )
    return null;
  const inMonth = new Set(months);
  const onDom = new Set(doms);
  const onDow = new Set(dows.map((d) => d % 7)); // 7 is Sunday too
  const domRestricted = !f.dayOfMonth.isWildcard;
  const dowRestricted = !f.dayOfWeek.isWildcard;
  const dayMatches = (dayMs: number): boolean => {
    const day = new Date(dayMs);
    if (!inMonth.has(day.getUTCMonth() + 1)) return false;
    const dom = onDom.has(day.getUTCDate());
    const dow = onDow.has(day.getUTCDay());
    if (domRestricted && dowRestricted) return dom || dow;
    return domRestricted ? dom : dowRestricted ? dow : true;
  };
  let lastMs = afterLocalMs;
  return () => {
    // Fires fall on whole minutes, strictly after the last one.
    const earliest = Math.floor(lastMs / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
    let dayMs = Math.floor(earliest / DAY_MS) * DAY_MS;
    for (let days = 0; days <= SEARCH_DAYS; days++, dayMs += DAY_MS) {
      if (!dayMatches(dayMs)) continue;
      for (const h of hours)
        for (const m of minutes) {
          const at = dayMs + h * HOUR_MS + m * MINUTE_MS;
          if (at >= earliest) return (lastMs = at);
        }
    }
    return null;
  };
}
