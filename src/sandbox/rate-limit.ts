// An emulated per-key rate limit over a rolling 60 s window, off unless asked for. PagerDuty: "approximately
// 120 calls/minute per integration key", 60 s look-back (docs/providers.md, "PagerDuty rate limits");
// OpsGenie: token buckets per minute and per second (docs.opsgenie.com/docs/api-rate-limiting). One rolling
// minute is enough to exercise the sidecar's 429 handling; the real numbers vary by plan.
import type { Clock } from '../domain/clock.js';

const WINDOW_MS = 60_000;

export class RateLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly perMinute: number | undefined,
    private readonly clock: Clock,
  ) {}

  /** Counts the request when it is admitted; a refused request does not use up the window. */
  admit(key: string): boolean {
    if (this.perMinute === undefined) return true;
    const now = this.clock.now();
    const recent = (this.hits.get(key) ?? []).filter((t) => t > now - WINDOW_MS);
    const admitted = recent.length < this.perMinute;
    if (admitted) recent.push(now);
    this.hits.set(key, recent);
    return admitted;
  }

  reset(): void {
    this.hits.clear();
  }
}
