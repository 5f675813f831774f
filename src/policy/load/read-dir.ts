// The policy directory → its sources: every `*.yaml` / `*.yml` file directly in it
// (docs/policy-language.md, "Files and merging").
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, type PolicyProblem } from '../../errors.js';
import type { PolicySource } from '../load.js';

/**
 * Every `*.yaml` / `*.yml` file directly in `dir` (not recursive: `policies/tests/` holds policy
 * test cases), sorted by name. Hidden files (editor locks like `.#routing.yaml`) are skipped.
 */
export async function readPolicyDir(dir: string): Promise<PolicySource[] | PolicyProblem[]> {
  const problem = (file: string, message: string): PolicyProblem[] => [{ file, line: 1, col: 1, message }];
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    return problem(dir, `cannot read the policy directory: ${errorMessage(err)}`);
  }
  const names = entries
    .filter((e) => /\.ya?ml$/i.test(e.name) && !e.name.startsWith('.') && (e.isFile() || e.isSymbolicLink()))
    .map((e) => e.name)
    .sort();
  const read = await Promise.all(names.map(async (name) => readSource(dir, name)));
  const files = read.filter((r): r is PolicySource => 'text' in r);
  const problems = read.filter((r): r is PolicyProblem => !('text' in r));
  if (problems.length > 0) return problems;
  if (files.length === 0) return problem(dir, 'no *.yaml or *.yml policy files in the policy directory');
  return files;
}

async function readSource(dir: string, name: string): Promise<PolicySource | PolicyProblem> {
  const path = join(dir, name);
  try {
    // A symlink (Kubernetes ConfigMap mounts are symlinks) must lead to a file.
    if (!(await stat(path)).isFile())
      return { file: name, line: 1, col: 1, message: 'is not a regular file' };
    return { name, text: await readFile(path, 'utf8') };
  } catch (err) {
    return { file: name, line: 1, col: 1, message: `cannot read the file: ${errorMessage(err)}` };
  }
}
