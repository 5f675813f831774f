import { describe, expect, it } from 'vitest';
import { DueQueue } from '../../src/deliver/due-queue.js';

describe('DueQueue', () => {
  it('hands out keys in time order, only once due', () => {
    const q = new DueQueue();
    q.add('c', 30);
    q.add('a', 10);
    q.add('b', 20);
    expect(q.peek()).toBe(10);
    expect(q.takeDue(5)).toBeNull();
    expect([q.takeDue(25), q.takeDue(25), q.takeDue(25)]).toEqual(['a', 'b', null]);
    expect(q.size).toBe(1);
    expect(q.takeDue(30)).toBe('c');
    expect(q.peek()).toBeNull();
  });

  it('keeps one entry per key: an earlier time moves it up, a later one never postpones it', () => {
    const q = new DueQueue();
    q.add('k', 50);
    q.add('k', 70);
    expect(q.peek()).toBe(50);
    q.add('k', 5);
    expect(q.size).toBe(1);
    expect(q.takeDue(10)).toBe('k');
    expect(q.takeDue(100)).toBeNull(); // the stale entry at 50 is gone with the key
  });

  it('orders a large random set like a sort does', () => {
    const q = new DueQueue();
    const times = new Map<string, number>();
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 1000;
    for (let i = 0; i < 5000; i++) {
      const key = `k${i % 1500}`;
      const at = Math.floor(rand());
      q.add(key, at);
      times.set(key, Math.min(times.get(key) ?? Infinity, at));
    }
    const out: string[] = [];
    for (let key = q.takeDue(1000); key !== null; key = q.takeDue(1000)) out.push(key);
    const expected = [...times].sort((a, b) => a[1] - b[1]).map(([k]) => times.get(k));
    expect(out.map((k) => times.get(k))).toEqual(expected);
    expect(new Set(out).size).toBe(1500);
  });
});
