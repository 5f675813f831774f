// The `escalations:` section and the routes' `escalation:` in the loader: bad input refused with
// `file:line:col` (docs/policy-language.md, "Escalations").
import { describe, expect, it } from 'vitest';
import { BASE, file, load, problems, warnings } from '../fixtures/policies/load-fixtures.js';

const HEAD = 'apiVersion: incident-router/v1';
const PEOPLE = file(
  'people.yaml',
  HEAD,
  'people:',
  '  infra-lead: { opsgenie: { username: lead@example.com } }',
);

describe('loadPolicy - escalations', () => {
  it('loads tiers, targets, repeat and ack_timeout, and a route that names them', () => {
    const esc = file(
      'esc.yaml',
      HEAD,
      'escalations:',
      '  critical:',
      '    tiers:',
      '      - { after: 0m, targets: [{ opsgenie: { responders: [{ type: team, name: sre }] } }] }',
      '      - after: 15m',
      '        targets: [{ person: infra-lead }, { pagerduty: { routing_key: R0abcdefghijklmnopqrstuvwxyz9999 } }]',
      '        deliver: { mode: all, providers: [pagerduty, opsgenie] }',
      '    repeat: { times: 2, after: 10m }',
      '    ack_timeout: 4h',
      'routes:',
      '  - name: paged',
      '    when: { all: [{ fact: severity, operator: equal, value: critical }] }',
      '    deliver: { mode: failover, providers: [pagerduty, opsgenie] }',
      '    escalation: critical',
    );
    const policy = load([BASE, PEOPLE, esc]);
    expect(policy.document.escalations['critical']?.tiers).toHaveLength(2);
    expect(policy.secrets).toContain('R0abcdefghijklmnopqrstuvwxyz9999');
  });

  it('refuses tiers that do not start at 0m or do not strictly increase, each at its after', () => {
    const esc = file(
      'esc.yaml',
      HEAD,
      'escalations:',
      '  bad:',
      '    tiers:',
      '      - { after: 5m, targets: [{ person: infra-lead }] }',
      '      - { after: 0m, targets: [{ person: infra-lead }] }',
      '      - { after: -5m, targets: [{ person: infra-lead }] }',
      '      - { after: 10m, targets: [{ person: infra-lead }] }',
      '      - { after: 10m, targets: [{ person: infra-lead }] }',
      'routes:',
      '  - { name: r, when: { all: [{ fact: team, operator: equal, value: payments }] }, deliver: { mode: all, providers: [pagerduty] }, escalation: bad }',
    );
    expect(problems([BASE, PEOPLE, esc])).toEqual([
      'esc.yaml:5:18 escalation "bad", tier 1: the first tier must have "after: 0m" (it fires when the incident opens)',
      'esc.yaml:6:18 escalation "bad", tier 2: "after" must be longer than zero (only the first tier fires at 0m)',
      'esc.yaml:7:18 escalation "bad", tier 3: "after" must be longer than zero (only the first tier fires at 0m)',
      `esc.yaml:9:18 escalation "bad", tier 5: "after" must be later than tier 4's (times count from the trigger and strictly increase)`,
    ]);
  });

  it('refuses unknown escalations, people, schedules and providers, with a suggestion', () => {
    const esc = file(
      'esc.yaml',
      HEAD,
      'escalations:',
      '  critical:',
      '    tiers:',
      '      - { after: 0m, targets: [{ person: infra-leed }, { schedule: platform-sre }] }',
      '      - { after: 5m, targets: [{ person: infra-lead }], deliver: { mode: all, providers: [pagerdty] } }',
      'routes:',
      '  - { name: r, when: { all: [{ fact: team, operator: equal, value: payments }] }, deliver: { mode: all, providers: [pagerduty] }, escalation: critcal }',
    );
    expect(problems([BASE, PEOPLE, esc])).toEqual([
      'esc.yaml:5:42 escalation "critical", tier 1: unknown person "infra-leed" (did you mean "infra-lead"?)',
      'esc.yaml:5:68 escalation "critical", tier 1: unknown schedule "platform-sre"',
      'esc.yaml:6:91 escalation "critical", tier 2: unknown provider "pagerdty" (did you mean "pagerduty"?)',
      'esc.yaml:8:143 route "r": unknown escalation "critcal" (did you mean "critical"?)',
    ]);
  });

  it('refuses a target with two kinds at once and a malformed routing key', () => {
    const esc = file(
      'esc.yaml',
      HEAD,
      'escalations:',
      '  critical:',
      '    tiers:',
      '      - after: 0m',
      '        targets:',
      '          - { person: infra-lead, schedule: x }',
      '          - { pagerduty: { routing_key: short } }',
      'routes:',
      '  - { name: r, when: { all: [{ fact: team, operator: equal, value: payments }] }, deliver: { mode: all, providers: [pagerduty] }, escalation: critical }',
    );
    const found = problems([BASE, PEOPLE, esc]);
    expect(found).toContain(
      'esc.yaml:7:13 escalation "critical", tier 1: a target names exactly one of person, schedule, pagerduty, opsgenie, webhook, not person and schedule',
    );
    expect(found).toContain(
      'esc.yaml:8:41 escalation "critical", tier 1: routing_key must be a PagerDuty Events API v2 integration key of exactly 32 letters and digits; this one has 5 characters',
    );
  });

  it('warns about an escalation no route names', () => {
    const esc = file(
      'esc.yaml',
      HEAD,
      'escalations:',
      '  spare: { tiers: [{ after: 0m, targets: [{ person: infra-lead }] }] }',
    );
    expect(warnings([BASE, PEOPLE, esc])).toContain(
      'esc.yaml:3:3 escalation "spare" is never used by a route',
    );
  });
});
