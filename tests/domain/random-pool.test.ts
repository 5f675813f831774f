// The pooled random bytes behind incident, delivery and simulator ids (src/domain/random-pool.ts).
import { describe, expect, it } from 'vitest';
import { RandomPool } from '../../src/domain/random-pool.js';

describe('RandomPool', () => {
  it('draws bytes and 32-bit integers in range across many refills of its pool', () => {
    const pool = new RandomPool();
    const bytes = new Set<number>();
    for (let i = 0; i < 20_000; i++) {
      const b = pool.byte();
      expect(Number.isInteger(b) && b >= 0 && b <= 255).toBe(true);
      bytes.add(b);
      const n = pool.uint32();
      expect(Number.isInteger(n) && n >= 0 && n <= 0xffff_ffff).toBe(true);
    }
    // 20,000 bytes over 100,000 drawn (five refills of 4 KiB): every value shows up.
    expect(bytes.size).toBe(256);
  });

  it('does not repeat its 32-bit draws (a refill is new randomness, not the same pool again)', () => {
    const pool = new RandomPool();
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) seen.add(pool.uint32());
    // Birthday bound: 10,000 draws of 2^32 collide with probability about 1%; allow one.
    expect(seen.size).toBeGreaterThanOrEqual(9_999);
  });
});
