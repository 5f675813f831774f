// Two versions of the shipped policy for diff tests: one threshold, one time window and one route
// changed (and, separately, one fingerprint), written the way a pull request would change them.
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readPolicyDir, type PolicySource } from '../../src/policy/load.js';
import { ruleLocations } from '../../src/diff/locations.js';
import type { DiffSide } from '../../src/diff/diff.js';
import { compileSources, SHIPPED_POLICY_DIR } from '../helpers/policy.js';

/** [file, from, to]: each must occur exactly once in the shipped file. */
export type Edit = [file: string, from: string, to: string];

export const THRESHOLD: Edit = [
  'classify.yaml',
  "'disk usage at (9[5-9]|100)%'",
  "'disk usage at (9[7-9]|100)%'",
];
// Sundays 02:00-04:00 UTC becomes 02:00-03:00 UTC.
export const WINDOW: Edit = ['time-windows.yaml', 'duration: 2h # ... for two hours', 'duration: 1h'];
export const ROUTE: Edit = [
  'paging.yaml',
  `        - { condition: off-hours }
    deliver: { mode: failover, providers: [opsgenie, pagerduty] }`,
  `        - { condition: off-hours }
    deliver: { mode: failover, providers: [opsgenie] }`,
];
export const FINGERPRINT: Edit = [
  'classify.yaml',
  "fingerprint: '{service}:db-connection'",
  "fingerprint: '{service}:db-conn'",
];

export async function sourcesWith(edits: readonly Edit[]): Promise<PolicySource[]> {
  const sources = (await readPolicyDir(SHIPPED_POLICY_DIR)) as PolicySource[];
  return sources.map((s) => {
    let text = s.text;
    for (const [file, from, to] of edits) {
      if (file !== s.name) continue;
      if (text.split(from).length !== 2) throw new Error(`${file}: "${from}" must occur once`);
      text = text.replace(from, to);
    }
    return { name: s.name, text };
  });
}

export async function sideWith(edits: readonly Edit[]): Promise<DiffSide> {
  const active = compileSources(await sourcesWith(edits));
  return { policy: active.compiled, locations: ruleLocations(active.loaded) };
}

/** A copy of the shipped policy directory with `edits` applied (CLI tests). */
export async function policyDirWith(dir: string, edits: readonly Edit[]): Promise<string> {
  await cp(SHIPPED_POLICY_DIR, dir, { recursive: true });
  for (const [file, from, to] of edits) {
    const path = join(dir, file);
    await writeFile(path, (await readFile(path, 'utf8')).replace(from, to));
  }
  return dir;
}
