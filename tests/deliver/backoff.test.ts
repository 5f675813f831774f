import { describe, expect, it } from 'vitest';
import { RETRY_AFTER_CEILING_MS, nextDelayMs, outageDelayMs } from '../../src/deliver/backoff.js';

const SETTINGS = { initialMs: 1_000, maxMs: 60_000 };
const zero = (): number => 0;
const top = (): number => 1;
const half = (): number => 0.5;

describe('backoff - full jitter', () => {
  it('stays within [0, min(max, initial·2^attempt)] for many attempts', () => {
    for (let attempt = 0; attempt < 2_000; attempt++) {
      const cap = Math.min(60_000, 1_000 * 2 ** Math.min(attempt, 52));
      expect(nextDelayMs(attempt, SETTINGS, zero)).toBe(0);
      expect(nextDelayMs(attempt, SETTINGS, top)).toBe(cap);
      const random = nextDelayMs(attempt, SETTINGS, Math.random);
      expect(random).toBeGreaterThanOrEqual(0);
      expect(random).toBeLessThanOrEqual(cap);
      expect(Number.isInteger(random)).toBe(true);
    }
  });

  it('doubles until the cap', () => {
    expect([0, 1, 2, 3, 5, 6, 7].map((a) => nextDelayMs(a, SETTINGS, top))).toEqual([
      1_000, 2_000, 4_000, 8_000, 32_000, 60_000, 60_000,
    ]);
  });

  it('is never earlier than Retry-After', () => {
    expect(nextDelayMs(0, SETTINGS, zero, 5_000)).toBe(5_000);
    expect(nextDelayMs(0, SETTINGS, top, 500)).toBe(1_000);
    expect(nextDelayMs(6, SETTINGS, half, 45_000)).toBe(45_000);
    expect(nextDelayMs(0, SETTINGS, half, null)).toBe(500);
  });

  it('caps a hostile Retry-After', () => {
    expect(nextDelayMs(0, SETTINGS, zero, 86_400_000)).toBe(RETRY_AFTER_CEILING_MS);
    expect(nextDelayMs(0, SETTINGS, zero, 86_400_000, 120_000)).toBe(120_000);
  });

  it('ignores a meaningless Retry-After', () => {
    expect(nextDelayMs(0, SETTINGS, top, -5)).toBe(1_000);
    expect(nextDelayMs(0, SETTINGS, top, Number.NaN)).toBe(1_000);
  });

  it('survives a zero initial delay and odd attempts', () => {
    expect(nextDelayMs(5_000, { initialMs: 0, maxMs: 10 }, top)).toBe(0);
    expect(nextDelayMs(-3, SETTINGS, top)).toBe(1_000);
  });
});

describe('backoff - every provider down', () => {
  it('grows to the cap and never drops below half of it', () => {
    expect([0, 1, 2, 10].map((r) => outageDelayMs(r, 300_000, zero))).toEqual([500, 1_000, 2_000, 150_000]);
    expect([0, 1, 2, 10].map((r) => outageDelayMs(r, 300_000, top))).toEqual([1_000, 2_000, 4_000, 300_000]);
    for (let round = 0; round < 500; round++) {
      const delay = outageDelayMs(round, 300_000, Math.random);
      expect(delay).toBeGreaterThan(0);
      expect(delay).toBeLessThanOrEqual(300_000);
    }
  });
});
