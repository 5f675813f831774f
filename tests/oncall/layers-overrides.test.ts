// Layers with restrictions, overrides, empty turns and coverage gaps (docs/policy-language.md,
// "On-call schedules", "Coverage gaps").
import { describe, expect, it } from 'vitest';
import { onCallAt } from '../../src/oncall/index.js';
import { gaps, timeline } from '../../src/oncall/timeline.js';
import { scheduleGaps } from '../../src/oncall/coverage.js';
import { iso, ms, policyWith, scheduleFrom } from './helpers.js';

const LAYERED = (mode: string, overrides = '') => `schedules:
  app:
    timezone: Europe/Berlin
    layers:
      - name: follow-the-week
        rotation: { members: [ana, ben, cy], every: 1w, start: '2026-01-05T09:00' }
      - name: business-hours
        mode: ${mode}
        rotation: { members: [dee], every: 1d, start: '2026-01-05T00:00' }
        restrict: [{ weekdays: ['monday:friday'], times: [{ start_time: '09:00', end_time: '18:00' }] }]
${overrides}`;

describe('layers', () => {
  it('replace: a business-hours layer hides the 24/7 rotation Mon-Fri 09:00-18:00 local', () => {
    const s = scheduleFrom(LAYERED('replace'), 'app');
    // 2026-03-31 is a Tuesday, in CEST: 09:00 local = 07:00Z. The week of 03-30 is week 12 → ana.
    expect(onCallAt(s, ms('2026-03-31T06:59:00Z'))).toEqual(['ana']);
    expect(onCallAt(s, ms('2026-03-31T07:00:00Z'))).toEqual(['dee']);
    expect(onCallAt(s, ms('2026-03-31T15:59:59Z'))).toEqual(['dee']);
    expect(onCallAt(s, ms('2026-03-31T16:00:00Z'))).toEqual(['ana']);
    expect(onCallAt(s, ms('2026-04-04T10:00:00Z'))).toEqual(['ana']); // Saturday
  });

  it('add: the layers join; the timeline changes exactly at the restriction bounds, also across DST', () => {
    const s = scheduleFrom(LAYERED('add'), 'app');
    expect(onCallAt(s, ms('2026-03-31T07:00:00Z'))).toEqual(['ana', 'dee']);
    // Friday 03-27 (CET) to Monday 03-30 (CEST), 09:00-18:00 local each weekday.
    expect(
      timeline(s, ms('2026-03-27T00:00:00Z'), ms('2026-03-31T00:00:00Z')).map((t) => [
        iso(t.startMs),
        t.people,
      ]),
    ).toEqual([
      ['2026-03-27T00:00:00.000Z', ['cy']],
      ['2026-03-27T08:00:00.000Z', ['cy', 'dee']],
      ['2026-03-27T17:00:00.000Z', ['cy']],
      ['2026-03-30T07:00:00.000Z', ['ana', 'dee']], // the weekly hand-off and 09:00 CEST together
      ['2026-03-30T16:00:00.000Z', ['ana']],
    ]);
  });
});

describe('restrictions across DST', () => {
  const NIGHT = `schedules:
  night:
    timezone: Europe/Berlin
    layers:
      - name: l
        rotation: { members: [ana], every: 1w, start: '2026-10-19T00:00' }
        restrict: [{ times: [{ start_time: '02:30', end_time: '02:45' }] }]
`;
  it('a window in the repeated hour is on call both times it occurs; in the skipped hour, never', () => {
    const s = scheduleFrom(NIGHT, 'night');
    const on = timeline(s, ms('2026-10-24T12:00:00Z'), ms('2026-10-25T12:00:00Z'))
      .filter((t) => t.people.length > 0)
      .map((t) => [iso(t.startMs), iso(t.endMs)]);
    expect(on).toEqual([
      ['2026-10-25T00:30:00.000Z', '2026-10-25T00:45:00.000Z'], // 02:30-02:45 +02:00
      ['2026-10-25T01:30:00.000Z', '2026-10-25T01:45:00.000Z'], // 02:30-02:45 +01:00
    ]);
    const spring = scheduleFrom(NIGHT.replace('2026-10-19', '2026-03-23'), 'night');
    const march = timeline(spring, ms('2026-03-28T12:00:00Z'), ms('2026-03-29T12:00:00Z'));
    expect(march.filter((t) => t.people.length > 0)).toEqual([]);
  });
});

