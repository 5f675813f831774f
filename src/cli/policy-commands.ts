// `validate`, `test` and `dry-run`: the policy commands. They never send anything.
import { previewEscalation } from '../escalation/view.js';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { alertToInput, eventToInput, type PipelineInput } from '../domain/log-event.js';
import { formatProblem } from '../errors.js';
import { coverageWarnings } from '../oncall/coverage.js';
import { validateAlert, validateEvent } from '../ingest/validate.js';
import { preparePolicy, type ActivePolicy } from '../policy/active.js';
import { decide, NO_INCIDENTS } from '../policy/decide.js';
import { readPolicyDir } from '../policy/load.js';
import { parseTestCases, runTestCase } from '../policy/test-cases.js';
import { UsageError } from './args.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Load and compile a policy directory, printing every problem; null when invalid. */
export async function loadOrReport(dir: string, env: Env, sandbox: boolean): Promise<ActivePolicy | null> {
  const sources = await readPolicyDir(dir);
  const prepared =
    Array.isArray(sources) && sources.every((s) => 'text' in s)
      ? preparePolicy(sources as never, { env, sandbox }, new Date())
      : { ok: false as const, problems: sources as never[], warnings: [] };
  if (!prepared.ok) {
    console.error(`policy ${dir} is invalid:`);
    for (const p of prepared.problems) console.error(`  ${formatProblem(p)}`);
    return null;
  }
  for (const w of prepared.policy.loaded.warnings) console.error(`  warning: ${w}`);
  return prepared.policy;
}

export async function validateCommand(dir: string, env: Env, sandbox: boolean): Promise<number> {
  const policy = await loadOrReport(dir, env, sandbox);
  if (policy === null) return 1;
  const { loaded } = policy;
  for (const n of loaded.notes) console.log(`  note: ${n}`);
  // Coverage gaps within settings.coverage_check.horizon from now: warnings, never a failure.
  for (const w of coverageWarnings(policy.compiled, Date.now())) console.error(`  warning: ${w}`);
  console.log(
    `policy ${loaded.version} (${loaded.revision}) is valid: ${loaded.files.map((f) => f.name).join(', ')}`,
  );
  return 0;
}

export async function testCommand(dir: string, env: Env): Promise<number> {
  // Test cases never send anything, so provider keys may be unset, as in sandbox mode.
  const policy = await loadOrReport(dir, env, true);
  if (policy === null) return 1;
  const testsDir = join(dir, 'tests');
  let names: string[];
  try {
    names = (await readdir(testsDir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch {
    console.error(`no test cases: ${testsDir} does not exist`);
    return 1;
  }
  let passed = 0;
  let failed = 0;
  for (const name of names) {
    const { cases, problems } = parseTestCases(
      join('tests', name),
      await readFile(join(testsDir, name), 'utf8'),
    );
    for (const p of problems) console.error(`✗ ${p}`);
    failed += problems.length;
    for (const testCase of cases) {
      const result = await runTestCase(testCase, policy.compiled);
      if (result.mismatches.length === 0) {
        passed++;
        console.log(`✓ ${testCase.name}`);
      } else {
        failed++;
        console.log(`✗ ${testCase.name} (${testCase.location})`);
        for (const m of result.mismatches) console.log(`    ${m}`);
      }
    }
  }
  console.log(`\npolicy ${policy.loaded.version}: ${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

export async function dryRunCommand(options: {
  dir: string;
  file: string;
  at?: string;
  env: Env;
}): Promise<number> {
  const policy = await loadOrReport(options.dir, options.env, true);
  if (policy === null) return 1;
  let value: unknown;
  try {
    value = JSON.parse(await readFile(resolve(options.file), 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read ${options.file} as JSON: ${(err as Error).message}`);
  }
  const atMs = options.at === undefined ? Date.now() : Date.parse(options.at);
  if (Number.isNaN(atMs)) throw new UsageError(`--at ${options.at}: not an RFC 3339 time`);
  const input = toInput(value, new Date(atMs));
  const decision = await decide(input, policy.compiled, atMs, NO_INCIDENTS, { explain: true });
  const compiled = policy.compiled;
  const escalation = previewEscalation(decision, compiled, (p) => compiled.providers[p]?.type, atMs);
  console.log(JSON.stringify({ ...decision, ...(escalation === null ? {} : { escalation }) }, null, 2));
  return 0;
}

/** A file holds a log event, or the brief's alert shape (recognised by `service_name`). */
function toInput(value: unknown, at: Date): PipelineInput {
  const isAlert = value !== null && typeof value === 'object' && 'service_name' in value;
  if (isAlert) {
    const v = validateAlert(value);
    if (!v.ok) throw new UsageError(`invalid alert: ${v.errors.join('; ')}`);
    return alertToInput(v.value, at);
  }
  const v = validateEvent(value);
  if (!v.ok) throw new UsageError(`invalid event: ${v.errors.join('; ')}`);
  return eventToInput(v.value);
}
