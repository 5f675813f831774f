// Client-side pacing per credential (a PagerDuty routing key, an OpsGenie API key), so a burst
// waits here instead of being answered with 429s.
//
// PagerDuty: "approximately 120 calls/minute per integration key ... calculated over a 60 second
// window looking back from the current time" (developer.pagerduty.com/docs/events-API-v2/rate-limits,
// source: github.com/PagerDuty/developer-docs docs/events-API-v2/05-Rate-Limits.md). So this is a
// sliding-window log, not a token bucket: a bucket of 120 refilled at 2/s lets 120 + 60 calls through
// in 30 s after a burst, which that window refuses. Never more than `per_minute` calls in any 60 s
// also keeps within fixed per-minute windows such as OpsGenie's.
//
// Keys are credentials: they are held only as Map keys and never logged or put in errors.
import type { RateLimit } from '../providers/spec.js';

export type TakeResult = { ok: true } | { ok: false; retryAtMs: number };

export interface RateLimiterOptions {
  /** Hard bound on keys tracked; the least recently used go first. Default 10 000. */
  maxKeys?: number;
}

/** The send times of one key within the last window, oldest first, in a ring. */
interface Window {
  times: Float64Array;
  head: number;
  count: number;
}

const WINDOW_MS = 60_000;
const DEFAULT_MAX_KEYS = 10_000;
const SWEEP_EVERY = 1_000;

export class RateLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly maxKeys: number;
  private takesSinceSweep = 0;

  /** `limit` undefined: no limit at all. */
  constructor(
    private readonly limit: RateLimit | undefined,
    options: RateLimiterOptions = {},
  ) {
    this.maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
  }

  /** Takes one call for `key` at `now`, or says when the next one may go. */
  tryTake(key: string, now: number): TakeResult {
    if (this.limit === undefined) return { ok: true };
    const window = this.touch(key);
    while (window.count > 0 && (window.times[window.head] as number) <= now - WINDOW_MS) {
      window.head = (window.head + 1) % window.times.length;
      window.count -= 1;
    }
    if (window.count >= window.times.length)
      return { ok: false, retryAtMs: (window.times[window.head] as number) + WINDOW_MS };
    window.times[(window.head + window.count) % window.times.length] = now;
    window.count += 1;
    if (++this.takesSinceSweep >= SWEEP_EVERY || this.windows.size > this.maxKeys) this.evict(now);
    return { ok: true };
  }

  /** How many keys are tracked (for tests and a gauge). */
  get size(): number {
    return this.windows.size;
  }

  private touch(key: string): Window {
    const capacity = Math.max(1, Math.floor((this.limit as RateLimit).per_minute));
    const found = this.windows.get(key);
    // Re-insert so Map order runs from least to most recently used.
    this.windows.delete(key);
    const window = found ?? { times: new Float64Array(capacity), head: 0, count: 0 };
    this.windows.set(key, window);
    return window;
  }

  // A key whose last call left the window is the same as an unknown key: dropping it changes nothing.
  private evict(now: number): void {
    this.takesSinceSweep = 0;
    for (const [key, window] of this.windows) if (newest(window) <= now - WINDOW_MS) this.windows.delete(key);
    for (const key of this.windows.keys()) {
      if (this.windows.size <= this.maxKeys) break;
      this.windows.delete(key);
    }
  }
}

function newest(window: Window): number {
  if (window.count === 0) return Number.NEGATIVE_INFINITY;
  return window.times[(window.head + window.count - 1) % window.times.length] as number;
}
