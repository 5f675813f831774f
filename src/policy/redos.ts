// ReDoS verdicts from recheck, in a short-lived child process. recheck is large (about 33 MB of
// code, plus a worker thread of about 40 MB that its synchronous API keeps alive), and the sidecar
// needs it only while a policy loads; in a child, all of that is returned to the system when the
// check ends. One child checks every new pattern of a load, and its verdicts are kept per pattern.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

export type ReDoSVerdict =
  | { status: 'safe' }
  | { status: 'vulnerable'; exponential: boolean; summary: string; attack: string }
  | { status: 'unknown'; error: string };

/** Per pattern; a child that cannot finish in time answers `unknown` (the pattern then runs on RE2). */
export const CHECK_TIMEOUT_MS = 10_000;

// Runs in the child: patterns as JSON on stdin, verdicts as JSON on stdout.
const CHILD = `
const { check } = await import(process.argv[1]);
let input = '';
for await (const chunk of process.stdin) input += chunk;
const verdicts = {};
for (const source of JSON.parse(input)) {
  try {
    const d = await check(source, 'i', { timeout: ${CHECK_TIMEOUT_MS} });
    verdicts[source] =
      d.status === 'safe' ? { status: 'safe' }
      : d.status === 'vulnerable'
        ? { status: 'vulnerable', exponential: d.complexity.type === 'exponential', summary: d.complexity.summary, attack: d.attack.pattern }
        : { status: 'unknown', error: d.error.kind };
  } catch (err) {
    verdicts[source] = { status: 'unknown', error: String(err && err.message || err) };
  }
}
process.stdout.write(JSON.stringify(verdicts));
process.exit(0);
`;

const recheckUrl = pathToFileURL(createRequire(import.meta.url).resolve('recheck')).href;

/** Verdicts for `sources`, from one child process. Never throws: a failed child means `unknown`. */
export function checkReDoS(sources: readonly string[]): Map<string, ReDoSVerdict> {
  const out = new Map<string, ReDoSVerdict>();
  if (sources.length === 0) return out;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, recheckUrl], {
    input: JSON.stringify(sources),
    encoding: 'utf8',
    timeout: CHECK_TIMEOUT_MS * sources.length + 5_000,
    maxBuffer: 16 * 1024 * 1024,
    // Not the parent's NODE_OPTIONS (a profiler, a heap flag): the checker runs plain.
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let verdicts: Record<string, ReDoSVerdict> = {};
  try {
    if (child.status === 0) verdicts = JSON.parse(child.stdout) as Record<string, ReDoSVerdict>;
  } catch {
    verdicts = {};
  }
  const failure = child.error?.message ?? (child.stderr.trim().split('\n').at(-1) || `exit ${child.status}`);
  for (const source of sources) {
    out.set(source, verdicts[source] ?? { status: 'unknown', error: `the checker failed: ${failure}` });
  }
  return out;
}
