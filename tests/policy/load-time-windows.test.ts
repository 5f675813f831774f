// Time windows through the whole loader: YAML values as a policy author writes them, problems
// located at `file:line:col`, and every suggestion the loader prints loading as written.
import { describe, expect, it } from 'vitest';
import { compileTimeWindow } from '../../src/policy/time-windows.js';
import { BASE, file, load, problems } from '../fixtures/policies/load-fixtures.js';

const HEAD = 'apiVersion: incident-router/v1';

/** A policy file whose window `w` has the given entry lines (from line 4). */
function windowFile(...entryLines: string[]) {
  return file('windows.yaml', HEAD, 'time_windows:', '  w:', ...entryLines);
}

describe('loadPolicy - time window ranges written as YAML integers', () => {
  it('accepts unquoted days of month, months and years beside quoted ranges, as Alertmanager does', () => {
    const windows = windowFile(
      '    - days_of_month: [15, -1, "1:5", "-3:-2"]',
      '      months: [12, "january:march"]',
      '      years: [2026, "2028:2029"]',
    );
    const entries = load([BASE, windows]).document.time_windows['w'];
    const compiled = compileTimeWindow('w', entries ?? [], 'UTC');
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
    const inside = (iso: string): boolean => compiled.window.contains(Date.parse(iso));
    expect(inside('2026-12-15T12:00:00Z')).toBe(true);
    expect(inside('2026-12-31T12:00:00Z')).toBe(true);
    expect(inside('2029-02-03T12:00:00Z')).toBe(true);
    expect(inside('2026-12-16T12:00:00Z')).toBe(false);
    expect(inside('2026-11-15T12:00:00Z')).toBe(false);
    expect(inside('2027-12-15T12:00:00Z')).toBe(false);
  });

  it('refuses integers out of range, naming file, line and column', () => {
    const windows = windowFile(
      '    - days_of_month: [0, 32, -32]',
      '      months: [0, 13]',
      '      years: [0, 12345]',
    );
    const dayRange = "(1 to 31, or -1 to -31 counting back from the month's last day)";
    expect(problems([BASE, windows])).toEqual([
      `windows.yaml:4:23 time_windows.w[0].days_of_month[0]: day of month 0 is out of range ${dayRange}`,
      `windows.yaml:4:26 time_windows.w[0].days_of_month[1]: day of month 32 is out of range ${dayRange}`,
      `windows.yaml:4:30 time_windows.w[0].days_of_month[2]: day of month -32 is out of range ${dayRange}`,
      'windows.yaml:5:16 time_windows.w[0].months[0]: month 0 is out of range (1 to 12)',
      'windows.yaml:5:19 time_windows.w[0].months[1]: month 13 is out of range (1 to 12)',
      'windows.yaml:6:15 time_windows.w[0].years[0]: invalid year "0" (expected a year like 2026)',
      'windows.yaml:6:18 time_windows.w[0].years[1]: invalid year "12345" (expected a year like 2026)',
    ]);
  });

  it('still wants weekdays as names, and whole numbers elsewhere', () => {
    const windows = windowFile('    - weekdays: [1]', '      days_of_month: [1.5]', '      months: [true]');
    expect(problems([BASE, windows])).toEqual([
      'windows.yaml:4:18 time_windows.w[0].weekdays[0]: must be a string, not a number (1) (put it in quotes)',
      'windows.yaml:5:23 time_windows.w[0].days_of_month[0]: must be a string or a whole number, not a number (1.5)',
      'windows.yaml:6:16 time_windows.w[0].months[0]: must be a string or a whole number, not true/false (true)',
    ]);
  });
});

describe('loadPolicy - every suggested time range loads', () => {
  const rangeFile = (start: string, end: string) =>
    windowFile(`    - times: [{ start_time: "${start}", end_time: "${end}" }]`);

  /** The ranges a message proposes: `"a"-"b"` pairs, or one bound to change in the given range. */
  function suggestedRanges(message: string, start: string, end: string): [string, string][] {
    const pairs = [...message.matchAll(/"(\d\d:\d\d)"-"(\d\d:\d\d)"/g)].map((m): [string, string] => [
      m[1] as string,
      m[2] as string,
    ]);
    const bound = /use (start|end)_time "(\d\d:\d\d)"/.exec(message);
    if (bound !== null)
      pairs.push(bound[1] === 'start' ? [bound[2] as string, end] : [start, bound[2] as string]);
    return pairs;
  }

  const inverted: [start: string, end: string, suggests: boolean][] = [
    ['24:00', '17:41', true],
    ['24:00', '00:01', true],
    ['24:00', '00:00', false],
    ['24:00', '24:00', false],
    ['23:00', '01:00', true],
    ['22:00', '00:00', true],
    ['23:59', '00:00', true],
    ['00:00', '00:00', false],
    ['12:00', '12:00', false],
    ['17:41', '09:00', true],
    ['00:01', '00:00', true],
  ];
  it.each(inverted)('%s to %s: each suggested range loads', (start, end, suggests) => {
    const [problem, ...rest] = problems([BASE, rangeFile(start, end)]);
    expect(rest).toEqual([]);
    expect(problem).toMatch(/^windows\.yaml:4:15 time_windows\.w\[0\]\.times\[0\]: /);
    const ranges = suggestedRanges(problem as string, start, end);
    for (const [s, e] of ranges) {
      expect({ suggested: [s, e], problems: loadProblems(rangeFile(s, e)) }).toEqual({
        suggested: [s, e],
        problems: [],
      });
    }
    expect(ranges.length > 0).toBe(suggests);
  });

  it('24:00 to 17:41 proposes starting at 00:00, not the empty "24:00"-"24:00"', () => {
    expect(problems([BASE, rangeFile('24:00', '17:41')])).toEqual([
      'windows.yaml:4:15 time_windows.w[0].times[0]: start_time "24:00" must be before end_time "17:41"; ' +
        '"24:00" ends the day, so no range can start there; use start_time "00:00"',
    ]);
  });

  function loadProblems(source: ReturnType<typeof rangeFile>): string[] {
    try {
      load([BASE, source]);
      return [];
    } catch (err) {
      return [String(err)];
    }
  }
});
