// Provider health for /api/v1/health, /metrics and the dashboard (docs/architecture.md,
// "Circuit breakers"): success rate and latency percentiles over the last N requests, plus when it last
// worked and last failed.

export interface HealthSample {
  ok: boolean;
  latencyMs: number;
  /** Epoch ms. */
  at: number;
  /** A short reason for a failure (e.g. `rate_limited: 429`). Must never contain a credential. */
  error?: string;
}

export interface HealthSnapshot {
  success_rate: number | null;
  latency_p50_ms: number | null;
  latency_p99_ms: number | null;
  requests: number;
  failures: number;
  last_success_at: string | null;
  last_failure_at: string | null;
  last_error: string | null;
}

export const DEFAULT_HEALTH_SAMPLES = 200;

export class ProviderHealth {
  private readonly ring: HealthSample[] = [];
  private next = 0;
  private lastSuccessAt: number | null = null;
  private lastFailureAt: number | null = null;
  private lastError: string | null = null;

  constructor(private readonly capacity: number = DEFAULT_HEALTH_SAMPLES) {}

  record(sample: HealthSample): void {
    if (this.ring.length < this.capacity) this.ring.push(sample);
    else this.ring[this.next] = sample;
    this.next = (this.next + 1) % this.capacity;
    if (sample.ok) this.lastSuccessAt = sample.at;
    else {
      this.lastFailureAt = sample.at;
      this.lastError = sample.error ?? null;
    }
  }

  snapshot(): HealthSnapshot {
    const requests = this.ring.length;
    const failures = this.ring.filter((s) => !s.ok).length;
    const latencies = this.ring.map((s) => s.latencyMs).sort((a, b) => a - b);
    return {
      success_rate: requests === 0 ? null : (requests - failures) / requests,
      latency_p50_ms: percentile(latencies, 0.5),
      latency_p99_ms: percentile(latencies, 0.99),
      requests,
      failures,
      last_success_at: iso(this.lastSuccessAt),
      last_failure_at: iso(this.lastFailureAt),
      last_error: this.lastError,
    };
  }
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] as number;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