describe('overrides', () => {
  it('replace with someone else for a range, half-open', () => {
    const s = scheduleFrom(
      LAYERED(
        'replace',
        `    overrides:
      - { replace: ana, with: eli, start: '2026-04-01T00:00', end: '2026-04-02T00:00' }
`,
      ),
      'app',
    );
    expect(onCallAt(s, ms('2026-03-31T21:59:59Z'))).toEqual(['ana']);
    expect(onCallAt(s, ms('2026-03-31T22:00:00Z'))).toEqual(['eli']); // 04-01 00:00 CEST
    expect(onCallAt(s, ms('2026-04-01T08:00:00Z'))).toEqual(['dee']); // business hours: dee's layer
    expect(onCallAt(s, ms('2026-04-01T22:00:00Z'))).toEqual(['ana']);
  });

  it('overlapping overrides: each applies to what the earlier left; the later has the last word', () => {
    const s = scheduleFrom(
      LAYERED(
        'add',
        `    overrides:
      - { replace: ana, with: eli, start: '2026-04-04T00:00', end: '2026-04-06T00:00' }
      - { replace: ana, with: fay, start: '2026-04-05T00:00', end: '2026-04-07T00:00' }
      - { add: gus, start: '2026-04-05T12:00', end: '2026-04-05T13:00' }
      - { remove: gus, start: '2026-04-05T12:30', end: '2026-04-05T14:00' }
`,
      ),
      'app',
    );
    const at = (local: string) => onCallAt(s, ms(`${local}+02:00`));
    expect(at('2026-04-04T12:00')).toEqual(['eli']);
    expect(at('2026-04-05T10:00')).toEqual(['fay']); // both running: the later wins
    expect(at('2026-04-05T12:10')).toEqual(['fay', 'gus']);
    expect(at('2026-04-05T12:40')).toEqual(['fay']); // removed by the later override
    expect(at('2026-04-06T08:00')).toEqual(['fay']); // only the second runs
    expect(at('2026-04-06T10:00')).toEqual(['ben', 'dee']); // Monday 09:00: ben's week, dee's hours
    expect(at('2026-04-07T10:00')).toEqual(['ben', 'dee']);
  });

  it('a layer-scoped override touches only that layer', () => {
    const s = scheduleFrom(
      LAYERED(
        'replace',
        `    overrides:
      - { remove: dee, layer: business-hours, start: '2026-04-01T00:00', end: '2026-04-02T00:00' }
`,
      ),
      'app',
    );
    // dee's layer is empty that day, so `replace` does not hide the rotation.
    expect(onCallAt(s, ms('2026-04-01T08:00:00Z'))).toEqual(['ana']);
    expect(onCallAt(s, ms('2026-04-02T08:00:00Z'))).toEqual(['dee']);
  });
});

