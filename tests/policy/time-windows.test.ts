import { CronExpression, CronExpressionParser } from 'cron-parser';
import { DateTime, Settings } from 'luxon';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { compileTimeWindow, type TimeWindow, type WindowProblem } from '../../src/policy/time-windows.js';
import type { TimeWindowEntry } from '../../src/policy/types.js';

// Instants are written with explicit offsets, so each test says which side of a clock change it means.
function ms(iso: string): number {
  const value = Date.parse(iso);
  if (Number.isNaN(value)) throw new Error(`bad test instant ${iso}`);
  return value;
}

function compile(entries: unknown, zone = 'UTC'): TimeWindow {
  const result = compileTimeWindow('test', entries as TimeWindowEntry[], zone);
  if (!result.ok) throw new Error(`did not compile: ${JSON.stringify(result.problems)}`);
  return result.window;
}

function problemsOf(entries: unknown, zone = 'UTC'): WindowProblem[] {
  const result = compileTimeWindow('test', entries as TimeWindowEntry[], zone);
  if (result.ok) throw new Error('compiled, expected problems');
  return result.problems;
}

type Expectations = [iso: string, inside: boolean][];

function expectInstants(window: TimeWindow, expectations: Expectations): void {
  for (const [iso, inside] of expectations)
    expect({ iso, inside: window.contains(ms(iso)) }).toEqual({ iso, inside });
}

