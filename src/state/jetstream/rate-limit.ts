// Calls per credential per minute for the cluster as a whole (docs/architecture.md, "Cluster
// mode"): every replica counts in one KV bucket, by compare-and-set, in windows of 10 s. The sum of
// the last six windows, with the oldest weighted by how much of it is still inside the minute,
// estimates the calls of the last 60 s, as PagerDuty counts them (a sliding window); a call that
// would go past the limit waits (a nak) until enough of the minute has passed.
import { createHash } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import type { CallLimiter } from '../../deliver/attempts.js';
import type { TakeResult } from '../../deliver/rate-limiter.js';
import type { RateLimit } from '../../providers/spec.js';
import { isConflict } from './conflict.js';
import type { Claims } from './claims.js';

const WINDOW_MS = 10_000;
const WINDOWS = 6; // one minute
const OK: TakeResult = { ok: true };

export class ClusterLimiter implements CallLimiter {
  constructor(
    private readonly kv: KV,
    private readonly claims: Claims,
    private readonly limit: RateLimit | undefined,
  ) {}

  async tryTake(key: string, nowMs: number): Promise<TakeResult> {
    if (this.limit === undefined) return OK;
    const hash = createHash('sha256').update(key).digest('hex').slice(0, 24);
    return this.take(hash, nowMs, this.limit);
  }

  private async take(hash: string, nowMs: number, limit: RateLimit): Promise<TakeResult> {
    const window = Math.floor(nowMs / WINDOW_MS);
    // Replicated counters need a claim too: their compare-and-set alone lets concurrent takes through.
    const claimant = this.claims.claimant(`r.${hash}.${window}`);
    for (let attempt = 0; attempt < 50; attempt++) {
      const counts = await Promise.all(
        Array.from({ length: WINDOWS + 1 }, (_, i) => this.count(`${hash}.${window - i}`)),
      );
      const [current, ...past] = counts as [Counted, ...Counted[]];
      const oldestInside = 1 - (nowMs - window * WINDOW_MS) / WINDOW_MS;
      const estimate =
        current.n +
        past.slice(0, WINDOWS - 1).reduce((a, c) => a + c.n, 0) +
        (past[WINDOWS - 1]?.n ?? 0) * oldestInside;
      if (estimate + 1 > limit.per_minute) return { ok: false, retryAtMs: (window + 1) * WINDOW_MS };
      if (current.revision !== 0 && !(await claimant.claim(current.revision))) {
        await claimant.pause();
        continue;
      }
      try {
        const value = String(current.n + 1);
        if (current.revision === 0) await this.kv.create(`${hash}.${window}`, value);
        else await this.kv.update(`${hash}.${window}`, value, current.revision);
        return OK;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
    return { ok: false, retryAtMs: nowMs + 100 };
  }

  private async count(key: string): Promise<Counted> {
    const entry = await this.kv.get(key);
    if (entry === null || entry.operation !== 'PUT') return { n: 0, revision: entry?.revision ?? 0 };
    return { n: Number(entry.string()) || 0, revision: entry.revision };
  }
}

interface Counted {
  n: number;
  revision: number;
}