describe('coverage gaps', () => {
  const PAIRS = (overrides = '') => `schedules:
  prod-monitoring:
    timezone: America/New_York
    min_coverage: 2
    layers:
      - name: pairs
        rotation: { members: [[dee, eli], [fay, gus], [hal, ivy]], handoff: { cron: '0 10 * * MON' }, start: '2026-01-05T10:00' }
${overrides}`;

  it('a full rotation of pairs has no gap', () => {
    const s = scheduleFrom(PAIRS(), 'prod-monitoring');
    expect(gaps(s, ms('2026-03-01T00:00:00Z'), ms('2026-03-15T00:00:00Z'))).toEqual([]);
  });

  it('ivy removed by an override: exactly that interval, required 2, on call hal', () => {
    const s = scheduleFrom(
      PAIRS(`    overrides:
      - { remove: ivy, start: '2026-01-20T08:00', end: '2026-01-21T20:00' }
`),
      'prod-monitoring',
    );
    // 2026-01-19 starts week 2 → [hal, ivy].
    expect(gaps(s, ms('2026-01-12T00:00:00Z'), ms('2026-01-26T00:00:00Z'))).toEqual([
      {
        startMs: ms('2026-01-20T13:00:00Z'),
        endMs: ms('2026-01-22T01:00:00Z'),
        required: 2,
        fewest: 1,
        onCall: ['hal'],
      },
    ]);
  });

  it('gaps are clipped to the range asked, and a hole under a minute between two is merged', () => {
    const s = scheduleFrom(
      PAIRS(`    overrides:
      - { remove: ivy, start: '2026-01-20T08:00', end: '2026-01-20T09:00' }
      - { remove: hal, start: '2026-01-20T09:00:30', end: '2026-01-20T10:00' }
`),
      'prod-monitoring',
    );
    const found = gaps(s, ms('2026-01-20T13:30:00Z'), ms('2026-01-21T00:00:00Z'));
    expect(found.map((g) => [iso(g.startMs), iso(g.endMs), g.fewest, g.onCall])).toEqual([
      ['2026-01-20T13:30:00.000Z', '2026-01-20T15:00:00.000Z', 1, []],
    ]);
  });

  it('an empty turn ([]) is a gap for as long as the turn lasts', () => {
    const s = scheduleFrom(
      `schedules:
  thin:
    timezone: UTC
    layers: [{ name: l, rotation: { members: [ana, [], ben], every: 1d, start: '2026-05-01' } }]
`,
      'thin',
    );
    expect(onCallAt(s, ms('2026-05-02T12:00:00Z'))).toEqual([]);
    expect(
      gaps(s, ms('2026-05-01T00:00:00Z'), ms('2026-05-07T00:00:00Z')).map((g) => [
        iso(g.startMs),
        iso(g.endMs),
      ]),
    ).toEqual([
      ['2026-05-02T00:00:00.000Z', '2026-05-03T00:00:00.000Z'],
      ['2026-05-05T00:00:00.000Z', '2026-05-06T00:00:00.000Z'],
    ]);
  });

  it('a business-hours-only schedule has gaps every night, and none inside coverage_during', () => {
    const yaml = (during: string) => `schedules:
  office:
    timezone: America/New_York
    ${during}
    layers:
      - name: l
        rotation: { members: [ana], every: 1w, start: '2026-01-05T00:00' }
        restrict: [{ weekdays: ['monday:friday'], times: [{ start_time: '09:00', end_time: '17:00' }] }]
`;
    const extra = `time_windows:
  office_hours: [{ weekdays: ['monday:friday'], times: [{ start_time: '09:00', end_time: '17:00' }], location: America/New_York }]
conditions:
  uses-window: { all: [{ fact: now, operator: within, value: office_hours }] }
`;
    const plain = scheduleFrom(yaml(''), 'office', extra);
    const day = gaps(plain, ms('2026-03-09T00:00:00Z'), ms('2026-03-10T00:00:00Z'));
    expect(day.map((g) => [iso(g.startMs), iso(g.endMs)])).toEqual([
      ['2026-03-09T00:00:00.000Z', '2026-03-09T13:00:00.000Z'],
      ['2026-03-09T21:00:00.000Z', '2026-03-10T00:00:00.000Z'],
    ]);
    expect(plain.coverageDuring).toBeNull();
    const policy = policyWith(yaml('coverage_during: office_hours'), extra);
    const during = policy.schedules.get('office');
    if (during === undefined) throw new Error('no schedule');
    expect(scheduleGaps(policy, during, ms('2026-03-09T00:00:00Z'), ms('2026-03-16T00:00:00Z'))).toEqual([]);
    // Without its Tuesday, the office schedule is short exactly in Tuesday's office hours.
    const away = policyWith(
      yaml(`coverage_during: office_hours
    overrides: [{ remove: ana, start: '2026-03-10T00:00', end: '2026-03-11T00:00' }]`),
      extra,
    );
    const short = scheduleGaps(
      away,
      away.schedules.get('office') as never,
      ms('2026-03-09T00:00:00Z'),
      ms('2026-03-16T00:00:00Z'),
    );
    expect(short.map((g) => [iso(g.startMs), iso(g.endMs)])).toEqual([
      ['2026-03-10T13:00:00.000Z', '2026-03-10T21:00:00.000Z'],
    ]);
  });
});
