// Alertmanager's range syntax for weekdays, days of month, months and years: one value or an
// inclusive `start:end`, names case-insensitive. Parsing and the refusals follow Alertmanager's
// timeinterval/timeinterval.go (stringableRangeFromString and the UnmarshalYAML methods); the
// messages are ours, written for a policy author.
import { describe } from './shared.js';

/** Inclusive on both ends. Weekdays count 0 = sunday … 6 = saturday, as Go and Alertmanager do. */
export interface InclusiveRange {
  readonly begin: number;
  readonly end: number;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

export interface RangeKind {
  /** The field a list item belongs to, e.g. `weekdays`. */
  readonly field: string;
  /** What one item is called in messages, e.g. `weekday`. */
  readonly noun: string;
  readonly example: string;
  /** YAML reads `days_of_month: [1, 15]` as numbers; Alertmanager (yaml.v2) takes them as text. */
  readonly acceptsNumbers: boolean;
  member(text: string): Parsed<number>;
  /** Why a well-formed range can never be right, or null. */
  refuse(range: InclusiveRange, text: string): string | null;
}

export function parseRange(item: unknown, kind: RangeKind): Parsed<InclusiveRange> {
  const isNumber = kind.acceptsNumbers && typeof item === 'number' && Number.isSafeInteger(item);
  if (typeof item !== 'string' && !isNumber) {
    return { ok: false, message: `${kind.noun} must be text like ${kind.example}, got ${describe(item)}` };
  }
  const text = String(item);
  const parts = text.split(':');
  if (parts.length > 2) {
    return {
      ok: false,
      message: `invalid ${kind.noun} range "${text}" (expected one value or start:end, like ${kind.example})`,
    };
  }
  const begin = kind.member(parts[0] as string);
  if (!begin.ok) return begin;
  const end = parts.length === 2 ? kind.member(parts[1] as string) : begin;
  if (!end.ok) return end;
  const range = { begin: begin.value, end: end.value };
  const refusal = kind.refuse(range, text);
  return refusal === null ? { ok: true, value: range } : { ok: false, message: refusal };
}

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
// Go's strconv.Atoi, which Alertmanager uses, takes an optional sign and leading zeros.
const INTEGER = /^[+-]?\d{1,6}$/;

export const WEEKDAY: RangeKind = {
  field: 'weekdays',
  noun: 'weekday',
  example: '"monday" or "monday:friday"',
  acceptsNumbers: false,
  member(text) {
    const day = WEEKDAYS.indexOf(text.toLowerCase());
    if (day >= 0) return { ok: true, value: day };
    return { ok: false, message: `unknown weekday "${text}" (expected monday, tuesday, … sunday)` };
  },
  refuse: ({ begin, end }, text) =>
    begin <= end
      ? null
      : `weekday range "${text}" runs backwards (weeks run sunday to saturday); ` +
        `split it into "${span(WEEKDAYS, begin, 6)}" and "${span(WEEKDAYS, 0, end)}"`,
};

export const MONTH: RangeKind = {
  field: 'months',
  noun: 'month',
  example: '"january", "1" or "january:march"',
  acceptsNumbers: true,
  member(text) {
    const named = MONTHS.indexOf(text.toLowerCase());
    if (named >= 0) return { ok: true, value: named + 1 };
    if (!INTEGER.test(text)) {
      return { ok: false, message: `unknown month "${text}" (expected january … december, or 1 … 12)` };
    }
    const month = Number(text);
    if (month >= 1 && month <= 12) return { ok: true, value: month };
    return { ok: false, message: `month ${text} is out of range (1 to 12)` };
  },
  refuse: ({ begin, end }, text) =>
    begin <= end
      ? null
      : `month range "${text}" runs backwards; ` +
        `split it into "${span(MONTHS, begin - 1, 11)}" and "${span(MONTHS, 0, end - 1)}"`,
};

export const DAY_OF_MONTH: RangeKind = {
  field: 'days_of_month',
  noun: 'day of month',
  example: '"1", "-1" (the last day) or "1:5"',
  acceptsNumbers: true,
  member(text) {
    if (!INTEGER.test(text)) {
      return {
        ok: false,
        message: `invalid day of month "${text}" (expected 1 to 31, or -1 to -31 from the month's end)`,
      };
    }
    const day = Number(text);
    if (day !== 0 && day >= -31 && day <= 31) return { ok: true, value: day };
    return {
      ok: false,
      message: `day of month ${text} is out of range (1 to 31, or -1 to -31 counting back from the month's last day)`,
    };
  },
  refuse: refuseDayRange,
};

export const YEAR: RangeKind = {
  field: 'years',
  noun: 'year',
  example: '"2026" or "2026:2027"',
  acceptsNumbers: true,
  member(text) {
    if (/^\d{1,4}$/.test(text) && Number(text) >= 1) return { ok: true, value: Number(text) };
    return { ok: false, message: `invalid year "${text}" (expected a year like 2026)` };
  },
  refuse: ({ begin, end }, text) => (begin <= end ? null : `year range "${text}" runs backwards`),
};

/**
 * Alertmanager refuses a negative start with a positive end ("-3:5" would mean different days in
 * different months) and a range that is empty in the shortest month, February's 28 days. We map
 * -n to day 29-n of such a month; Alertmanager's check uses 28-n, an off-by-one that refuses the
 * valid "28:-1", so we accept slightly more than it does.
 */
function refuseDayRange({ begin, end }: InclusiveRange, text: string): string | null {
  if (begin < 0 && end > 0) {
    return `day range "${text}" starts counting from the month's end but ends counting from its start; make both negative, like "-3:-1"`;
  }
  const inShortestMonth = (day: number): number => (day < 0 ? 29 + day : day);
  if (inShortestMonth(begin) <= inShortestMonth(end)) return null;
  if (begin > 0 && end < 0) return `day range "${text}" is empty in a 28-day month (February)`;
  return `day range "${text}" runs backwards`;
}

function span(names: readonly string[], begin: number, end: number): string {
  return begin === end ? (names[begin] as string) : `${names[begin]}:${names[end]}`;
}
