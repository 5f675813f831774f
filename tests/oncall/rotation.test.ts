// Rotations across the 2026 DST changes (docs/policy-language.md, "Hand-offs across DST").
import { describe, expect, it } from 'vitest';
import { onCallAt } from '../../src/oncall/index.js';
import { timeline } from '../../src/oncall/timeline.js';
import { iso, ms, scheduleFrom } from './helpers.js';

const HOUR = 3_600_000;

function weekly(zone: string, start: string) {
  return scheduleFrom(
    `schedules:
  weekly:
    timezone: ${zone}
    layers: [{ name: primary, rotation: { members: [ana, ben, cy], every: 1w, start: '${start}' } }]
`,
    'weekly',
  );
}

/** Hand-off instants in [from, to) as ISO texts. */
function handoffs(schedule: ReturnType<typeof weekly>, from: string, to: string): string[] {
  return timeline(schedule, ms(from), ms(to))
    .slice(1)
    .map((s) => iso(s.startMs));
}

describe('weekly rotation across DST', () => {
  it('America/New_York: 167 h across 2026-03-08, 169 h across 2026-11-01, hand-off stays at 09:00 local', () => {
    const s = weekly('America/New_York', '2026-01-05T09:00');
    expect(handoffs(s, '2026-03-01T00:00:00Z', '2026-03-17T00:00:00Z')).toEqual([
      '2026-03-02T14:00:00.000Z', // 09:00 EST
      '2026-03-09T13:00:00.000Z', // 09:00 EDT
      '2026-03-16T13:00:00.000Z',
    ]);
    expect(ms('2026-03-09T13:00:00Z') - ms('2026-03-02T14:00:00Z')).toBe(167 * HOUR);
    expect(handoffs(s, '2026-10-25T00:00:00Z', '2026-11-10T00:00:00Z')).toEqual([
      '2026-10-26T13:00:00.000Z',
      '2026-11-02T14:00:00.000Z',
      '2026-11-09T14:00:00.000Z',
    ]);
    expect(ms('2026-11-02T14:00:00Z') - ms('2026-10-26T13:00:00Z')).toBe(169 * HOUR);
  });

  it('America/New_York: who is on call just before and at each hand-off', () => {
    const s = weekly('America/New_York', '2026-01-05T09:00');
    // 2026-01-05 ana, 01-12 ben, … week n (from 01-05) is members[n % 3]; 03-02 is week 8 → cy.
    expect(onCallAt(s, ms('2026-03-09T12:59:59.999Z'))).toEqual(['cy']);
    expect(onCallAt(s, ms('2026-03-09T13:00:00Z'))).toEqual(['ana']);
    expect(onCallAt(s, ms('2026-11-02T13:59:59.999Z'))).toEqual(onCallAt(s, ms('2026-10-27T00:00:00Z')));
    expect(onCallAt(s, ms('2026-11-02T14:00:00Z'))).not.toEqual(onCallAt(s, ms('2026-11-02T13:59:00Z')));
  });

  it('Europe/Berlin: 167 h across 2026-03-29 and 169 h across 2026-10-25', () => {
    const s = weekly('Europe/Berlin', '2026-03-23T09:00');
    expect(handoffs(s, '2026-03-23T00:00:00Z', '2026-04-01T00:00:00Z')).toEqual([
      '2026-03-23T08:00:00.000Z', // 09:00 CET
      '2026-03-30T07:00:00.000Z', // 09:00 CEST
    ]);
    expect(ms('2026-03-30T07:00:00Z') - ms('2026-03-23T08:00:00Z')).toBe(167 * HOUR);
    const t = handoffs(s, '2026-10-19T00:00:00Z', '2026-10-27T00:00:00Z');
    expect(t).toEqual(['2026-10-19T07:00:00.000Z', '2026-10-26T08:00:00.000Z']);
    expect(ms(t[1] as string) - ms(t[0] as string)).toBe(169 * HOUR);
  });

  it('before its start a layer has nobody', () => {
    const s = weekly('Europe/Berlin', '2026-03-23T09:00');
    expect(onCallAt(s, ms('2026-03-23T07:59:59Z'))).toEqual([]);
    expect(onCallAt(s, ms('2026-03-23T08:00:00Z'))).toEqual(['ana']);
  });

  it('one schedule asked in any order answers as a fresh one asked once (the turn it keeps)', () => {
    const shared = weekly('America/New_York', '2026-01-05T09:00');
    // Around both 2026 changes and their hand-offs, to the millisecond, forwards then backwards,
    // then jumping about: each answer must not depend on the previous question.
    const edges = ['2026-03-09T13:00:00Z', '2026-11-02T14:00:00Z', '2026-03-02T14:00:00Z'].map(ms);
    const instants = edges.flatMap((t) => [t - 1, t, t + 1, t - HOUR, t + HOUR, t + 3 * 24 * HOUR]);
    const order = [...instants, ...[...instants].reverse(), ...instants.filter((_, i) => i % 3 === 0)];
    for (const at of order)
      expect(onCallAt(shared, at), iso(at)).toEqual(
        onCallAt(weekly('America/New_York', '2026-01-05T09:00'), at),
      );
  });
});

