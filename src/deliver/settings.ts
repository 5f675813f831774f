// Delivery settings as the policy's `settings.delivery` states them (docs/policy-language.md,
// "Settings"); durations are text, parsed where they are used. Owned here, read by the policy loader.

export interface RetrySettings {
  /** First backoff, duration text. */
  initial: string;
  /** Backoff cap, duration text. */
  max: string;
  /** Attempts on one provider before `failover` mode moves to the next provider. */
  budget: number;
}
export interface BreakerSettings {
  consecutive_failures: number;
  /** Open when at least `min_requests` in `window` and the failure ratio reaches this. */
  failure_rate: number;
  min_requests: number;
  window: string;
  cooldown: string;
}
export interface DeliverySettings {
  timeout: string;
  retry: RetrySettings;
  breaker: BreakerSettings;
  /** Backoff cap while every provider of an incident is down. */
  outage_backoff_max: string;
}
