// Bad schedules are refused by the loader, each problem at its `file:line:col`
// (docs/policy-language.md, "On-call schedules", "Errors and warnings").
import { describe, expect, it } from 'vitest';
import { BASE, file, load, problems, warnings } from '../fixtures/policies/load-fixtures.js';
import { redactPolicyDocument } from '../../src/policy/redact.js';

const HEAD = ['apiVersion: incident-router/v1', 'people:', '  ana: {}', '  ben: {}', 'schedules:'];

/** oncall.yaml: HEAD on lines 1-5, then `lines` from line 6. */
function oncall(...lines: string[]) {
  return file('oncall.yaml', ...HEAD, ...lines);
}

describe('loadPolicy - schedules refused with file:line:col', () => {
  it('a schedule with no members, a rotation with none', () => {
    expect(
      problems([
        BASE,
        oncall(
          '  empty:',
          '    layers:',
          '      - name: l',
          "        rotation: { members: [], every: 1w, start: '2026-01-05T09:00' }",
          '  nobody:',
          '    layers: []',
        ),
      ]),
    ).toEqual([
      'oncall.yaml:7:5 schedules.empty: schedule "empty" has no members: give a layer a rotation with at least one person',
      'oncall.yaml:9:30 schedules.empty.layers[0].rotation.members: a rotation needs at least one member',
      'oncall.yaml:11:13 schedules.nobody.layers: schedule "nobody" has no members: give a layer a rotation with at least one person',
    ]);
  });

  it('an override ending before it starts, an unknown person, an unknown zone, a zero length', () => {
    expect(
      problems([
        BASE,
        oncall(
          '  s:',
          '    timezone: Europe/Berln',
          "    layers: [{ name: l, rotation: { members: [ana, bne], every: 0d, start: '2026-01-05T09:00' } }]",
          '    overrides:',
          "      - { add: ben, start: '2026-02-02T10:00', end: '2026-02-02T09:00' }",
        ),
      ]),
    ).toEqual([
      'oncall.yaml:7:15 schedules.s.timezone: unknown time zone "Europe/Berln": use an IANA name such as America/New_York',
      'oncall.yaml:8:52 schedules.s.layers[0].rotation.members[1]: unknown person "bne" (did you mean "ben"?): define it under people',
      'oncall.yaml:8:65 schedules.s.layers[0].rotation.every: a rotation length must be longer than zero',
      'oncall.yaml:10:53 schedules.s.overrides[0].end: the override ends (2026-02-02T09:00) before it starts (2026-02-02T10:00)',
    ]);
  });

  it('a start the zone skips or repeats, without an offset; a rotation with both every and handoff', () => {
    expect(
      problems([
        BASE,
        oncall(
          '  s:',
          '    timezone: Europe/Berlin',
          '    layers:',
          "      - { name: a, rotation: { members: [ana], every: 1d, start: '2026-03-29T02:30' } }",
          "      - { name: b, rotation: { members: [ana], every: 1d, start: '2026-10-25T02:30' } }",
          "      - { name: c, rotation: { members: [ana], every: 1d, handoff: { cron: '0 9 * * *' }, start: '2026-01-01' } }",
          "      - { name: d, rotation: { members: [ana], handoff: { cron: '*/5 * * * *' }, start: '2026-01-01' } }",
          "      - { name: e, rotation: { members: [ana], every: 30m, start: '2026-01-01' } }",
          "      - { name: f, rotation: { members: [ana], handoff: { cron: '0,59 9 * * MON' }, start: '2026-01-01' } }",
          "      - { name: g, rotation: { members: [ana], handoff: { cron: '0 9 29 2 *' }, start: '2026-01-01' } }",
          "      - { name: h, rotation: { members: [ana], handoff: { cron: '59 9,10 * * MON' }, start: '2026-01-01' } }",
        ),
      ]),
    ).toEqual([
      'oncall.yaml:9:66 schedules.s.layers[0].rotation.start: "2026-03-29T02:30" does not exist in Europe/Berlin (the clocks skip it): choose another time or give an offset',
      'oncall.yaml:10:66 schedules.s.layers[1].rotation.start: "2026-10-25T02:30" happens twice in Europe/Berlin (the clocks go back): give an offset to say which',
      'oncall.yaml:11:30 schedules.s.layers[2].rotation: a rotation needs exactly one of every (a length such as 1w, 1d, 12h) or handoff: {cron: ...}',
      'oncall.yaml:12:65 schedules.s.layers[3].rotation.handoff.cron: cron "*/5 * * * *" hands off more than once an hour: a turn lasts at least an hour',
      'oncall.yaml:13:55 schedules.s.layers[4].rotation.every: a rotation length must be at least 1h; "30m" is shorter',
      'oncall.yaml:14:65 schedules.s.layers[5].rotation.handoff.cron: cron "0,59 9 * * MON" hands off more than once an hour: a turn lasts at least an hour',
      'oncall.yaml:15:65 schedules.s.layers[6].rotation.handoff.cron: cron "0 9 29 2 *" does not hand off within a year of the start',
    ]);
  });

  it('an override with no action or replace without with, an unknown layer, an unknown coverage window', () => {
    expect(
      problems([
        BASE,
        oncall(
          '  s:',
          '    coverage_during: office',
          "    layers: [{ name: l, rotation: { members: [ana], every: 1w, start: '2026-01-05' } }]",
          '    overrides:',
          "      - { start: '2026-02-02', end: '2026-02-03' }",
          "      - { replace: ana, start: '2026-02-02', end: '2026-02-03' }",
          "      - { add: ben, layer: other, start: '2026-02-02', end: '2026-02-03' }",
        ),
      ]),
    ).toEqual([
      'oncall.yaml:7:22 schedules.s.coverage_during: unknown time window "office"',
      'oncall.yaml:10:9 schedules.s.overrides[0]: an override needs exactly one of add, remove or replace (with with)',
      'oncall.yaml:11:9 schedules.s.overrides[1]: replace needs with: the person who takes over',
      'oncall.yaml:12:28 schedules.s.overrides[2].layer: unknown layer "other" in this schedule',
    ]);
  });

  it('settings.coverage_check durations must be longer than zero; unknown keys are refused', () => {
    const settings = file(
      'settings.yaml',
      'apiVersion: incident-router/v1',
      'settings:',
      '  coverage_check: { every: 0s, horizon: 7d, severity: high }',
      'schedules:',
      "  s: { layers: [{ name: l, rotation: { members: [ana], every: 1w, start: '2026-01-05' } }], minimum: 2 }",
      'people: { ana: {} }',
    );
    expect(problems([BASE, settings])).toEqual([
      'settings.yaml:3:28 settings.coverage_check.every: must be longer than zero',
      'settings.yaml:5:93 schedules.s: unknown key "minimum"',
    ]);
  });

  it('a valid schedule loads; the people and schedules sections are in the document', () => {
    const policy = load([
      BASE,
      oncall(
        "  s: { layers: [{ name: l, rotation: { members: [ana, [ana, ben]], every: 1w, start: '2026-01-05' } }] }",
      ),
    ]);
    expect(Object.keys(policy.document.schedules)).toEqual(['s']);
    expect(Object.keys(policy.document.people)).toEqual(['ana', 'ben']);
    expect(policy.document.settings.coverage_check).toEqual({ every: '6h', horizon: '7d', severity: 'high' });
  });

  it('PagerDuty keys of people and schedules: 32 letters and digits, never echoed; empty is none', () => {
    const bad = file(
      'oncall.yaml',
      'apiVersion: incident-router/v1',
      'people:',
      "  ana: { pagerduty: { routing_key: 'short-secret' } }",
      "  ben: { pagerduty: { routing_key: '' } }",
      'schedules:',
      '  s:',
      "    layers: [{ name: l, rotation: { members: [ana, ben], every: 1w, start: '2026-01-05' } }]",
      "    provider: { pagerduty: { routing_key: 'also-short' } }",
    );
    const found = problems([BASE, bad]);
    expect(found).toEqual([
      'oncall.yaml:3:36 person "ana": routing_key must be a PagerDuty Events API v2 integration key of exactly 32 letters and digits; this one has 12 characters',
      'oncall.yaml:8:43 schedule "s": routing_key must be a PagerDuty Events API v2 integration key of exactly 32 letters and digits; this one has 10 characters',
    ]);
    expect(found.join('\n')).not.toContain('short-secret');
  });

  it('keys are masked wherever the policy is shown, and listed for the log scrubber', () => {
    const key = 'K0abcdefghijklmnopqrstuvwxyz9876';
    const policy = load([
      BASE,
      file(
        'oncall.yaml',
        'apiVersion: incident-router/v1',
        `people: { ana: { pagerduty: { routing_key: ${key} } } }`,
        'schedules:',
        `  s: { layers: [{ name: l, rotation: { members: [ana], every: 1w, start: '2026-01-05' } }], provider: { pagerduty: { routing_key: ${key} } } }`,
      ),
    ]);
    expect(policy.secrets).toContain(key);
    const shown = redactPolicyDocument(policy.document);
    expect(JSON.stringify(shown)).not.toContain(key);
    expect(shown.people['ana']?.pagerduty?.routing_key).toBe('****9876');
    expect(shown.schedules['s']?.provider?.pagerduty?.routing_key).toBe('****9876');
  });

  it('warns when min_coverage asks for more people than the schedule names', () => {
    const sources = [
      BASE,
      oncall(
        "  s: { min_coverage: 3, layers: [{ name: l, rotation: { members: [ana, ben], every: 1w, start: '2026-01-05' } }] }",
      ),
    ];
    expect(warnings(sources)).toEqual(
      expect.arrayContaining([
        'oncall.yaml:6:22 schedule "s" requires 3 people on call but names only 2: it is short at every moment',
      ]),
    );
  });
});
