// Turning policy sources into a usable policy: load (parse, validate, merge) then compile. Shared
// by the running service, the dry-run endpoint's candidate policies and the CLI.
import type { PolicyProblem } from '../errors.js';
import { compilePolicy, type CompiledPolicy } from './compile.js';
import { loadPolicy, type LoadedPolicy, type LoadOptions, type PolicySource } from './load.js';

/** A policy ready to decide with, and what is known about where it came from. */
export interface ActivePolicy {
  compiled: CompiledPolicy;
  loaded: LoadedPolicy;
  loadedAt: string;
}

export type PreparedPolicy =
  { ok: true; policy: ActivePolicy } | { ok: false; problems: PolicyProblem[]; warnings: string[] };

export function preparePolicy(
  sources: readonly PolicySource[],
  options: LoadOptions,
  now: Date,
): PreparedPolicy {
  const result = loadPolicy(sources, options);
  if (!result.ok) return result;
  const compiled = compilePolicy(result.policy);
  return { ok: true, policy: { compiled, loaded: result.policy, loadedAt: now.toISOString() } };
}
