import { describe, expect, it } from 'vitest';
import { ProviderHealth } from '../../src/deliver/health.js';

const T0 = Date.UTC(2025, 0, 1);

describe('provider health', () => {
  it('reports nulls before any request', () => {
    expect(new ProviderHealth().snapshot()).toEqual({
      success_rate: null,
      latency_p50_ms: null,
      latency_p99_ms: null,
      requests: 0,
      failures: 0,
      last_success_at: null,
      last_failure_at: null,
      last_error: null,
    });
  });

  it('computes success rate and latency percentiles over the last N requests', () => {
    const health = new ProviderHealth(100);
    for (let i = 1; i <= 100; i++)
      health.record({ ok: i % 4 !== 0, latencyMs: i, at: T0 + i, error: 'server_error: 503' });
    const snap = health.snapshot();
    expect(snap).toMatchObject({
      requests: 100,
      failures: 25,
      success_rate: 0.75,
      latency_p50_ms: 50,
      latency_p99_ms: 99,
    });
    expect(snap.last_success_at).toBe(new Date(T0 + 99).toISOString());
    expect(snap.last_failure_at).toBe(new Date(T0 + 100).toISOString());
    expect(snap.last_error).toBe('server_error: 503');
  });

  it('forgets the oldest samples beyond its capacity but keeps the last times', () => {
    const health = new ProviderHealth(10);
    health.record({ ok: false, latencyMs: 5_000, at: T0, error: 'timeout' });
    for (let i = 1; i <= 10; i++) health.record({ ok: true, latencyMs: 10, at: T0 + i });
    const snap = health.snapshot();
    expect(snap).toMatchObject({
      requests: 10,
      failures: 0,
      success_rate: 1,
      latency_p99_ms: 10,
      last_error: 'timeout',
    });
    expect(snap.last_failure_at).toBe(new Date(T0).toISOString());
  });
});
