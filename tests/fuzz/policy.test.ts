// Fuzzing the policy loader (issue 11): generated policies (valid ones built from parts that refer
// to each other, and mutations: wrong types, unknown keys, deep nesting, anchors and aliases, huge
// strings, `${NAME}` references, catastrophic and broken regexes, bad durations and time windows).
// loadPolicy never throws and answers a policy or problems each located `file:line:col message`;
// the running sidecar's /policy/validate (with the token) never answers 5xx, agrees with it, and
// never shows a secret.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventToInput } from '../../src/domain/log-event.js';
import { formatProblem } from '../../src/errors.js';
import { preparePolicy } from '../../src/policy/active.js';
import { decide, NO_INCIDENTS } from '../../src/policy/decide.js';
import { loadPolicy, readPolicyDir, type LoadResult, type PolicySource } from '../../src/policy/load.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { SHIPPED_POLICY_DIR } from '../helpers/policy.js';
import { stringify } from 'yaml';
import {
  anyText,
  extraPolicyFile,
  FUZZ_TEST_TIMEOUT_MS,
  fuzzParameters,
  LEVELS,
  member,
  objectText,
  PATTERNS,
  policyDocument,
  policySources,
  SERVICES,
  str,
  timestamp,
  type PolicySourceText,
} from './arbitraries.js';
import { API_TOKEN, AUTH, expectAlive, expectAnswer, send } from './support.js';

const SECRETS = {
  PAGERDUTY_WEBHOOK_SECRET: 'pd-fuzz-secret-0123456789',
  OPSGENIE_WEBHOOK_TOKEN: 'og-fuzz-token-0123456789',
};
const ENV = { PD_KEY: 'R0abcdefghijklmnopqrstuvwxyz1234', OG_KEY: 'og-key-for-fuzz', API_TOKEN };
const LOCATED = /^([^:\n]+):([0-9]+):([0-9]+) (\S[\s\S]*)$/;

let t: TestApp;
let shipped: PolicySource[];

beforeAll(async () => {
  t = await startTestApp({ API_TOKEN, ...SECRETS });
  shipped = (await readPolicyDir(SHIPPED_POLICY_DIR)) as PolicySource[];
  // Every pattern the generators use, checked once (the verdict cache is this process's).
  const warm = PATTERNS.map(
    (p, i) =>
      `  - name: w${i}\n    when: { all: [{ fact: message, operator: matches, value: ${JSON.stringify(p)} }] }\n    severity: low`,
  ).join('\n');
  loadPolicy([{ name: 'warm.yaml', text: `apiVersion: incident-router/v1\nclassify:\n${warm}\n` }], {
    env: {},
    sandbox: true,
  });
}, 60_000);

afterAll(async () => t?.stop());

/** The loader's answer, checked: a policy, or problems (and warnings) each located in a given file. */
function expectLocated(sources: readonly PolicySourceText[], result: LoadResult): void {
  const names = new Set([...sources.map((s) => s.name), '(policy)']);
  const lines = result.ok
    ? [...result.policy.warnings, ...result.policy.notes]
    : [...result.problems.map(formatProblem), ...result.warnings];
  if (!result.ok) {
    expect(result.problems.length).toBeGreaterThan(0);
    for (const p of result.problems) {
      expect(names.has(p.file), p.file).toBe(true);
      expect(Number.isInteger(p.line) && p.line >= 1, formatProblem(p)).toBe(true);
      expect(Number.isInteger(p.col) && p.col >= 1, formatProblem(p)).toBe(true);
      expect(p.message.trim(), formatProblem(p)).not.toBe('');
      // guarded() turns an exception inside the loader into this problem: a bug, not an answer.
      expect(p.message, formatProblem(p)).not.toMatch(/internal error/);
    }
  }
  for (const line of lines) {
    const m = LOCATED.exec(line);
    expect(m, line).not.toBeNull();
    expect(names.has(m![1]!), line).toBe(true);
    expect(Number(m![2])).toBeGreaterThanOrEqual(1);
    expect(Number(m![3])).toBeGreaterThanOrEqual(1);
  }
}

function load(
  sources: readonly PolicySourceText[],
  options: { candidate?: boolean; sandbox?: boolean } = {},
): LoadResult {
  let result: LoadResult | undefined;
  expect(() => {
    result = loadPolicy(sources, {
      env: options.candidate ? {} : ENV,
      sandbox: options.sandbox ?? true,
      ...options,
    });
  }).not.toThrow();
  return result!;
}

