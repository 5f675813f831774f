import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/deliver/rate-limiter.js';

const T0 = 1_700_000_000_000;
const ROUTING_KEY = 'R0UT1NGKEY0000000000000000000000';

describe('rate limiter', () => {
  it('lets a burst of 120 through and tells the 121st when to retry', () => {
    const limiter = new RateLimiter({ per_minute: 120 });
    for (let i = 0; i < 120; i++) expect(limiter.tryTake(ROUTING_KEY, T0 + i)).toEqual({ ok: true });
    expect(limiter.tryTake(ROUTING_KEY, T0 + 500)).toEqual({ ok: false, retryAtMs: T0 + 60_000 });
    // Other credentials have their own allowance.
    expect(limiter.tryTake('another-key', T0 + 500)).toEqual({ ok: true });
  });

  it('frees capacity as calls leave the 60 s window, never allowing more than per_minute in any window', () => {
    const limiter = new RateLimiter({ per_minute: 120 });
    for (let i = 0; i < 120; i++) limiter.tryTake(ROUTING_KEY, T0);
    expect(limiter.tryTake(ROUTING_KEY, T0 + 30_000).ok).toBe(false);
    expect(limiter.tryTake(ROUTING_KEY, T0 + 59_999).ok).toBe(false);
    expect(limiter.tryTake(ROUTING_KEY, T0 + 60_000).ok).toBe(true);
    // Paced at 2/s from here on, every sliding minute holds at most 120 calls.
    const sent: number[] = [T0 + 60_000];
    for (let t = T0 + 60_000; t < T0 + 240_000; t += 100)
      if (limiter.tryTake(ROUTING_KEY, t).ok) sent.push(t);
    for (const start of sent)
      expect(sent.filter((t) => t >= start && t < start + 60_000).length).toBeLessThanOrEqual(120);
    expect(sent.length).toBeGreaterThan(200);
  });

  it('has no limit when none is configured', () => {
    const limiter = new RateLimiter(undefined);
    for (let i = 0; i < 10_000; i++) expect(limiter.tryTake(ROUTING_KEY, T0).ok).toBe(true);
    expect(limiter.size).toBe(0);
  });

  it('forgets keys idle for a whole window', () => {
    const limiter = new RateLimiter({ per_minute: 10 });
    for (let i = 0; i < 999; i++) limiter.tryTake(`team-${i}`, T0);
    expect(limiter.size).toBe(999);
    limiter.tryTake('late', T0 + 60_000); // the 1000th take sweeps
    expect(limiter.size).toBe(1);
  });

  it('bounds the keys it holds', () => {
    const limiter = new RateLimiter({ per_minute: 10 }, { maxKeys: 50 });
    for (let i = 0; i < 500; i++) limiter.tryTake(`team-${i}`, T0 + i);
    expect(limiter.size).toBeLessThanOrEqual(50);
    expect(limiter.tryTake('team-499', T0 + 500).ok).toBe(true);
  });
});