describe('daily hand-offs at a time the zone skips or repeats', () => {
  const daily = (zone: string, start: string, every = '1d') =>
    scheduleFrom(
      `schedules:
  daily:
    timezone: ${zone}
    layers: [{ name: l, rotation: { members: [ana, ben], every: ${every}, start: '${start}' } }]
`,
      'daily',
    );

  it('Europe/Berlin 02:30: 2026-03-29 hands off at the transition, 03:00+02:00, then 03-30 02:30 again', () => {
    const s = daily('Europe/Berlin', '2026-03-27T02:30');
    expect(handoffs(s, '2026-03-27T12:00:00Z', '2026-03-31T00:00:00Z')).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30+01:00
      '2026-03-29T01:00:00.000Z', // 03:00+02:00: 02:30 does not exist that day
      '2026-03-30T00:30:00.000Z', // 02:30+02:00
    ]);
  });

  it('Europe/Berlin 02:30 on 2026-10-25 hands off at the first 02:30 (+02:00)', () => {
    const s = daily('Europe/Berlin', '2026-10-23T02:30');
    expect(handoffs(s, '2026-10-24T12:00:00Z', '2026-10-26T12:00:00Z')).toEqual([
      '2026-10-25T00:30:00.000Z', // 02:30+02:00, the first of two
      '2026-10-26T01:30:00.000Z', // 02:30+01:00
    ]);
  });

  it('America/New_York 02:30: 2026-03-08 at 03:00 EDT; 2026-11-01 at the first 01:30', () => {
    const s = daily('America/New_York', '2026-03-06T02:30');
    expect(handoffs(s, '2026-03-07T12:00:00Z', '2026-03-09T12:00:00Z')).toEqual([
      '2026-03-08T07:00:00.000Z', // 03:00 EDT
      '2026-03-09T06:30:00.000Z', // 02:30 EDT
    ]);
    const t = daily('America/New_York', '2026-10-30T01:30');
    expect(handoffs(t, '2026-10-31T12:00:00Z', '2026-11-02T12:00:00Z')).toEqual([
      '2026-11-01T05:30:00.000Z', // 01:30 EDT, the first of two
      '2026-11-02T06:30:00.000Z', // 01:30 EST
    ]);
  });

  it('12h rotations follow the wall clock: 11 h and 13 h turns on the change days', () => {
    const s = daily('Europe/Berlin', '2026-03-28T00:00', '12h');
    const t = handoffs(s, '2026-03-28T12:00:00Z', '2026-03-30T00:00:00Z').map(ms);
    expect(t.map(iso)).toEqual([
      '2026-03-28T23:00:00.000Z', // 03-29 00:00+01:00
      '2026-03-29T10:00:00.000Z', // 12:00+02:00: 11 h later
      '2026-03-29T22:00:00.000Z', // 03-30 00:00+02:00
    ]);
  });
});

describe('cron hand-offs', () => {
  it('"0 10 * * MON" in America/New_York hands off Mondays 10:00 local across 2026-03-08', () => {
    const s = scheduleFrom(
      `schedules:
  pairs:
    timezone: America/New_York
    layers: [{ name: l, rotation: { members: [[ana, ben], [cy, dee]], handoff: { cron: '0 10 * * MON' }, start: '2026-01-05T10:00' } }]
`,
      'pairs',
    );
    expect(handoffs(s, '2026-03-01T00:00:00Z', '2026-03-17T00:00:00Z')).toEqual([
      '2026-03-02T15:00:00.000Z',
      '2026-03-09T14:00:00.000Z',
      '2026-03-16T14:00:00.000Z',
    ]);
    // 2026-01-05 [ana, ben], 01-12 [cy, dee], …: 03-09 is 9 weeks on → [cy, dee].
    expect(onCallAt(s, ms('2026-03-09T14:00:00Z'))).toEqual(['cy', 'dee']);
    expect(onCallAt(s, ms('2026-03-09T13:59:00Z'))).toEqual(['ana', 'ben']);
  });

  it('a cron at a skipped time hands off at the transition instant', () => {
    const s = scheduleFrom(
      `schedules:
  c:
    timezone: Europe/Berlin
    layers: [{ name: l, rotation: { members: [ana, ben], handoff: { cron: '30 2 * * *' }, start: '2026-03-27T12:00' } }]
`,
      'c',
    );
    expect(handoffs(s, '2026-03-28T00:00:00Z', '2026-03-31T00:00:00Z')).toEqual([
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
  });
});
