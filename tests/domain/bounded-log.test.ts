import { describe, expect, it } from 'vitest';
import { BoundedLog } from '../../src/domain/bounded-log.js';

describe('a bounded log', () => {
  it('keeps the newest entries up to its bound, oldest first, and counts every one added', () => {
    const log = new BoundedLog<number>(8);
    for (let i = 1; i <= 100; i++) {
      log.add(i);
      const kept = Array.from({ length: Math.min(i, 8) }, (_, k) => i - Math.min(i, 8) + 1 + k);
      expect(log.list()).toEqual(kept);
      expect(log.size).toBe(kept.length);
      expect(log.total).toBe(i);
    }
    log.clear();
    expect(log.list()).toEqual([]);
    expect(log.size).toBe(0);
    expect(log.total).toBe(0);
  });
});