describe('fuzz: loadPolicy', () => {
  it(
    'answers every generated policy with a policy or located problems, never an exception',
    () => {
      fc.assert(
        fc.property(policySources, fc.boolean(), fc.boolean(), (sources, candidate, sandbox) => {
          expectLocated(sources, load(sources, { candidate, sandbox }));
        }),
        fuzzParameters(1.5),
      );
    },
    FUZZ_TEST_TIMEOUT_MS,
  );

  it(
    'the same for the shipped policy with one generated file more',
    () => {
      fc.assert(
        fc.property(extraPolicyFile, (extra) => {
          const sources = [...shipped, extra];
          expectLocated(sources, load(sources));
        }),
        fuzzParameters(1),
      );
    },
    FUZZ_TEST_TIMEOUT_MS,
  );
});

describe('fuzz: POST /api/v1/policy/validate', () => {
  /** One source per name (a JSON object cannot hold two), the last one kept as JSON.parse would. */
  const unique = (sources: readonly PolicySourceText[]): PolicySourceText[] => [
    ...new Map(sources.map((s) => [s.name, s])).values(),
  ];

  it(
    'never answers 5xx, agrees with loadPolicy, and shows no secret',
    async () => {
      await fc.assert(
        fc.asyncProperty(policySources.map(unique), async (sources) => {
          const body = `{"files":${objectText(sources.map((s) => member(s.name, str(s.text))))}}`;
          const answer = await send(t.url, 'POST', '/api/v1/policy/validate', {
            body,
            headers: { 'content-type': 'application/json', ...AUTH },
          });
          const res = expectAnswer(answer);
          await expectAlive(t.url);
          for (const secret of [API_TOKEN, ...Object.values(SECRETS)])
            expect(answer.text).not.toContain(secret);
          if (answer.status !== 200) return; // 4xx: e.g. too many new patterns, a bad file name
          // A candidate sees no environment; the simulators stand in for the providers (sandbox).
          const local = load(sources, { candidate: true, sandbox: true });
          expect({ valid: res.valid, errors: res.errors }).toEqual({
            valid: local.ok,
            errors: local.ok ? [] : local.problems.map(formatProblem),
          });
        }),
        fuzzParameters(0.5),
      );
    },
    FUZZ_TEST_TIMEOUT_MS,
  );
});

describe('fuzz: POST /api/v1/policy/dry-run with a generated policy', () => {
  const event = fc.record(
    {
      timestamp,
      service: fc.oneof(
        fc.constantFrom(...SERVICES),
        anyText(12).filter((x) => x.length > 0),
      ),
      level: fc.constantFrom(...LEVELS),
      message: fc.oneof(
        fc.constantFrom(
          'connection refused',
          'request timed out',
          'disk usage at 97%',
          'upstream 503',
          'plain text text',
        ),
        anyText(40),
      ),
      source: fc.constantFrom('database', 'cache', 'http'),
      host: anyText(12),
      attributes: fc.record(
        { a: fc.integer({ min: -5, max: 1_000 }), code: fc.integer({ min: 0, max: 600 }) },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: ['timestamp', 'service', 'level', 'message'] },
  );
  /** Instants across DST changes, leap days and the ends of the representable range. */
  const at = fc.oneof(
    fc.date({
      min: new Date('2000-01-01T00:00:00Z'),
      max: new Date('2100-12-31T23:59:59Z'),
      noInvalidDate: true,
    }),
    fc
      .constantFrom(
        '2026-03-08T06:59:59Z',
        '2026-03-08T07:00:00Z',
        '2026-11-01T05:59:59Z',
        '2026-11-01T06:00:00Z',
        '2028-02-29T12:00:00Z',
        '0001-01-01T00:00:00Z',
        '9999-12-31T23:59:59Z',
      )
      .map((d) => new Date(d)),
  );

  it(
    'answers the decision decide() makes here with the same policy',
    async () => {
      await fc.assert(
        fc.asyncProperty(policyDocument(false), event, at, async (doc, e, when) => {
          const text = stringify(doc, { lineWidth: 0 });
          const iso = when.toISOString();
          const answer = await send(t.url, 'POST', '/api/v1/policy/dry-run', {
            body: JSON.stringify({ event: e, at: iso, policy: { yaml: text } }),
            headers: { 'content-type': 'application/json', ...AUTH },
          });
          const res = expectAnswer(answer);
          await expectAlive(t.url);
          const local = preparePolicy(
            [{ name: 'candidate.yaml', text }],
            { env: {}, candidate: true, sandbox: true },
            when,
          );
          if (!local.ok) {
            expect(answer.status).toBe(422);
            return;
          }
          expect(answer.status, answer.text.slice(0, 500)).toBe(200);
          const decision = await decide(
            eventToInput(e),
            local.policy.compiled,
            when.getTime(),
            NO_INCIDENTS,
            {
              explain: true,
            },
          );
          expect(res).toEqual({ ...JSON.parse(JSON.stringify(decision)), candidate: true });
        }),
        fuzzParameters(0.5),
      );
    },
    FUZZ_TEST_TIMEOUT_MS,
  );
});
