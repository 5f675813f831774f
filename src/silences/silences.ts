// Silences at run time (docs/http-api.md, "Silences"; docs/policy-language.md, "Silences"): made,
// extended and expired over the API, kept in the state backend (every replica's in cluster mode),
// and looked up from memory by the suppress stage. Every change is written before it takes effect,
// kept on the silence's own history (who, when, why), logged and counted.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../domain/clock.js';
import { AppError } from '../errors.js';
import type { SilenceLookup } from '../policy/decide.js';
import type { Facts } from '../policy/conditions.js';
import { compilePattern } from '../policy/patterns.js';
import { CheckRefused, type Verdicts } from '../policy/redos.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import {
  silenceState,
  type Silence,
  type SilenceAction,
  type SilenceState,
  type SilenceStore,
} from './model.js';
import { invalid, withVerdicts, type ChangeRequest, type CreateRequest } from './request.js';
import { SilenceView } from './view.js';

export interface SilencesDeps {
  store: SilenceStore;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** The running sidecar's ReDoS checker (src/policy/redos.ts), as for candidate policies. */
  verdicts(sources: string[]): Promise<Verdicts>;
  /** RETENTION: a silence that ended longer ago than this is forgotten (docs/configuration.md). */
  retentionMs: number;
}

/** Expired silences leave the hot path's index this often (they stay listed). */
const SWEEP_MS = 5_000;

const iso = (ms: number): string => new Date(ms).toISOString();

