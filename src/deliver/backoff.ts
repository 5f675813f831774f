// Retry delays. Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015):
// delay = random in [0, min(max, initial · 2^attempt)]; it spreads retries of many pages that
// failed together better than any other scheme there. A provider's Retry-After is a floor
// (docs/architecture.md, "The dispatcher"), itself capped, so a hostile or mistaken header cannot park
// a page for hours.
export const RETRY_AFTER_CEILING_MS = 3_600_000;
const OUTAGE_INITIAL_MS = 1_000;
// 2^52 already exceeds any sane cap; beyond it the arithmetic would only produce Infinity.
const MAX_EXPONENT = 52;

export interface BackoffSettings {
  initialMs: number;
  maxMs: number;
}

/**
 * Delay before retry number `attempt` (0 for the first retry). `random` returns [0, 1).
 * `retryAfterMs`: what the provider asked for, if anything.
 */
export function nextDelayMs(
  attempt: number,
  settings: BackoffSettings,
  random: () => number,
  retryAfterMs?: number | null,
  ceilingMs: number = RETRY_AFTER_CEILING_MS,
): number {
  const jittered = Math.floor(random() * exponential(attempt, settings.initialMs, settings.maxMs));
  const floor = retryAfterMs !== undefined && retryAfterMs !== null && retryAfterMs > 0 ? retryAfterMs : 0;
  return Math.min(Math.max(floor, jittered), ceilingMs);
}

/**
 * Delay before round `round` (0-based) of retrying while every provider of an incident is down.
 * Equal jitter (half fixed, half random) rather than full: a near-zero delay here would only spin
 * against providers that are known to be down.
 */
export function outageDelayMs(round: number, capMs: number, random: () => number): number {
  const base = exponential(round, OUTAGE_INITIAL_MS, capMs);
  return Math.floor(base / 2 + random() * (base / 2));
}

function exponential(attempt: number, initialMs: number, maxMs: number): number {
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), MAX_EXPONENT);
  return Math.max(0, Math.min(maxMs, initialMs * 2 ** exponent));
}
