// The policy the service decides with, and how it changes: load at start, reload on request, on
// SIGHUP and when files change (debounced). A reload is all or nothing: an invalid policy is
// refused with every problem, the old one keeps serving, and the reload gauge drops to 0.
import { watch, type FSWatcher } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Clock } from '../domain/clock.js';
import { PolicyError, formatProblem, type PolicyProblem } from '../errors.js';
import type { Logger, SecretScrubber } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { preparePolicyAsync, type ActivePolicy } from './active.js';
import type { PatternChecker } from './redos.js';
import { readPolicyDir, type PolicySource } from './load.js';

export type ReloadTrigger = 'startup' | 'api' | 'signal' | 'watch';

export interface ReloadOutcome {
  ok: boolean;
  trigger: ReloadTrigger;
  at: string;
  /** False when the files on disk were identical to the active policy's. */
  changed: boolean;
  version: string;
  revision: string;
  errors: string[];
  warnings: string[];
}

export interface PolicyManagerOptions {
  dir: string;
  env: Readonly<Record<string, string | undefined>>;
  sandbox: boolean;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  scrubber: SecretScrubber;
  /** Checks new patterns off the event loop (shared with candidate policies from requests). */
  checker: PatternChecker;
  /** Quiet period after a file change before reloading. */
  debounceMs?: number;
  /** Safety net for changes fs.watch misses (symlink swaps by git-sync, network filesystems). */
  pollMs?: number;
}

export class PolicyManager {
  private active: ActivePolicy | null = null;
  /** Digest of the files behind `active`, and of the last files refused, so polling reloads only on change. */
  private digest = '';
  private refusedDigest = '';
  private last: ReloadOutcome | null = null;
  private lastProblems: PolicyProblem[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private poll: NodeJS.Timeout | null = null;
  private readonly listeners = new Set<(policy: ActivePolicy) => void>();
  private readonly reloadListeners = new Set<(outcome: ReloadOutcome) => void>();

  constructor(private readonly options: PolicyManagerOptions) {}

  /** The policy in force. Throws before the first successful load (readiness guards this). */
  current(): ActivePolicy {
    if (this.active === null) throw new Error('no policy loaded yet');
    return this.active;
  }

  isLoaded(): boolean {
    return this.active !== null;
  }

  lastReload(): ReloadOutcome | null {
    return this.last;
  }

  onChange(listener: (policy: ActivePolicy) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every reload's outcome, refused ones included (the live stream, docs/http-api.md). */
  onReload(listener: (outcome: ReloadOutcome) => void): () => void {
    this.reloadListeners.add(listener);
    return () => this.reloadListeners.delete(listener);
  }

  /** The first load: throws PolicyError with every problem, so the process can exit non-zero. */
  async start(): Promise<ActivePolicy> {
    const outcome = await this.reload('startup');
    if (!outcome.ok) throw new PolicyError(this.lastProblems);
    return this.current();
  }

  /** Reloads are serialised: a reload never races another. */
  reload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const run = this.queue.then(() => this.doReload(trigger));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async doReload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const { logger, metrics } = this.options;
    const at = new Date(this.options.clock.now());
    const sources = await readPolicyDir(this.options.dir);
    const prepared = isSources(sources)
      ? await preparePolicyAsync(sources, { env: this.options.env, sandbox: this.options.sandbox }, at, (p) =>
          this.options.checker.verdicts(p, 'disk'),
        )
      : { ok: false as const, problems: sources, warnings: [] };
    if (!prepared.ok) {
      this.lastProblems = prepared.problems;
      this.refusedDigest = isSources(sources) ? sourcesDigest(sources) : '';
      const errors = prepared.problems.map(formatProblem);
      metrics.policyReloadSuccessful.set(0);
      metrics.policyReloads.inc({ result: 'failure' });
      logger.error(
        { event: 'policy_reload_failed', trigger, errors },
        `policy ${trigger === 'startup' ? 'load' : 'reload'} refused: ${errors.length} problem(s); ${this.active ? 'the previous policy keeps serving' : 'no policy is active'}`,
      );
      return this.record({
        ok: false,
        trigger,
        at: at.toISOString(),
        changed: false,
        ...this.stamp(),
        errors,
        warnings: prepared.warnings,
      });
    }
    const digest = sourcesDigest(sources as PolicySource[]);
    const changed = digest !== this.digest;
    this.refusedDigest = '';
    const { loaded } = prepared.policy;
    this.options.scrubber.set('policy', loaded.secrets);
    if (changed) {
      this.active = prepared.policy;
      this.digest = digest;
      for (const listener of this.listeners) listener(prepared.policy);
    }
    metrics.policyReloadSuccessful.set(1);
    metrics.policyReloads.inc({ result: 'success' });
    logger.info(
      {
        event: 'policy_loaded',
        trigger,
        version: loaded.version,
        revision: loaded.revision,
        changed,
        files: loaded.files.map((f) => f.name),
        warnings: loaded.warnings,
        notes: loaded.notes,
      },
      changed ? `policy ${loaded.version} (${loaded.revision.slice(0, 19)}) active` : 'policy unchanged',
    );
    return this.record({
      ok: true,
      trigger,
      at: at.toISOString(),
      changed,
      version: loaded.version,
      revision: loaded.revision,
      errors: [],
      warnings: loaded.warnings,
    });
  }

  private stamp(): { version: string; revision: string } {
    return this.active ? { ...this.active.compiled.stamp } : { version: '', revision: '' };
  }

  private record(outcome: ReloadOutcome): ReloadOutcome {
    this.last = outcome;
    for (const listener of this.reloadListeners) listener(outcome);
    return outcome;
  }

  /** Reload when files change: fs.watch, debounced, plus a slow poll of the directory's digest. */
  watch(): void {
    const debounceMs = this.options.debounceMs ?? 300;
    const schedule = (): void => {
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => void this.reloadIfChanged(), debounceMs);
      this.debounce.unref();
    };
    try {
      this.watcher = watch(this.options.dir, { persistent: false }, schedule);
      this.watcher.on('error', (err) =>
        this.options.logger.warn(
          { event: 'policy_watch_failed', err },
          'policy directory watch failed; polling continues',
        ),
      );
    } catch (err) {
      this.options.logger.warn(
        { event: 'policy_watch_failed', err },
        'cannot watch the policy directory; polling instead',
      );
    }
    this.poll = setInterval(() => void this.reloadIfChanged(), this.options.pollMs ?? 5_000);
    this.poll.unref();
  }

  private async reloadIfChanged(): Promise<void> {
    const sources = await readPolicyDir(this.options.dir);
    if (isSources(sources)) {
      const digest = sourcesDigest(sources);
      if (digest === this.digest || digest === this.refusedDigest) return;
    }
    await this.reload('watch');
  }

  stop(): void {
    this.watcher?.close();
    if (this.debounce) clearTimeout(this.debounce);
    if (this.poll) clearInterval(this.poll);
    this.watcher = null;
  }
}

function isSources(value: unknown): value is PolicySource[] {
  return Array.isArray(value) && (value.length === 0 || 'text' in (value[0] as object));
}

function sourcesDigest(sources: readonly PolicySource[]): string {
  const h = createHash('sha256');
  for (const s of sources) h.update(s.name).update('\0').update(s.text).update('\0');
  return h.digest('hex');
}
