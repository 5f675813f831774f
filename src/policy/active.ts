// Turning policy sources into a usable policy: load (parse, validate, merge) then compile. Shared
// by the running service, the dry-run endpoint's candidate policies and the CLI.
import type { PolicyProblem } from '../errors.js';
import { compilePolicy, type CompiledPolicy } from './compile.js';
import {
  loadPolicy,
  loadPolicyAsync,
  type LoadedPolicy,
  type LoadOptions,
  type LoadResult,
  type PolicySource,
} from './load.js';
import type { Verdicts } from './redos.js';

/** A policy ready to decide with, and what is known about where it came from. */
export interface ActivePolicy {
  compiled: CompiledPolicy;
  loaded: LoadedPolicy;
  loadedAt: string;
}

export type PreparedPolicy =
  { ok: true; policy: ActivePolicy } | { ok: false; problems: PolicyProblem[]; warnings: string[] };

/** Load and compile, blocking while new patterns are checked: the command line and tests. */
export function preparePolicy(
  sources: readonly PolicySource[],
  options: LoadOptions,
  now: Date,
): PreparedPolicy {
  return prepared(loadPolicy(sources, options), now);
}

/** Load and compile with the patterns checked off the event loop: the running sidecar. */
export async function preparePolicyAsync(
  sources: readonly PolicySource[],
  options: LoadOptions,
  now: Date,
  verdicts: (patterns: readonly string[]) => Promise<Verdicts>,
): Promise<PreparedPolicy> {
  return prepared(await loadPolicyAsync(sources, options, verdicts), now);
}

function prepared(result: LoadResult, now: Date): PreparedPolicy {
  if (!result.ok) return result;
  const compiled = compilePolicy(result.policy);
  return { ok: true, policy: { compiled, loaded: result.policy, loadedAt: now.toISOString() } };
}
