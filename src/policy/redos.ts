// ReDoS verdicts from recheck, in a short-lived child process. recheck is large (about 33 MB of
// code, plus a worker thread of about 40 MB that its synchronous API keeps alive), and the sidecar
// needs it only while a policy loads; in a child, all of that is returned to the system when the
// check ends. One child checks every new pattern of a load.
//
// The running sidecar never waits for a child on its event loop (`PatternChecker`: one child at a
// time, a bounded queue, a bound on new patterns per request); the command line, which has nothing
// else to do, may (`checkReDoSSync`). Verdicts are kept in a cache bounded by count and bytes, so
// no stream of requests with fresh patterns can grow memory (docs/policy-language.md, "Regular
// expressions").
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { projectFile } from '../project-files.js';

export type ReDoSVerdict =
  | { status: 'safe' }
  | { status: 'vulnerable'; exponential: boolean; summary: string; attack: string }
  | { status: 'unknown'; error: string };

export type Verdicts = ReadonlyMap<string, ReDoSVerdict>;

interface SavedVerdicts {
  recheck: string;
  verdicts: Record<string, ReDoSVerdict>;
}

/** Per pattern for a policy on disk; a pattern that runs out of time is `unknown` (it runs on RE2). */
export const CHECK_TIMEOUT_MS = 10_000;
/** Per pattern for a candidate policy from a request: a request must not hold the checker long. */
export const CANDIDATE_CHECK_TIMEOUT_MS = 2_000;
/** New (unchecked) patterns one request may bring. */
export const MAX_NEW_PATTERNS_PER_REQUEST = 64;
/** Requests waiting for the checker before more are refused. */
export const MAX_WAITING_CHECKS = 8;

