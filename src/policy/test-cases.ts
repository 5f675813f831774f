// Policy test cases (docs/policy-language.md, "Test cases"): YAML files of {name, event | alert, at,
// expect}. Each case runs through the same `decide` as live traffic; every expected field is compared,
// including time windows (through `at`) and suppression, like `amtool config routes test` but wider.
import { LineCounter, parseDocument, isMap, isSeq, visit, type Node } from 'yaml';
import type { Decision } from '../domain/decision.js';
import { alertToInput, eventToInput, type PipelineInput } from '../domain/log-event.js';
import { validateAlert, validateEvent } from '../ingest/validate.js';
import type { CompiledPolicy } from './compile.js';
import { coverageInput } from '../oncall/coverage.js';
import { decide, NO_INCIDENTS } from './decide.js';
import { COMPLEX_KEY, isComplexKey } from './load/yaml.js';

export interface PolicyTestCase {
  name: string;
  location: string;
  input: PipelineInput;
  atMs: number;
  expect: Record<string, unknown>;
  /** A `coverage_gap: <schedule>` case: the schedule, which the policy must have. */
  schedule?: string;
}

export interface CaseResult {
  testCase: PolicyTestCase;
  mismatches: string[];
  decision: Decision;
}

/** What a case may expect, and how each is read off a decision. */
const EXPECTATIONS: Readonly<Record<string, (d: Decision) => unknown>> = {
  severity: (d) => d.severity,
  route: (d) => d.route?.name ?? null,
  providers: (d) => [...new Set(d.routes.flatMap((r) => r.providers))],
  suppressed: (d) => d.suppressed,
  suppressed_by: (d) => d.suppressed_by?.rule ?? null,
  fingerprint: (d) => d.fingerprint,
  paged: (d) => d.paged,
  recorded: (d) => d.recorded,
  classification: (d) => d.classification.rule,
  upgrades: (d) => d.upgrades.map((u) => u.rule),
  title: (d) => d.title,
  team: (d) => d.team,
  criticality: (d) => d.criticality,
  resolves: (d) => d.resolves,
  mode: (d) => d.route?.mode ?? null,
  /** The escalation policy of the incident it would open (the first route that names one), or null. */
  escalation: (d) => d.routes.find((r) => r.escalation !== undefined)?.escalation ?? null,
};
const CASE_KEYS = new Set(['name', 'event', 'alert', 'coverage_gap', 'at', 'expect']);
const INPUTS = ['event', 'alert', 'coverage_gap'];

/** Parse one test file. Problems come back as `file:line:col message`, all of them. */
export function parseTestCases(file: string, text: string): { cases: PolicyTestCase[]; problems: string[] } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  const where = (node: Node | null | undefined): string => {
    const pos = node?.range ? lc.linePos(node.range[0]) : { line: 1, col: 1 };
    return `${file}:${pos.line}:${pos.col}`;
  };
  const problems = doc.errors.map(
    (e) => `${file}:${e.linePos?.[0].line ?? 1}:${e.linePos?.[0].col ?? 1} ${e.message}`,
  );
  // A key that is a list, a map or an alias means nothing here, and converting it would print a
  // process warning with no position (the policy's loader refuses it the same way).
  visit(doc, {
    Pair(_key, pair) {
      if (isComplexKey(pair.key)) problems.push(`${where(pair.key)} ${COMPLEX_KEY}`);
    },
  });
  if (problems.length > 0) return { cases: [], problems };
  const root = doc.contents;
  const list = isMap(root) ? root.get('cases', true) : root;
  if (!isSeq(list))
    return { cases: [], problems: [`${where(root)} expected a list of cases (or "cases:" with a list)`] };
  const cases: PolicyTestCase[] = [];
  list.items.forEach((item, i) => {
    const location = where(item as Node);
    const parsed = parseCase(doc.getIn(isMap(root) ? ['cases', i] : [i]) as never, `case ${i + 1}`, location);
    if (typeof parsed === 'string') problems.push(`${location} ${parsed}`);
    else cases.push(parsed);
  });
  return { cases, problems };
}

