import { fileURLToPath } from 'node:url';
import { preparePolicy, type ActivePolicy } from '../../src/policy/active.js';
import { readPolicyDir, type PolicySource } from '../../src/policy/load.js';

export const SHIPPED_POLICY_DIR = fileURLToPath(new URL('../../policies', import.meta.url));

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

export async function shippedPolicy(env: Record<string, string> = {}): Promise<ActivePolicy> {
  const sources = await readPolicyDir(SHIPPED_POLICY_DIR);
  if (!Array.isArray(sources) || sources.some((s) => !('text' in s)))
    throw new Error(`cannot read ${SHIPPED_POLICY_DIR}`);
  return compileSources(sources as PolicySource[], env);
}
