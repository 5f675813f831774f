// `coverage_gap: <schedule>` policy test cases (docs/policy-language.md, "Test cases").
import { describe, expect, it } from 'vitest';
import { parseTestCases, runTestCase } from '../../src/policy/test-cases.js';
import { policyWith } from './helpers.js';

const POLICY = policyWith(
  `schedules:
  s: { layers: [{ name: l, rotation: { members: [ana], every: 1w, start: '2026-01-05' } }] }
settings: { coverage_check: { severity: critical } }
`,
);

describe('coverage_gap test cases', () => {
  it('decide the alert a gap on the schedule raises, with the policy severity', async () => {
    const { cases, problems } = parseTestCases(
      'tests/c.yaml',
      `- name: routed
  coverage_gap: s
  at: 2026-11-24T15:00:00Z
  expect: { classification: coverage_gap, fingerprint: 'coverage_gap:s', severity: critical, route: default }
`,
    );
    expect(problems).toEqual([]);
    const [result] = await Promise.all(cases.map((c) => runTestCase(c, POLICY)));
    expect(result?.mismatches).toEqual([]);
    expect(result?.decision.title).toBe(
      'Coverage gap on schedule s: fewer than 1 on call from 2026-11-24T15:00:00.000Z to 2026-11-24T16:00:00.000Z',
    );
  });

  it('an unknown schedule is a mismatch; no at, or two inputs, is a problem', async () => {
    const unknown = parseTestCases(
      'tests/c.yaml',
      `- { name: u, coverage_gap: nope, at: 2026-11-24T15:00:00Z, expect: {} }\n`,
    );
    expect((await runTestCase(unknown.cases[0]!, POLICY)).mismatches).toEqual([
      'coverage_gap: the policy has no schedule "nope"',
    ]);
    const bad = parseTestCases(
      'tests/c.yaml',
      `- { name: a, coverage_gap: s, expect: {}, event: { timestamp: 2026-11-24T15:00:00Z, service: x, level: error, message: m } }
- { name: b, coverage_gap: s, expect: {} }
`,
    );
    expect(bad.problems).toEqual([
      'tests/c.yaml:1:3 "a": give exactly one of "event", "alert" or "coverage_gap"',
      'tests/c.yaml:2:3 "b": "at" must be an RFC 3339 time (it defaults to the event\'s timestamp)',
    ]);
  });
});

describe('test case files', () => {
  it('refuse a key that is a list, a map or an alias, at its place and without a process warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const { cases, problems } = parseTestCases(
        'tests/k.yaml',
        `- name: k
  ? [a, b]
  : x
  coverage_gap: s
  at: 2026-11-24T15:00:00Z
  expect: {}
`,
      );
      expect(cases).toEqual([]);
      expect(problems).toEqual([
        'tests/k.yaml:2:5 a key must be a plain name, not a list, a map or an alias',
      ]);
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });
});