function parseCase(node: unknown, fallbackName: string, location: string): PolicyTestCase | string {
  const raw = (node as { toJSON?: () => unknown })?.toJSON?.() as Record<string, unknown> | undefined;
  if (raw === undefined || raw === null || typeof raw !== 'object' || Array.isArray(raw))
    return 'a case must be a map';
  const unknown = Object.keys(raw).filter((k) => !CASE_KEYS.has(k));
  if (unknown.length > 0)
    return `unknown key(s) ${unknown.map((k) => `"${k}"`).join(', ')} (allowed: ${[...CASE_KEYS].join(', ')})`;
  const name = typeof raw['name'] === 'string' ? raw['name'] : fallbackName;
  const expect = raw['expect'];
  if (expect === null || typeof expect !== 'object' || Array.isArray(expect))
    return `"${name}": "expect" must be a map`;
  const badExpect = Object.keys(expect).filter((k) => !(k in EXPECTATIONS));
  if (badExpect.length > 0)
    return `"${name}": cannot expect ${badExpect.join(', ')} (allowed: ${Object.keys(EXPECTATIONS).join(', ')})`;
  if (INPUTS.filter((k) => k in raw).length !== 1)
    return `"${name}": give exactly one of "event", "alert" or "coverage_gap"`;
  const atText = raw['at'] ?? (raw['event'] as { timestamp?: unknown } | undefined)?.timestamp;
  const atMs = typeof atText === 'string' ? Date.parse(atText) : NaN;
  if (Number.isNaN(atMs))
    return `"${name}": "at" must be an RFC 3339 time (it defaults to the event's timestamp)`;
  let input: PipelineInput;
  if ('coverage_gap' in raw) {
    // The alert a one-hour gap from `at` raises (docs/policy-language.md, "Coverage gaps").
    const schedule = raw['coverage_gap'];
    if (typeof schedule !== 'string' || !('at' in raw))
      return `"${name}": coverage_gap names a schedule, and the case needs "at"`;
    const gap = { start: new Date(atMs).toISOString(), end: new Date(atMs + 3_600_000).toISOString() };
    const report = {
      schedule,
      from: gap.start,
      to: gap.end,
      required: 1,
      gaps: [{ ...gap, required: 1, fewest: 0, on_call: [] }],
    };
    return {
      name,
      location,
      input: coverageInput(report, 'high', atMs),
      atMs,
      expect: expect as Record<string, unknown>,
      schedule,
    };
  }
  if ('event' in raw) {
    const v = validateEvent(raw['event']);
    if (!v.ok) return `"${name}": invalid event: ${v.errors.join('; ')}`;
    input = eventToInput(v.value);
  } else {
    const v = validateAlert(raw['alert']);
    if (!v.ok) return `"${name}": invalid alert: ${v.errors.join('; ')}`;
    input = alertToInput(v.value, new Date(atMs));
  }
  return { name, location, input, atMs, expect: expect as Record<string, unknown> };
}

export async function runTestCase(testCase: PolicyTestCase, policy: CompiledPolicy): Promise<CaseResult> {
  const input =
    testCase.schedule === undefined ? testCase.input : withCoverageSeverity(testCase.input, policy);
  const decision = await decide(input, policy, testCase.atMs, NO_INCIDENTS);
  const mismatches: string[] = [];
  if (testCase.schedule !== undefined && !policy.schedules.has(testCase.schedule))
    mismatches.push(`coverage_gap: the policy has no schedule "${testCase.schedule}"`);
  for (const [key, expected] of Object.entries(testCase.expect)) {
    const actual = (EXPECTATIONS[key] as (d: Decision) => unknown)(decision);
    if (JSON.stringify(actual) !== JSON.stringify(expected ?? null)) {
      mismatches.push(`${key}: expected ${JSON.stringify(expected ?? null)}, got ${JSON.stringify(actual)}`);
    }
  }
  return { testCase, mismatches, decision };
}

/** A coverage case's alert has the severity the policy's `settings.coverage_check` gives it. */
function withCoverageSeverity(input: PipelineInput, policy: CompiledPolicy): PipelineInput {
  const severity = policy.settings.coverage_check.severity;
  return input.builtIn === undefined
    ? input
    : { ...input, initialSeverity: severity, builtIn: { ...input.builtIn, severity } };
}
