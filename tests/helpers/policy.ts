import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { preparePolicy, type ActivePolicy } from '../../src/policy/active.js';
import { readPolicyDir, type PolicySource } from '../../src/policy/load.js';

export const SHIPPED_POLICY_DIR = fileURLToPath(new URL('../../policies', import.meta.url));

/**
 * The shipped policy records database errors without paging on Sundays 02:00–04:00 UTC, its
 * maintenance window (docs/policy-language.md, "Time windows"). Tests that run a sidecar on the
 * wall clock page with database errors, and failed in those two hours every week: the copies they
 * run leave that suppression out. Throws when the shipped policy no longer has it.
 */
export function noMaintenanceWindow(paging: string): string {
  const edited = paging.replace(/\n {2}- name: db-maintenance\n(?: {4}.*\n)+/, '\n');
  if (edited === paging) throw new Error('paging.yaml: the db-maintenance suppression was not found');
  return edited;
}

/**
 * The shipped policy copied to `dir`, as a sidecar running on the wall clock should use it (or as
 * shipped, with `maintenanceWindow`).
 */
export async function copyShippedPolicy(dir: string, { maintenanceWindow = false } = {}): Promise<void> {
  await cp(SHIPPED_POLICY_DIR, dir, { recursive: true });
  if (maintenanceWindow) return;
  const paging = join(dir, 'paging.yaml');
  await writeFile(paging, noMaintenanceWindow(await readFile(paging, 'utf8')));
}

/** Load and compile policy sources, failing the test with every problem if they are invalid. */
export function compileSources(
  sources: readonly PolicySource[],
  env: Record<string, string> = {},
): ActivePolicy {
  const prepared = preparePolicy(sources, { env, sandbox: true }, new Date('2026-11-23T00:00:00Z'));
  if (!prepared.ok)
    throw new Error(
      `policy invalid:\n${prepared.problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.message}`).join('\n')}`,
    );
  return prepared.policy;
}

/** The policy in `dir` compiled (by default the shipped one). */
export async function shippedPolicy(
  env: Record<string, string> = {},
  dir = SHIPPED_POLICY_DIR,
): Promise<ActivePolicy> {
  const sources = await readPolicyDir(dir);
  if (!Array.isArray(sources) || sources.some((s) => !('text' in s))) throw new Error(`cannot read ${dir}`);
  return compileSources(sources as PolicySource[], env);
}
