// Alertmanager's `times` ranges: minutes of the wall-clock day, start inclusive, end exclusive,
// "HH:MM" from 00:00 to 24:00, start strictly before end (timeinterval/timeinterval.go,
// TimeRange.UnmarshalYAML and its validTime pattern).
import { describe, isRecord, type Path, type Problems } from './shared.js';

export interface MinuteRange {
  /** Minute of the day the range opens, 0-1439. */
  readonly startMinute: number;
  /** Minute of the day the range closes (exclusive), 1-1440. */
  readonly endMinute: number;
}

// Alertmanager's pattern: two-digit hours 00-23 with minutes 00-59, or exactly 24:00.
const TIME_OF_DAY = /^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/;
const DAY_MINUTES = 24 * 60;

export function parseMinuteRange(item: unknown, at: Path, problems: Problems): MinuteRange | null {
  if (!isRecord(item)) {
    problems.push({
      path: at,
      message: `a time range is a mapping like {start_time: "09:00", end_time: "17:00"}, got ${describe(item)}`,
    });
    return null;
  }
  const start = parseBound(item, 'start_time', at, problems);
  const end = parseBound(item, 'end_time', at, problems);
  if (start === null || end === null) return null;
  if (start < end) return { startMinute: start, endMinute: end };
  problems.push({
    path: at,
    message: orderMessage(item['start_time'] as string, item['end_time'] as string, start, end),
  });
  return null;
}

function parseBound(item: Record<string, unknown>, key: string, at: Path, problems: Problems): number | null {
  if (!Object.hasOwn(item, key)) {
    problems.push({
      path: at,
      message: `a time range needs both start_time and end_time; ${key} is missing`,
    });
    return null;
  }
  const text = item[key];
  const match = typeof text === 'string' ? TIME_OF_DAY.exec(text) : null;
  if (match === null) {
    problems.push({
      path: [...at, key],
      message: `invalid time ${describe(text)} (expected HH:MM from 00:00 to 24:00)`,
    });
    return null;
  }
  const [hours, minutes] = match[1] === undefined ? [match[3], match[4]] : [match[1], match[2]];
  return Number(hours) * 60 + Number(minutes);
}

/** Why start is not before end; any range it proposes must itself load. */
function orderMessage(start: string, end: string, startMinute: number, endMinute: number): string {
  const base = `start_time "${start}" must be before end_time "${end}"`;
  if (startMinute === endMinute) return `${base}; the range is empty`;
  // 24:00 closes the day: as a start it leaves no minute before any end.
  if (startMinute === DAY_MINUTES) {
    return endMinute === 0
      ? `${base}; "24:00" ends the day and "00:00" starts it, so the range is empty`
      : `${base}; "24:00" ends the day, so no range can start there; use start_time "00:00"`;
  }
  if (endMinute === 0) return `${base}; to run until midnight, use end_time "24:00"`;
  return `${base}; split a range across midnight into two ranges ("${start}"-"24:00" and "00:00"-"${end}")`;
}
