// The heap of `serve` (src/cli/heap.ts): the V8 flags it sets at start, and at rest one
// memory-reducing collection once the process has been quiet for two looks and its heap grew by
// 32 MiB since the last one; never while it is busy.
import { describe, expect, it } from 'vitest';
import { collectGarbage, HeapAtRest, heapFlags, RestRule } from '../../src/cli/heap.js';

const MIB = 1024 * 1024;

describe('heapFlags', () => {
  it('bounds heap growth and turns allocation-site pretenuring off', () => {
    expect(heapFlags([])).toEqual(['--heap-growing-percent=25', '--no-allocation-site-pretenuring']);
    expect(heapFlags(['--max-semi-space-size=8'])).toEqual([
      '--heap-growing-percent=25',
      '--no-allocation-site-pretenuring',
    ]);
  });

  it("leaves each flag to node's command line when it gives one, either way", () => {
    expect(heapFlags(['--allocation-site-pretenuring'])).toEqual(['--heap-growing-percent=25']);
    expect(heapFlags(['--heap-growing-percent=50', '--no-allocation-site-pretenuring'])).toEqual([]);
  });
});

describe('RestRule', () => {
  it('collects once after start when quiet, grown or not, and then only after growth', () => {
    const rule = new RestRule(100 * MIB);
    expect(rule.look(0.5, 100 * MIB)).toBe(false); // starting: busy
    expect(rule.look(0.01, 100 * MIB)).toBe(false);
    expect(rule.look(0.01, 100 * MIB)).toBe(true);
    rule.collected(90 * MIB);
    expect([0, 1, 2, 3].map(() => rule.look(0.01, 100 * MIB))).toEqual([false, false, false, false]);
    expect(rule.look(0.01, 122 * MIB)).toBe(true); // 32 MiB over 90
  });

  it('collects after two quiet looks once the heap grew by the threshold', () => {
    const rule = new RestRule(100 * MIB);
    rule.collected(100 * MIB); // the one after start
    expect(rule.look(0.01, 140 * MIB)).toBe(false); // one quiet look
    expect(rule.look(0.01, 140 * MIB)).toBe(true);
    rule.collected(110 * MIB);
    expect(rule.look(0.01, 140 * MIB)).toBe(false);
    expect(rule.look(0.01, 140 * MIB)).toBe(false); // 30 MiB over the new baseline: not enough
    expect(rule.look(0.01, 143 * MIB)).toBe(true);
  });

  it('never while busy: a busy look starts the count again', () => {
    const rule = new RestRule(100 * MIB);
    rule.collected(100 * MIB);
    expect(rule.look(0.01, 200 * MIB)).toBe(false);
    expect(rule.look(0.5, 200 * MIB)).toBe(false);
    expect(rule.look(0.01, 200 * MIB)).toBe(false);
    expect(rule.look(0.01, 200 * MIB)).toBe(true);
  });

  it('counts growth from where the heap shrank to by itself', () => {
    const rule = new RestRule(100 * MIB);
    rule.collected(100 * MIB);
    rule.look(0.5, 60 * MIB);
    expect(rule.look(0.01, 95 * MIB)).toBe(false);
    expect(rule.look(0.01, 95 * MIB)).toBe(true); // 35 MiB over 60
  });
});

describe('HeapAtRest', () => {
  it('collects the heap of a quiet process after it grew, once, and says so', async () => {
    const logged: Array<Record<string, unknown>> = [];
    const logger = {
      info: (details: object) => logged.push(details as Record<string, unknown>),
      warn: () => undefined,
    };
    let counted = 0;
    const order: string[] = [];
    const heap = new HeapAtRest(logger, {
      everyMs: 40,
      shed: () => order.push(`shed before collection ${counted + 1}`),
      collected: () => counted++,
    });
    heap.start();
    try {
      // Garbage of 64 MiB or more: the heap grows past the threshold, then nothing happens.
      let garbage: unknown[] | null = Array.from({ length: 600_000 }, (_, i) => ({
        i,
        text: `item ${i}`.repeat(8),
      }));
      expect(garbage.length).toBe(600_000);
      garbage = null;
      for (let waited = 0; waited < 5_000 && logged.length === 0; waited += 50)
        await new Promise((r) => setTimeout(r, 50));
      expect(logged).toHaveLength(1);
      expect(counted).toBe(1);
      expect(order).toEqual(['shed before collection 1']); // caches go first, then the collection
      expect(logged[0]).toMatchObject({ event: 'heap_collected_at_rest' });
      expect(logged[0]?.['after_mb'] as number).toBeLessThan(logged[0]?.['before_mb'] as number);
      await new Promise((r) => setTimeout(r, 300)); // quiet still, but it did not grow again
      expect(logged).toHaveLength(1);
    } finally {
      heap.stop();
    }
  });

  it('collectGarbage gives back what garbage took', async () => {
    let garbage: unknown[] | null = Array.from({ length: 200_000 }, (_, i) => ({
      i,
      text: `x${i}`.repeat(10),
    }));
    expect(garbage.length).toBe(200_000);
    garbage = null;
    const { beforeBytes, afterBytes } = await collectGarbage();
    expect(afterBytes).toBeLessThan(beforeBytes);
  });
});