// The code must never depend on the process's zone, nor create an invalid DateTime.
beforeAll(() => {
  Settings.defaultZone = 'Pacific/Chatham';
  Settings.throwOnInvalid = true;
});
afterAll(() => {
  Settings.defaultZone = 'system';
  Settings.throwOnInvalid = false;
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('interval entries: each field', () => {
  const cases: { name: string; entries: unknown[]; zone?: string; expect: Expectations }[] = [
    {
      name: 'times: start inclusive, end exclusive',
      entries: [{ times: [{ start_time: '09:00', end_time: '17:00' }] }],
      expect: [
        ['2026-03-04T08:59:59.999Z', false],
        ['2026-03-04T09:00:00Z', true],
        ['2026-03-04T16:59:59.999Z', true],
        ['2026-03-04T17:00:00Z', false],
      ],
    },
    {
      name: 'times: 00:00-24:00 is the whole day',
      entries: [{ times: [{ start_time: '00:00', end_time: '24:00' }] }],
      expect: [
        ['2026-03-04T00:00:00Z', true],
        ['2026-03-04T23:59:59.999Z', true],
      ],
    },
    {
      name: 'times: several ranges are alternatives',
      entries: [
        {
          times: [
            { start_time: '08:00', end_time: '09:00' },
            { start_time: '17:30', end_time: '18:00' },
          ],
        },
      ],
      expect: [
        ['2026-03-04T08:30:00Z', true],
        ['2026-03-04T12:00:00Z', false],
        ['2026-03-04T17:30:00Z', true],
        ['2026-03-04T18:00:00Z', false],
      ],
    },
    {
      name: 'weekdays: names in any case, inclusive ranges',
      entries: [{ weekdays: ['Monday:WEDNESDAY', 'saturday'] }],
      expect: [
        ['2026-03-01T12:00:00Z', false], // sunday
        ['2026-03-02T00:00:00Z', true], // monday
        ['2026-03-04T23:59:59Z', true], // wednesday
        ['2026-03-05T00:00:00Z', false], // thursday
        ['2026-03-07T10:00:00Z', true], // saturday
      ],
    },
    {
      name: 'weekdays: sunday is the first day of the week, as in Alertmanager',
      entries: [{ weekdays: ['sunday:monday'] }],
      expect: [
        ['2026-03-01T12:00:00Z', true],
        ['2026-03-02T12:00:00Z', true],
        ['2026-03-07T12:00:00Z', false],
      ],
    },
    {
      name: 'days_of_month: positive, negative, numbers from YAML',
      entries: [{ days_of_month: ['1:5', '-1', 15] }],
      expect: [
        ['2026-04-01T00:00:00Z', true],
        ['2026-04-05T23:59:00Z', true],
        ['2026-04-06T00:00:00Z', false],
        ['2026-04-15T12:00:00Z', true],
        ['2026-04-29T12:00:00Z', false],
        ['2026-04-30T12:00:00Z', true],
        ['2026-05-30T12:00:00Z', false],
        ['2026-05-31T12:00:00Z', true],
      ],
    },
    {
      name: 'days_of_month: the last three days, -3:-1',
      entries: [{ days_of_month: ['-3:-1'] }],
      expect: [
        ['2026-04-27T12:00:00Z', false],
        ['2026-04-28T00:00:00Z', true],
        ['2026-04-30T23:59:00Z', true],
        ['2026-05-28T12:00:00Z', false],
        ['2026-05-29T12:00:00Z', true],
      ],
    },
    {
      name: 'days_of_month: a positive start with a negative end, 10:-10',
      entries: [{ days_of_month: ['10:-10'] }],
      expect: [
        ['2026-04-09T12:00:00Z', false],
        ['2026-04-10T12:00:00Z', true],
        ['2026-04-21T12:00:00Z', true], // April: -10 is the 21st
        ['2026-04-22T12:00:00Z', false],
        ['2026-05-22T12:00:00Z', true], // May: -10 is the 22nd
      ],
    },
    {
      name: 'months: names, numbers and ranges',
      entries: [{ months: ['january:March', '7', 12] }],
      expect: [
        ['2026-01-01T00:00:00Z', true],
        ['2026-03-31T23:59:00Z', true],
        ['2026-04-01T00:00:00Z', false],
        ['2026-07-15T00:00:00Z', true],
        ['2026-08-15T00:00:00Z', false],
        ['2026-12-31T00:00:00Z', true],
      ],
    },
    {
      name: 'years: single years and ranges',
      entries: [{ years: ['2020:2022', '2026', 2030] }],
      expect: [
        ['2019-12-31T23:59:59Z', false],
        ['2020-01-01T00:00:00Z', true],
        ['2022-12-31T23:59:59Z', true],
        ['2023-06-01T00:00:00Z', false],
        ['2026-06-01T00:00:00Z', true],
        ['2030-06-01T00:00:00Z', true],
      ],
    },
    {
      name: 'location: the entry zone overrides the default, and years follow it',
      entries: [{ years: ['2027'], location: 'Asia/Tokyo' }],
      zone: 'America/Los_Angeles',
      expect: [
        ['2026-12-31T14:59:59Z', false],
        ['2026-12-31T15:00:00Z', true], // 2027-01-01 00:00 in Tokyo
      ],
    },
    {
      name: 'the default zone applies when an entry has no location',
      entries: [{ times: [{ start_time: '09:00', end_time: '10:00' }] }],
      zone: 'Asia/Kolkata',
      expect: [
        ['2026-03-04T03:29:00Z', false],
        ['2026-03-04T03:30:00Z', true], // 09:00 +05:30
        ['2026-03-04T04:29:00Z', true],
        ['2026-03-04T04:30:00Z', false],
      ],
    },
    {
      name: 'every given field must match; any entry may',
      entries: [
        {
          weekdays: ['monday:friday'],
          times: [{ start_time: '09:00', end_time: '17:00' }],
          months: ['march'],
        },
        { days_of_month: ['25'], months: ['december'] },
      ],
      expect: [
        ['2026-03-04T10:00:00Z', true],
        ['2026-03-07T10:00:00Z', false], // saturday
        ['2026-04-01T10:00:00Z', false], // april
        ['2026-03-04T18:00:00Z', false], // evening
        ['2026-12-25T03:00:00Z', true], // the second entry
      ],
    },
    {
      name: 'an entry with no fields matches every instant',
      entries: [{}],
      expect: [
        ['1999-12-31T23:59:59Z', true],
        ['2026-03-04T10:00:00Z', true],
      ],
    },
    {
      name: 'a window without entries matches nothing',
      entries: [],
      expect: [['2026-03-04T10:00:00Z', false]],
    },
  ];
  it.each(cases)('$name', ({ entries, zone, expect: expectations }) => {
    expectInstants(compile(entries, zone), expectations);
  });
});

describe('days_of_month at the end of short months (Alertmanager rules)', () => {
  it.each<[string, string[], Expectations]>([
    [
      '-1 is february 29th in the leap year 2028 and february 28th in 2026',
      ['-1'],
      [
        ['2028-02-28T12:00:00Z', false],
        ['2028-02-29T12:00:00Z', true],
        ['2026-02-27T12:00:00Z', false],
        ['2026-02-28T12:00:00Z', true],
      ],
    ],
    [
      '-2:-1 is the last two days either way',
      ['-2:-1'],
      [
        ['2028-02-27T12:00:00Z', false],
        ['2028-02-28T12:00:00Z', true],
        ['2028-02-29T12:00:00Z', true],
        ['2026-02-26T12:00:00Z', false],
        ['2026-02-27T12:00:00Z', true],
      ],
    ],
    [
      'a range starting after the month ends matches nothing that month (29:31)',
      ['29:31'],
      [
        ['2026-02-28T12:00:00Z', false],
        ['2026-03-01T12:00:00Z', false],
        ['2028-02-29T12:00:00Z', true],
        ['2026-03-29T12:00:00Z', true],
        ['2026-04-30T12:00:00Z', true],
      ],
    ],
    [
      'an end after the month ends stops at its last day (28:31)',
      ['28:31'],
      [
        ['2026-02-28T12:00:00Z', true],
        ['2028-02-28T12:00:00Z', true],
        ['2028-02-29T12:00:00Z', true],
      ],
    ],
    [
      'a day that does not exist in the month never matches (31 in april)',
      ['31'],
      [
        ['2026-04-30T12:00:00Z', false],
        ['2026-05-01T12:00:00Z', false],
        ['2026-05-31T12:00:00Z', true],
      ],
    ],
    [
      'negative days before the month starts match nothing (-31:-30 in february)',
      ['-31:-30'],
      [
        ['2026-02-01T12:00:00Z', false],
        ['2026-02-02T12:00:00Z', false],
        ['2026-03-01T12:00:00Z', true],
        ['2026-03-02T12:00:00Z', true],
        ['2026-03-03T12:00:00Z', false],
      ],
    ],
    [
      '1:-1 is the whole month',
      ['1:-1'],
      [
        ['2028-02-29T12:00:00Z', true],
        ['2026-02-01T00:00:00Z', true],
      ],
    ],
    [
      '28:-1 is accepted (Alertmanager refuses it by an off-by-one) and is the 28th of february 2026',
      ['28:-1'],
      [
        ['2026-02-27T12:00:00Z', false],
        ['2026-02-28T12:00:00Z', true],
        ['2026-03-28T12:00:00Z', true],
        ['2026-03-31T12:00:00Z', true],
      ],
    ],
  ])('%s', (_name, days, expectations) => {
    expectInstants(compile([{ days_of_month: days }]), expectations);
  });
});

describe('interval entries across DST: wall-clock time of the zone', () => {
  const earlyHours = [{ times: [{ start_time: '01:30', end_time: '02:30' }] }];

  it('01:30-02:30 on the US spring-forward day (2026-03-08) lasts 30 real minutes: 02:00-03:00 does not exist', () => {
    expectInstants(compile(earlyHours, 'America/New_York'), [
      ['2026-03-08T01:29:59-05:00', false],
      ['2026-03-08T01:30:00-05:00', true],
      ['2026-03-08T01:59:59-05:00', true],
      ['2026-03-08T03:00:00-04:00', false], // the instant after 01:59:59 EST
      ['2026-03-08T03:30:00-04:00', false],
    ]);
  });

  it('01:30-02:30 on the EU spring-forward day (2026-03-29) lasts 30 real minutes', () => {
    expectInstants(compile(earlyHours, 'Europe/Berlin'), [
      ['2026-03-29T01:29:00+01:00', false],
      ['2026-03-29T01:30:00+01:00', true],
      ['2026-03-29T01:59:59+01:00', true],
      ['2026-03-29T03:00:00+02:00', false],
    ]);
  });

  it('01:30-02:30 on the US fall-back day (2026-11-01) matches both 01:30s: 90 real minutes', () => {
    expectInstants(compile(earlyHours, 'America/New_York'), [
      ['2026-11-01T01:29:00-04:00', false],
      ['2026-11-01T01:30:00-04:00', true],
      ['2026-11-01T01:59:59-04:00', true],
      ['2026-11-01T01:00:00-05:00', false], // the clock went back to 01:00
      ['2026-11-01T01:30:00-05:00', true],
      ['2026-11-01T02:29:59-05:00', true],
      ['2026-11-01T02:30:00-05:00', false],
    ]);
  });

  it('01:30-02:30 on the EU fall-back day (2026-10-25) matches 02:00-02:30 twice', () => {
    expectInstants(compile(earlyHours, 'Europe/Berlin'), [
      ['2026-10-25T01:30:00+02:00', true],
      ['2026-10-25T02:29:59+02:00', true],
      ['2026-10-25T02:30:00+02:00', false],
      ['2026-10-25T02:59:59+02:00', false],
      ['2026-10-25T02:00:00+01:00', true], // the clock went back to 02:00
      ['2026-10-25T02:29:59+01:00', true],
      ['2026-10-25T02:30:00+01:00', false],
    ]);
  });

  const businessHours = [
    { weekdays: ['monday:friday'], times: [{ start_time: '09:00', end_time: '18:00' }] },
  ];

  it.each<[string, Expectations]>([
    [
      'America/New_York',
      [
        ['2026-03-06T13:59:00Z', false], // friday 08:59 EST
        ['2026-03-06T14:00:00Z', true], // friday 09:00 EST
        ['2026-03-06T22:59:00Z', true], // friday 17:59 EST
        ['2026-03-06T23:00:00Z', false],
        ['2026-03-09T12:59:00Z', false], // monday 08:59 EDT
        ['2026-03-09T13:00:00Z', true], // monday 09:00 EDT
        ['2026-03-09T21:59:00Z', true],
        ['2026-03-09T22:00:00Z', false], // monday 18:00 EDT
        ['2026-10-30T13:00:00Z', true], // friday 09:00 EDT
        ['2026-11-02T13:00:00Z', false], // monday 08:00 EST
        ['2026-11-02T14:00:00Z', true], // monday 09:00 EST
      ],
    ],
    [
      'Europe/Berlin',
      [
        ['2026-03-27T07:59:00Z', false], // friday 08:59 CET
        ['2026-03-27T08:00:00Z', true], // friday 09:00 CET
        ['2026-03-30T06:59:00Z', false], // monday 08:59 CEST
        ['2026-03-30T07:00:00Z', true], // monday 09:00 CEST
        ['2026-03-30T15:59:00Z', true],
        ['2026-03-30T16:00:00Z', false], // monday 18:00 CEST
        ['2026-10-23T07:00:00Z', true], // friday 09:00 CEST
        ['2026-10-26T07:00:00Z', false], // monday 08:00 CET
        ['2026-10-26T08:00:00Z', true], // monday 09:00 CET
      ],
    ],
  ])(
    'business hours 09:00-18:00 monday to friday stay local across the changes in %s',
    (zone, expectations) => {
      expectInstants(compile(businessHours, zone), expectations);
    },
  );

  it('a range across midnight is two ranges; with weekdays, two entries (friday 22:00 to saturday 06:00)', () => {
    const window = compile(
      [
        { weekdays: ['friday'], times: [{ start_time: '22:00', end_time: '24:00' }] },
        { weekdays: ['saturday'], times: [{ start_time: '00:00', end_time: '06:00' }] },
      ],
      'Europe/Berlin',
    );
    expectInstants(window, [
      ['2026-10-23T21:59:00+02:00', false],
      ['2026-10-23T22:00:00+02:00', true],
      ['2026-10-23T23:59:59+02:00', true],
      ['2026-10-24T00:00:00+02:00', true],
      ['2026-10-24T05:59:59+02:00', true],
      ['2026-10-24T06:00:00+02:00', false],
      ['2026-10-24T23:00:00+02:00', false], // saturday night
      ['2026-10-25T01:00:00+02:00', false], // sunday early hours
    ]);
  });
});

describe('cron windows', () => {
  const maintenance = [{ cron: '0 2 * * SUN', duration: '2h', location: 'UTC' }];

  it('weekly maintenance, sunday 02:00 UTC for 2h: open at 02:00 and 03:59:59, closed at 04:00', () => {
    expectInstants(compile(maintenance, 'Europe/Berlin'), [
      ['2026-03-01T01:59:59.999Z', false],
      ['2026-03-01T02:00:00Z', true],
      ['2026-03-01T03:59:59Z', true],
      ['2026-03-01T03:59:59.999Z', true],
      ['2026-03-01T04:00:00Z', false],
      ['2026-03-02T02:30:00Z', false], // monday
      ['2026-03-08T02:00:00Z', true], // the next sunday
    ]);
  });

  it('a cron at 02:30 in Europe/Berlin fires at 03:30 on spring-forward day and once, at the first 02:30, on fall-back day', () => {
    expectInstants(compile([{ cron: '30 2 * * *', duration: '1h' }], 'Europe/Berlin'), [
      ['2026-03-28T02:30:00+01:00', true],
      ['2026-03-29T01:30:00+01:00', false],
      ['2026-03-29T03:29:59+02:00', false],
      ['2026-03-29T03:30:00+02:00', true],
      ['2026-03-29T04:29:59+02:00', true],
      ['2026-03-29T04:30:00+02:00', false],
      ['2026-10-25T02:29:59+02:00', false],
      ['2026-10-25T02:30:00+02:00', true],
      ['2026-10-25T02:00:00+01:00', true], // an hour of real time is not over yet
      ['2026-10-25T02:29:59+01:00', true],
      ['2026-10-25T02:30:00+01:00', false], // the repeated 02:30 does not fire again
      ['2026-10-25T03:00:00+01:00', false],
    ]);
  });

  it('a cron at 02:30 in America/New_York fires at 03:30 on spring-forward day; 01:30 fires once, at the first, on fall-back day', () => {
    expectInstants(compile([{ cron: '30 2 * * *', duration: '1h' }], 'America/New_York'), [
      ['2026-03-08T03:29:59-04:00', false],
      ['2026-03-08T03:30:00-04:00', true],
      ['2026-03-08T04:29:59-04:00', true],
      ['2026-03-08T04:30:00-04:00', false],
      ['2026-11-01T02:30:00-05:00', true], // 02:30 exists once in New York
    ]);
    expectInstants(compile([{ cron: '30 1 * * *', duration: '30m' }], 'America/New_York'), [
      ['2026-11-01T01:30:00-04:00', true],
      ['2026-11-01T01:59:59-04:00', true],
      ['2026-11-01T01:00:00-05:00', false],
      ['2026-11-01T01:30:00-05:00', false],
    ]);
  });

  it('duration is real time: 01:00 Berlin for 2h on spring-forward day closes at 04:00 local', () => {
    expectInstants(compile([{ cron: '0 1 * * *', duration: '2h', location: 'Europe/Berlin' }]), [
      ['2026-03-29T01:00:00+01:00', true],
      ['2026-03-29T03:59:59+02:00', true],
      ['2026-03-29T04:00:00+02:00', false],
    ]);
  });

  it('a wildcard hour keeps firing through the repeated hour', () => {
    expectInstants(compile([{ cron: '*/15 * * * *', duration: '5m' }], 'Europe/Berlin'), [
      ['2026-10-25T02:45:00+02:00', true],
      ['2026-10-25T02:50:00+02:00', false],
      ['2026-10-25T02:00:00+01:00', true],
      ['2026-10-25T02:04:59+01:00', true],
      ['2026-10-25T02:05:00+01:00', false],
    ]);
  });

  it('a duration longer than the gap between fires keeps the window open', () => {
    const window = compile([{ cron: '0 * * * *', duration: '90m' }]);
    for (let minute = 0; minute < 24 * 60; minute += 7) {
      expect(window.contains(ms('2026-03-04T00:00:00Z') + minute * 60_000)).toBe(true);
    }
  });

  it("Jenkins-style H picks the same minute on every compile of the window (seeded by the window's name)", () => {
    const insideMinutes = () => {
      const window = compile([{ cron: 'H 2 * * *', duration: '1m' }]);
      const day = ms('2026-03-04T00:00:00Z');
      return Array.from({ length: 24 * 60 }, (_, i) => day + i * 60_000).filter((t) => window.contains(t));
    };
    const first = insideMinutes();
    expect(first).toHaveLength(1);
    expect(insideMinutes()).toEqual(first);
  });

  it('seconds-precise boundaries: the fire second opens, the end instant closes', () => {
    const window = compile([{ cron: '15 10 4 3 *', duration: '1m30s' }]);
    expectInstants(window, [
      ['2026-03-04T10:14:59.999Z', false],
      ['2026-03-04T10:15:00.000Z', true],
      ['2026-03-04T10:16:29.999Z', true],
      ['2026-03-04T10:16:30.000Z', false],
      ['2027-03-04T10:15:30.000Z', true],
    ]);
  });
});

// cron-parser's next(), stepped forward from a week earlier, is the schedule's definition.
function referenceContains(expression: string, zone: string, durationMs: number, fromMs: number) {
  const iterator = CronExpressionParser.parse(expression, { currentDate: fromMs - 7 * 86_400_000, tz: zone });
  const fires: number[] = [];
  const fireUntil = (ms: number) => {
    while (fires.length === 0 || (fires.at(-1) as number) <= ms) fires.push(iterator.next().getTime());
  };
  return (instantMs: number): boolean => {
    fireUntil(instantMs);
    const latest = fires.filter((fire) => fire <= instantMs).at(-1);
    return latest !== undefined && instantMs < latest + durationMs;
  };
}

function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  let seed = 42;
  for (let i = copy.length - 1; i > 0; i--) {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    const j = seed % (i + 1);
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

describe('cron windows agree with stepping cron-parser forward, in any call order, on DST days', () => {
  const days: [zone: string, transitionUtc: string][] = [
    ['America/New_York', '2026-03-08T07:00:00Z'],
    ['America/New_York', '2026-11-01T06:00:00Z'],
    ['Europe/Berlin', '2026-03-29T01:00:00Z'],
    ['Europe/Berlin', '2026-10-25T01:00:00Z'],
  ];
  const schedules: [expression: string, duration: string, durationMs: number][] = [
    ['30 2 * * *', '45m', 45 * 60_000],
    ['*/30 1,2 * * *', '10m', 10 * 60_000],
    ['*/15 * * * *', '5m', 5 * 60_000],
    ['0 1 * * *', '2h', 2 * 3_600_000],
    ['45 0-3 * * 0', '20m', 20 * 60_000],
  ];
  const orders = {
    ascending: (xs: number[]) => xs,
    descending: (xs: number[]) => [...xs].reverse(),
    shuffled,
  };

  describe.each(days)('%s around %s', (zone, transitionUtc) => {
    // Fires and durations are multiples of 5 minutes: check each such instant and the millisecond
    // before it, from 4 hours before the change to 4 hours after.
    const start = ms(transitionUtc) - 4 * 3_600_000;
    const instants = Array.from({ length: (8 * 60) / 5 }, (_, i) => start + i * 5 * 60_000).flatMap((t) => [
      t - 1,
      t,
    ]);

    it.each(schedules)('%s for %s', (expression, duration, durationMs) => {
      const reference = referenceContains(expression, zone, durationMs, start);
      const expected = new Map(instants.map((t) => [t, reference(t)]));
      for (const [order, arrange] of Object.entries(orders)) {
        const window = compile([{ cron: expression, duration, location: zone }]);
        for (const t of arrange(instants)) {
          if (window.contains(t) !== expected.get(t)) {
            throw new Error(
              `${order}: ${new Date(t).toISOString()} should be ${expected.get(t) ? 'inside' : 'outside'}`,
            );
          }
        }
      }
    });
  });
});

describe('caches', () => {
  const far = [
    '2026-03-01T02:30:00Z',
    '2019-01-06T02:30:00Z',
    '2031-12-28T02:59:00Z',
    '2026-03-01T02:29:00Z',
    '2026-03-01T01:59:59Z',
    '2026-03-01T04:00:00Z',
    '2026-03-01T03:00:00Z',
    '1971-07-04T12:00:00Z',
    '2026-03-01T02:00:00Z',
  ].map(ms);

  it.each<[string, unknown[]]>([
    ['cron', [{ cron: '0 2 * * SUN', duration: '2h' }]],
    ['interval', [{ weekdays: ['sunday'], times: [{ start_time: '02:00', end_time: '04:00' }] }]],
    [
      'both',
      [
        { cron: '0 2 * * SUN', duration: '1h' },
        { weekdays: ['sunday'], times: [{ start_time: '03:00', end_time: '04:00' }] },
      ],
    ],
  ])('%s: far-apart and decreasing instants give the same answers as a fresh window', (_name, entries) => {
    const window = compile(entries);
    for (const t of [...far, ...far.reverse()]) expect(window.contains(t)).toBe(compile(entries).contains(t));
  });

  it('interval: every 20 seconds across a fall-back night, backwards, gives the same answers as a fresh window', () => {
    const entries = [{ times: [{ start_time: '01:30', end_time: '02:30' }], location: 'America/New_York' }];
    const window = compile(entries);
    for (let t = ms('2026-11-01T08:00:00Z'); t >= ms('2026-11-01T04:00:00Z'); t -= 20_000) {
      expect(window.contains(t)).toBe(compile(entries).contains(t));
    }
  });

  it('interval: within one minute luxon is asked once', () => {
    const window = compile([{ times: [{ start_time: '09:00', end_time: '17:00' }] }], 'Europe/Berlin');
    const fromMillis = vi.spyOn(DateTime, 'fromMillis');
    const t = ms('2026-03-04T10:00:00Z');
    for (let i = 0; i < 1_000; i++) window.contains(t + (i % 60) * 1_000);
    expect(fromMillis).toHaveBeenCalledTimes(1);
    window.contains(t + 60_000);
    expect(fromMillis).toHaveBeenCalledTimes(2);
  });

  it('cron: between two fires cron-parser is not asked again', () => {
    const window = compile([{ cron: '0 2 * * SUN', duration: '2h' }]);
    window.contains(ms('2026-03-01T02:00:00Z'));
    const next = vi.spyOn(CronExpression.prototype, 'next');
    const prev = vi.spyOn(CronExpression.prototype, 'prev');
    for (let minute = 0; minute < 7 * 24 * 60; minute += 13)
      window.contains(ms('2026-03-01T02:00:00Z') + minute * 60_000);
    expect(next).not.toHaveBeenCalled();
    expect(prev).not.toHaveBeenCalled();
  });

  it('cron: time-ordered calls step forward one fire at a time, without searching back', () => {
    const window = compile([{ cron: '0 2 * * SUN', duration: '2h' }]);
    window.contains(ms('2026-03-01T02:00:00Z'));
    const next = vi.spyOn(CronExpression.prototype, 'next');
    const prev = vi.spyOn(CronExpression.prototype, 'prev');
    expect(window.contains(ms('2026-03-08T02:30:00Z'))).toBe(true);
    expect(window.contains(ms('2026-03-15T04:30:00Z'))).toBe(false);
    expect(next).toHaveBeenCalledTimes(2);
    expect(prev).not.toHaveBeenCalled();
  });

  it('instants that are no time give false', () => {
    const window = compile([{}, { cron: '* * * * *', duration: '1h' }]);
    for (const t of [Number.NaN, Number.POSITIVE_INFINITY, -Number.POSITIVE_INFINITY, 1e300, 8.64e15 + 1]) {
      expect(window.contains(t)).toBe(false);
    }
  });
});

describe('problems: each one, with its path', () => {
  const times = (start_time: unknown, end_time: unknown) => [{ times: [{ start_time, end_time }] }];
  const cases: [string, unknown, WindowProblem][] = [
    [
      'hour 25',
      times('25:00', '23:00'),
      {
        path: [0, 'times', 0, 'start_time'],
        message: 'invalid time "25:00" (expected HH:MM from 00:00 to 24:00)',
      },
    ],
    [
      'one-digit hour',
      times('08:00', '9:00'),
      {
        path: [0, 'times', 0, 'end_time'],
        message: 'invalid time "9:00" (expected HH:MM from 00:00 to 24:00)',
      },
    ],
    [
      'past 24:00',
      times('08:00', '24:01'),
      {
        path: [0, 'times', 0, 'end_time'],
        message: 'invalid time "24:01" (expected HH:MM from 00:00 to 24:00)',
      },
    ],
    [
      'a number for a time',
      times(900, '10:00'),
      {
        path: [0, 'times', 0, 'start_time'],
        message: 'invalid time 900 (expected HH:MM from 00:00 to 24:00)',
      },
    ],
    [
      'across midnight',
      times('22:00', '06:00'),
      {
        path: [0, 'times', 0],
        message:
          'start_time "22:00" must be before end_time "06:00"; split a range across midnight into two ranges ("22:00"-"24:00" and "00:00"-"06:00")',
      },
    ],
    [
      'until 00:00',
      times('22:00', '00:00'),
      {
        path: [0, 'times', 0],
        message:
          'start_time "22:00" must be before end_time "00:00"; to run until midnight, use end_time "24:00"',
      },
    ],
    [
      'empty range',
      times('09:00', '09:00'),
      {
        path: [0, 'times', 0],
        message: 'start_time "09:00" must be before end_time "09:00"; the range is empty',
      },
    ],
    [
      'missing end_time',
      [{ times: [{ start_time: '09:00' }] }],
      {
        path: [0, 'times', 0],
        message: 'a time range needs both start_time and end_time; end_time is missing',
      },
    ],
    [
      'a time range that is text',
      [{ times: ['09:00-17:00'] }],
      {
        path: [0, 'times', 0],
        message: 'a time range is a mapping like {start_time: "09:00", end_time: "17:00"}, got "09:00-17:00"',
      },
    ],
    [
      'times not a list',
      [{ times: { start_time: '09:00', end_time: '10:00' } }],
      { path: [0, 'times'], message: 'times must be a list, got a mapping' },
    ],
    [
      'an empty list',
      [{ weekdays: [] }],
      {
        path: [0, 'weekdays'],
        message: 'weekdays is empty, so this entry could never match; leave weekdays out to match any',
      },
    ],
    [
      'misspelt weekday',
      [{ weekdays: ['monday', 'mondey'] }],
      { path: [0, 'weekdays', 1], message: 'unknown weekday "mondey" (expected monday, tuesday, … sunday)' },
    ],
    [
      'weekday as a number',
      [{ weekdays: [1] }],
      { path: [0, 'weekdays', 0], message: 'weekday must be text like "monday" or "monday:friday", got 1' },
    ],
    [
      'weekday range backwards',
      [{ weekdays: ['friday:monday'] }],
      {
        path: [0, 'weekdays', 0],
        message:
          'weekday range "friday:monday" runs backwards (weeks run sunday to saturday); split it into "friday:saturday" and "sunday:monday"',
      },
    ],
    [
      'saturday:sunday',
      [{ weekdays: ['saturday:sunday'] }],
      {
        path: [0, 'weekdays', 0],
        message:
          'weekday range "saturday:sunday" runs backwards (weeks run sunday to saturday); split it into "saturday" and "sunday"',
      },
    ],
    [
      'three-part range',
      [{ weekdays: ['monday:tuesday:friday'] }],
      {
        path: [0, 'weekdays', 0],
        message:
          'invalid weekday range "monday:tuesday:friday" (expected one value or start:end, like "monday" or "monday:friday")',
      },
    ],
    [
      'day 0',
      [{ days_of_month: ['0'] }],
      {
        path: [0, 'days_of_month', 0],
        message:
          "day of month 0 is out of range (1 to 31, or -1 to -31 counting back from the month's last day)",
      },
    ],
    [
      'day 32',
      [{ days_of_month: ['1:32'] }],
      {
        path: [0, 'days_of_month', 0],
        message:
          "day of month 32 is out of range (1 to 31, or -1 to -31 counting back from the month's last day)",
      },
    ],
    [
      'day -32',
      [{ days_of_month: [-32] }],
      {
        path: [0, 'days_of_month', 0],
        message:
          "day of month -32 is out of range (1 to 31, or -1 to -31 counting back from the month's last day)",
      },
    ],
    [
      'day as a word',
      [{ days_of_month: ['first'] }],
      {
        path: [0, 'days_of_month', 0],
        message: `invalid day of month "first" (expected 1 to 31, or -1 to -31 from the month's end)`,
      },
    ],
    [
      'negative start, positive end',
      [{ days_of_month: ['-3:5'] }],
      {
        path: [0, 'days_of_month', 0],
        message: `day range "-3:5" starts counting from the month's end but ends counting from its start; make both negative, like "-3:-1"`,
      },
    ],
    [
      'empty in february',
      [{ days_of_month: ['25:-5'] }],
      { path: [0, 'days_of_month', 0], message: 'day range "25:-5" is empty in a 28-day month (February)' },
    ],
    [
      'days backwards',
      [{ days_of_month: ['10:5'] }],
      { path: [0, 'days_of_month', 0], message: 'day range "10:5" runs backwards' },
    ],
    [
      'negative days backwards',
      [{ days_of_month: ['-1:-3'] }],
      { path: [0, 'days_of_month', 0], message: 'day range "-1:-3" runs backwards' },
    ],
    [
      'a fractional day',
      [{ days_of_month: [1.5] }],
      {
        path: [0, 'days_of_month', 0],
        message: `day of month must be text like "1", "-1" (the last day) or "1:5", got 1.5`,
      },
    ],
    [
      'misspelt month',
      [{ months: ['janury'] }],
      { path: [0, 'months', 0], message: 'unknown month "janury" (expected january … december, or 1 … 12)' },
    ],
    [
      'month 13',
      [{ months: [13] }],
      { path: [0, 'months', 0], message: 'month 13 is out of range (1 to 12)' },
    ],
    [
      'month 0',
      [{ months: ['0:3'] }],
      { path: [0, 'months', 0], message: 'month 0 is out of range (1 to 12)' },
    ],
    [
      'months backwards',
      [{ months: ['november:february'] }],
      {
        path: [0, 'months', 0],
        message:
          'month range "november:february" runs backwards; split it into "november:december" and "january:february"',
      },
    ],
    [
      'bad year',
      [{ years: ['20x6'] }],
      { path: [0, 'years', 0], message: 'invalid year "20x6" (expected a year like 2026)' },
    ],
    [
      'negative year',
      [{ years: ['-2026'] }],
      { path: [0, 'years', 0], message: 'invalid year "-2026" (expected a year like 2026)' },
    ],
    [
      'years backwards',
      [{ years: ['2027:2026'] }],
      { path: [0, 'years', 0], message: 'year range "2027:2026" runs backwards' },
    ],
    [
      'unknown zone',
      [{ location: 'America/Nowhere' }],
      { path: [0, 'location'], message: 'unknown time zone "America/Nowhere"' },
    ],
    [
      'zone not text',
      [{ location: 5 }],
      {
        path: [0, 'location'],
        message: 'location must be an IANA time zone name like "Europe/Berlin", got 5',
      },
    ],
    [
      'unknown field',
      [{ weekday: ['monday'] }],
      {
        path: [0, 'weekday'],
        message:
          'unknown field "weekday" (expected times, weekdays, days_of_month, months, years, location; or cron and duration for a cron window)',
      },
    ],
    [
      "Alertmanager's time_zone",
      [{ time_zone: 'UTC' }],
      { path: [0, 'time_zone'], message: 'Alertmanager\'s "time_zone" is called "location" here' },
    ],
    [
      'entry not a mapping',
      ['monday'],
      {
        path: [0],
        message:
          'an entry is a mapping: an interval (times, weekdays, days_of_month, months, years, location) or a cron window (cron, duration, location), got "monday"',
      },
    ],
    [
      'entries not a list',
      { weekdays: ['monday'] },
      { path: [], message: 'a time window is a list of entries, got a mapping' },
    ],
    [
      'four cron fields',
      [{ cron: '0 2 * *', duration: '1h' }],
      {
        path: [0, 'cron'],
        message: 'cron "0 2 * *" must have exactly 5 fields (minute hour day-of-month month day-of-week)',
      },
    ],
    [
      'one cron field, which cron-parser would pad',
      [{ cron: '*/5', duration: '1h' }],
      {
        path: [0, 'cron'],
        message: 'cron "*/5" must have exactly 5 fields (minute hour day-of-month month day-of-week)',
      },
    ],
    [
      'six cron fields',
      [{ cron: '0 0 2 * * SUN', duration: '1h' }],
      {
        path: [0, 'cron'],
        message:
          'cron "0 0 2 * * SUN" must have exactly 5 fields (minute hour day-of-month month day-of-week)',
      },
    ],
    [
      'a cron macro',
      [{ cron: '@daily', duration: '1h' }],
      {
        path: [0, 'cron'],
        message: 'cron "@daily" must have exactly 5 fields (minute hour day-of-month month day-of-week)',
      },
    ],
    [
      'empty cron',
      [{ cron: '', duration: '1h' }],
      {
        path: [0, 'cron'],
        message: 'cron "" must have exactly 5 fields (minute hour day-of-month month day-of-week)',
      },
    ],
    [
      'hour 25 in cron',
      [{ cron: '0 25 * * *', duration: '1h' }],
      {
        path: [0, 'cron'],
        message: 'invalid cron "0 25 * * *": Constraint error, got value 25 expected range 0-23',
      },
    ],
    [
      'cron that never fires',
      [{ cron: '0 0 30 2 *', duration: '1h' }],
      { path: [0, 'cron'], message: 'invalid cron "0 0 30 2 *": Invalid explicit day of month definition' },
    ],
    [
      'cron not text',
      [{ cron: 5, duration: '1h' }],
      { path: [0, 'cron'], message: 'cron must be text like "0 2 * * SUN", got 5' },
    ],
    [
      'duration without cron',
      [{ duration: '1h' }],
      {
        path: [0, 'cron'],
        message: 'a cron window needs a cron expression next to its duration, like cron: "0 2 * * SUN"',
      },
    ],
    [
      'cron without duration',
      [{ cron: '0 2 * * *' }],
      { path: [0, 'duration'], message: 'a cron window needs a duration, like duration: 2h' },
    ],
    [
      'bad duration',
      [{ cron: '0 2 * * *', duration: '2x' }],
      { path: [0, 'duration'], message: 'duration "2x" is not a duration like 30m, 2h, 1h30m' },
    ],
    [
      'numeric duration',
      [{ cron: '0 2 * * *', duration: 120 }],
      { path: [0, 'duration'], message: 'duration 120 is not a duration like 30m, 2h, 1h30m' },
    ],
    [
      'zero duration',
      [{ cron: '0 2 * * *', duration: '0s' }],
      { path: [0, 'duration'], message: 'duration "0s" must be longer than zero' },
    ],
    [
      'cron with interval fields',
      [{ cron: '0 2 * * *', duration: '1h', weekdays: ['monday'] }],
      {
        path: [0, 'weekdays'],
        message:
          '"weekdays" cannot be combined with cron and duration; put the interval in an entry of its own',
      },
    ],
    [
      'unknown cron zone',
      [{ cron: '0 2 * * *', duration: '1h', location: 'Mars/Olympus' }],
      { path: [0, 'location'], message: 'unknown time zone "Mars/Olympus"' },
    ],
  ];
  it.each(cases)('%s', (_name, entries, problem) => {
    expect(problemsOf(entries)).toEqual([problem]);
  });

  it('an unknown default zone is reported on each entry that relies on it', () => {
    const entries = [
      { weekdays: ['monday'] },
      { weekdays: ['monday'], location: 'UTC' },
      { cron: '0 2 * * *', duration: '1h' },
    ];
    const message =
      'no location given, and the default time zone "Europe/Nowhere" (settings.timezone) is unknown';
    expect(problemsOf(entries, 'Europe/Nowhere')).toEqual([
      { path: [0], message },
      { path: [2], message },
    ]);
  });

  it('reports every problem of every entry, not just the first', () => {
    const problems = problemsOf([
      {
        times: [{ start_time: '25:00', end_time: '9' }],
        weekdays: ['mondey', 'friday:monday'],
        location: 'Nowhere',
      },
      { cron: '0 25 * * *', duration: '2x', location: 'America/Nowhere' },
      'garbage',
      { months: ['janury'], years: ['x'], days_of_month: ['0'] },
    ]);
    expect(problems.map((p) => p.path)).toEqual([
      [0, 'location'],
      [0, 'times', 0, 'start_time'],
      [0, 'times', 0, 'end_time'],
      [0, 'weekdays', 0],
      [0, 'weekdays', 1],
      [1, 'location'],
      [1, 'cron'],
      [1, 'duration'],
      [2],
      [3, 'days_of_month', 0],
      [3, 'months', 0],
      [3, 'years', 0],
    ]);
  });
});

describe('compileTimeWindow never throws on garbage', () => {
  const garbage: unknown[] = [
    null,
    undefined,
    42,
    'weekdays',
    [null],
    [undefined],
    [[]],
    [42],
    [Object.create(null) as object],
    [{ times: null, weekdays: 'monday', days_of_month: 5, months: {}, years: true }],
    [{ times: [null, 42, [], { start_time: null, end_time: [] }] }],
    [{ times: [{ start_time: { toString: () => '09:00' }, end_time: Symbol('x') }] }],
    [{ weekdays: [null, {}, [], Number.NaN, Symbol('x')] }],
    [{ days_of_month: [Number.NaN, Number.POSITIVE_INFINITY, 1e21, -0, '', ':', '::'] }],
    [{ months: [''], years: [Number.MAX_SAFE_INTEGER, '99999999999999999999'] }],
    [{ cron: {}, duration: [] }],
    [{ cron: null, duration: null, location: null }],
    [{ cron: '* * * * *'.repeat(200), duration: '1h' }],
    [{ cron: '0 0 L W #', duration: '99999999999999999999h' }],
    [{ location: {} }],
    [{ location: '' }],
    [JSON.parse('{"__proto__": {"weekdays": ["monday"]}}') as unknown],
  ];
  it.each(garbage.map((entries, index) => [index, entries]))('garbage #%i', (_index, entries) => {
    for (const zone of ['UTC', '', 'Nowhere', 42, null, undefined]) {
      const result = compileTimeWindow('garbage', entries as TimeWindowEntry[], zone as string);
      if (result.ok) expect(typeof result.window.contains(Date.now())).toBe('boolean');
      else expect(result.problems.length).toBeGreaterThan(0);
    }
  });
});