export class Silences implements SilenceLookup {
  readonly view = new SilenceView();
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly deps: SilencesDeps) {
    deps.metrics.silenceCounts = () => this.view.counts(deps.clock.now());
  }

  /** Loads the stored silences; in cluster mode follows every replica's changes from here on. */
  async start(): Promise<{ silences: number }> {
    const { store } = this.deps;
    if (store.followSilences)
      await store.followSilences((s) =>
        typeof s === 'string' ? this.view.forget(s) : this.view.put(s, true),
      );
    else for (const s of await store.loadSilences()) this.view.put(s, true);
    this.view.sweep(this.deps.clock.now()); // silences that ended before this start were logged then
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
    return { silences: this.view.size };
  }

  stop(): void {
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  silencing(facts: Facts, nowMs: number): Silence | null {
    return this.view.match(facts, nowMs);
  }

  get(id: string): Silence {
    const s = this.view.get(id);
    if (s === undefined) throw new AppError('not_found', `no silence ${id}`);
    return s;
  }

  list(state: SilenceState | null): Silence[] {
    const now = this.deps.clock.now();
    return this.view
      .list()
      .filter((s) => state === null || silenceState(s, now) === state)
      .sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
  }

  async create(req: CreateRequest): Promise<Silence> {
    const now = this.deps.clock.now();
    const sources = req.matchers.filter((m) => m.op === 'matches').map((m) => m.value);
    const verdicts = sources.length === 0 ? new Map() : await this.check(sources);
    const { matchers, narrowing } = withVerdicts(req.matchers, verdicts, compilePattern);
    if (!narrowing && !req.force)
      throw invalid(
        'matchers',
        'this silence would match every event; add a matcher that narrows it, or send "force": true',
      );
    const startsMs = req.startsMs ?? now;
    const endsMs = req.endsMs ?? (req.durationMs === null ? null : startsMs + req.durationMs);
    if (endsMs === null) throw invalid('ends_at', 'send ends_at or duration');
    if (endsMs <= startsMs) throw invalid('ends_at', 'must be after starts_at');
    if (endsMs <= now) throw invalid('ends_at', 'is in the past: the silence would never apply');
    const silence: Silence = {
      id: `sil_${randomUUID()}`,
      matchers,
      starts_at: iso(startsMs),
      ends_at: iso(endsMs),
      created_by: req.created_by,
      comment: req.comment,
      created_at: iso(now),
      updated_at: iso(now),
      version: 1,
      history: [],
    };
    return this.write(silence, 'created', req.created_by, req.comment, now);
  }

  /** PUT: a new end (extend or shorten), or a new start while it has not started yet. */
  async change(id: string, req: ChangeRequest): Promise<Silence> {
    const now = this.deps.clock.now();
    const current = this.get(id);
    const state = silenceState(current, now);
    if (state === 'expired')
      throw new AppError('conflict', `silence ${id} has expired; create a new one`, { details: { state } });
    if (req.startsMs !== null && state === 'active')
      throw invalid('starts_at', 'cannot move the start of a silence that is already active');
    const startsMs = req.startsMs ?? Date.parse(current.starts_at);
    // A duration counts from the start, or from now once the silence is running.
    const endsMs =
      req.endsMs ??
      (req.durationMs === null ? Date.parse(current.ends_at) : Math.max(startsMs, now) + req.durationMs);
    if (endsMs <= startsMs) throw invalid('ends_at', 'must be after starts_at');
    if (endsMs <= now) throw invalid('ends_at', 'is in the past; expire the silence with DELETE instead');
    const next = { ...current, starts_at: iso(startsMs), ends_at: iso(endsMs) };
    return this.write(next, 'updated', req.by, req.comment, now);
  }

  /** DELETE: ends now. Expiring an expired silence changes nothing. */
  async expire(id: string, by: string, comment: string): Promise<{ silence: Silence; changed: boolean }> {
    const now = this.deps.clock.now();
    const current = this.get(id);
    if (silenceState(current, now) === 'expired') return { silence: current, changed: false };
    const startsMs = Math.min(Date.parse(current.starts_at), now);
    const next = { ...current, starts_at: iso(startsMs), ends_at: iso(now) };
    return { silence: await this.write(next, 'expired', by, comment, now), changed: true };
  }

  private async write(
    base: Silence,
    action: SilenceAction,
    by: string,
    comment: string,
    now: number,
  ): Promise<Silence> {
    const silence: Silence = {
      ...base,
      updated_at: iso(now),
      version: action === 'created' ? 1 : base.version + 1,
      history: [
        ...base.history,
        { at: iso(now), action, by, comment, starts_at: base.starts_at, ends_at: base.ends_at },
      ],
    };
    await this.deps.store.putSilence(silence);
    this.view.put(silence, false);
    this.deps.metrics.silenceChanges.inc({ action });
    this.deps.logger.info(
      {
        event: 'silence_changed',
        action,
        silence: silence.id,
        by,
        comment,
        starts_at: silence.starts_at,
        ends_at: silence.ends_at,
        matchers: silence.matchers.map(({ fact, op, value, path }) => ({ fact, op, value, path })),
      },
      `silence ${silence.id} ${action} by ${by}: ${comment}`,
    );
    return silence;
  }

  private async check(sources: string[]): Promise<Verdicts> {
    try {
      return await this.deps.verdicts(sources);
    } catch (err) {
      if (!(err instanceof CheckRefused)) throw err;
      if (err.reason === 'busy') throw new AppError('busy', err.message);
      throw invalid('matchers', err.message);
    }
  }

  /** Silences that ended longer ago than RETENTION are deleted, as resolved incidents are. */
  async prune(): Promise<number> {
    const old = this.view.endedBefore(this.deps.clock.now() - this.deps.retentionMs);
    for (const s of old) {
      await this.deps.store.forgetSilence(s.id);
      this.view.forget(s.id);
    }
    return old.length;
  }

  /** Silences that ran out leave the index; each is logged once per replica (its end is its audit). */
  private sweep(): void {
    void this.prune().catch((err: unknown) =>
      this.deps.logger.warn({ event: 'silence_prune_failed', err }, 'pruning old silences failed'),
    );
    for (const s of this.view.sweep(this.deps.clock.now())) {
      this.deps.logger.info(
        { event: 'silence_expired', silence: s.id, ends_at: s.ends_at, created_by: s.created_by },
        `silence ${s.id} expired at ${s.ends_at}`,
      );
    }
  }
}