// Runs in the child: [patterns, timeout] as JSON on stdin, verdicts as JSON on stdout.
const CHILD = `
const { check } = await import(process.argv[1]);
let input = '';
for await (const chunk of process.stdin) input += chunk;
const [sources, timeout] = JSON.parse(input);
const verdicts = {};
for (const source of sources) {
  try {
    const d = await check(source, 'i', { timeout });
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

const require = createRequire(import.meta.url);
const recheckUrl = pathToFileURL(require.resolve('recheck')).href;
/** Verdicts are recheck's: a saved one counts only for the version that gave it. */
export const RECHECK_VERSION = (require('recheck/package.json') as { version: string }).version;
const CHILD_ARGS = ['--input-type=module', '-e', CHILD, recheckUrl];
// Not the parent's NODE_OPTIONS (a profiler, a heap flag): the checker runs plain.
const childEnv = (): NodeJS.ProcessEnv => ({ ...process.env, NODE_OPTIONS: '' });
const overallTimeoutMs = (count: number, perPatternMs: number): number => perPatternMs * count + 5_000;

/** Verdicts known so far, bounded by count and by the characters of their patterns; least recent out. */
export class VerdictCache {
  private readonly entries = new Map<string, ReDoSVerdict>();
  private chars = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxChars: number,
  ) {}

  get(source: string): ReDoSVerdict | undefined {
    const verdict = this.entries.get(source);
    if (verdict !== undefined) {
      this.entries.delete(source);
      this.entries.set(source, verdict);
    }
    return verdict;
  }

  /** `unknown` verdicts are not kept: they depend on the time allowed and on the child's luck. */
  set(source: string, verdict: ReDoSVerdict): void {
    if (verdict.status === 'unknown' || source.length > this.maxChars) return;
    if (this.entries.delete(source)) this.chars -= source.length;
    this.entries.set(source, verdict);
    this.chars += source.length;
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries && this.chars <= this.maxChars) break;
      this.entries.delete(oldest);
      this.chars -= oldest.length;
    }
  }

  get size(): { entries: number; chars: number } {
    return { entries: this.entries.size, chars: this.chars };
  }
}

/** Shared by every check of this process: 4,096 patterns or 4 MB of pattern text at most. */
export const verdictCache = new VerdictCache(4_096, 4 * 1024 * 1024);

/**
 * The verdicts `npm run build` saved for the shipped policies' patterns (scripts/ship-verdicts.mjs),
 * so that a first start on them (`npm start`, a new DATA_DIR) or `validate` starts no checker:
 * about a second. Same format and version rule as the verdicts kept in DATA_DIR.
 */
export const SHIPPED_VERDICTS = projectFile('dist/policy-regex-verdicts.json');
let shippedBelieved = false;

function believeShipped(): void {
  if (shippedBelieved) return;
  shippedBelieved = true;
  believeSaved(SHIPPED_VERDICTS);
}

/** Caches a saved file's safe and vulnerable verdicts; a missing, unreadable or other-version file is ignored. */
function believeSaved(file: string | URL): void {
  try {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as SavedVerdicts;
    if (saved.recheck !== RECHECK_VERSION) return;
    for (const [source, verdict] of Object.entries(saved.verdicts)) {
      if (verdict.status === 'safe' || verdict.status === 'vulnerable') verdictCache.set(source, verdict);
    }
  } catch {
    // not there (yet), or not ours to trust: checked afresh
  }
}

/** Every verdict from the cache or, for the patterns it lacks, `fresh`'s answer (cached). */
function withCache(
  sources: Iterable<string>,
  fresh: (missing: string[]) => Map<string, ReDoSVerdict>,
): Map<string, ReDoSVerdict> {
  const out = new Map<string, ReDoSVerdict>();
  const missing: string[] = [];
  for (const source of new Set(sources)) {
    const known = verdictCache.get(source);
    if (known === undefined) missing.push(source);
    else out.set(source, known);
  }
  if (missing.length === 0) return out;
  for (const [source, verdict] of fresh(missing)) {
    verdictCache.set(source, verdict);
    out.set(source, verdict);
  }
  return out;
}

/** The child's answer for `sources`, `unknown` with the reason for each one it did not answer. */
function readVerdicts(
  sources: readonly string[],
  stdout: string | null,
  failure: string | null,
): Map<string, ReDoSVerdict> {
  let verdicts: Record<string, ReDoSVerdict> = {};
  try {
    if (failure === null && stdout !== null) verdicts = JSON.parse(stdout) as Record<string, ReDoSVerdict>;
  } catch {
    verdicts = {};
  }
  const why = failure ?? 'no answer';
  return new Map(
    sources.map((s) => [s, verdicts[s] ?? { status: 'unknown', error: `the checker failed: ${why}` }]),
  );
}

/**
 * Verdicts for `sources`, blocking until the child answers: for the command line and tests, never
 * for the running sidecar. Never throws: a failed child means `unknown`.
 */
export function checkReDoSSync(sources: Iterable<string>): Map<string, ReDoSVerdict> {
  believeShipped();
  return withCache(sources, (missing) => {
    const child = spawnSync(process.execPath, CHILD_ARGS, {
      input: JSON.stringify([missing, CHECK_TIMEOUT_MS]),
      encoding: 'utf8',
      timeout: overallTimeoutMs(missing.length, CHECK_TIMEOUT_MS),
      maxBuffer: 16 * 1024 * 1024,
      env: childEnv(),
    });
    const failure =
      child.status === 0
        ? null
        : (child.error?.message ?? (child.stderr.trim().split('\n').at(-1) || `exit ${child.status}`));
    return readVerdicts(missing, child.stdout, failure);
  });
}

/** One child process, off the event loop; resolves with every verdict, `unknown` on any failure. */
function checkInChild(sources: readonly string[], perPatternMs: number): Promise<Map<string, ReDoSVerdict>> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, CHILD_ARGS, { env: childEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), overallTimeoutMs(sources.length, perPatternMs));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-2_000)));
    child.stdin.on('error', () => undefined); // a child that died early: reported by `close`
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve(readVerdicts(sources, null, err.message));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const failure =
        code === 0
          ? null
          : signal === 'SIGKILL'
            ? 'timed out'
            : stderr.trim().split('\n').at(-1) || `exit ${code}`;
      resolve(readVerdicts(sources, stdout, failure));
    });
    child.stdin.end(JSON.stringify([sources, perPatternMs]));
  });
}

/** Why a check was not run; the message says what to do. */
export class CheckRefused extends Error {
  override readonly name = 'CheckRefused';
  constructor(
    readonly reason: 'busy' | 'too_many_patterns',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The running sidecar's checker: one child at a time, in arrival order. A candidate policy from a
 * request waits in a bounded queue and may bring a bounded number of new patterns; the policy on
 * disk (start, reload) always waits its turn.
 */
export class PatternChecker {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;
  /** The last verdicts of the policy on disk, for `persist` (a first start checks before DATA_DIR exists). */
  private lastDisk: Verdicts | null = null;

  /**
   * `file`: where the verdicts of the policy on disk are kept between runs (in DATA_DIR), so a
   * restart with an unchanged policy starts no checker (a child costs 300–500 ms before it
   * answers). Read once here; a missing, unreadable or other-version file is only a cold start.
   */
  constructor(private readonly file: string | null = null) {
    believeShipped();
    if (file !== null) believeSaved(file);
  }

  verdicts(sources: Iterable<string>, origin: 'disk' | 'candidate'): Promise<Verdicts> {
    const unique = [...new Set(sources)];
    const missing = unique.filter((s) => verdictCache.get(s) === undefined);
    if (missing.length === 0) return Promise.resolve(withCache(unique, () => new Map()));
    if (origin === 'candidate') this.admit(missing.length);
    this.waiting++;
    const perPatternMs = origin === 'candidate' ? CANDIDATE_CHECK_TIMEOUT_MS : CHECK_TIMEOUT_MS;
    const run = this.tail.then(async () => {
      // Another request may have checked some of them meanwhile.
      const still = missing.filter((s) => verdictCache.get(s) === undefined);
      const fresh =
        still.length === 0 ? new Map<string, ReDoSVerdict>() : await checkInChild(still, perPatternMs);
      const verdicts = withCache(unique, () => fresh);
      if (origin === 'disk') await this.save(verdicts);
      return verdicts;
    });
    this.tail = run.catch(() => undefined).finally(() => this.waiting--);
    return run;
  }

  /** Saves the policy on disk's last verdicts again: once DATA_DIR exists (the store made it). */
  async persist(): Promise<void> {
    if (this.lastDisk !== null) await this.save(this.lastDisk);
  }

  /**
   * The policy on disk's verdicts, replacing the last saved (a crash mid-write leaves the old file).
   * No mkdir here: DATA_DIR is the store's to create and to refuse (src/store/data-dir.ts).
   */
  private async save(verdicts: Verdicts): Promise<void> {
    this.lastDisk = verdicts;
    if (this.file === null) return;
    const kept: Record<string, ReDoSVerdict> = {};
    for (const [source, verdict] of verdicts) if (verdict.status !== 'unknown') kept[source] = verdict;
    const saved: SavedVerdicts = { recheck: RECHECK_VERSION, verdicts: kept };
    try {
      await writeFile(`${this.file}.tmp`, JSON.stringify(saved));
      await rename(`${this.file}.tmp`, this.file);
    } catch {
      // only a slower next start
    }
  }

  private admit(newPatterns: number): void {
    if (newPatterns > MAX_NEW_PATTERNS_PER_REQUEST)
      throw new CheckRefused(
        'too_many_patterns',
        `the candidate has ${newPatterns} regular expressions not checked before; a request may bring at most ${MAX_NEW_PATTERNS_PER_REQUEST} (send it in parts, or load it from the policy directory)`,
      );
    if (this.waiting >= MAX_WAITING_CHECKS)
      throw new CheckRefused(
        'busy',
        `${this.waiting} policy checks are waiting for the regular-expression checker; retry shortly`,
      );
  }
}
