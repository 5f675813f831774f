// The caches' bounded map (src/domain/bounded-map.ts): the newest half of its limit at least, its
// limit at most; a key read from the older generation is kept as recently used.
import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../src/domain/bounded-map.js';

const keysOf = (map: BoundedMap<string, number>): string[] => [...map.entries()].map(([k]) => k);

describe('BoundedMap', () => {
  it('keeps between one and two generations of the most recently set keys', () => {
    const map = new BoundedMap<string, number>(4);
    for (const [i, key] of ['a', 'b', 'c', 'd'].entries()) map.set(key, i);
    expect(keysOf(map)).toEqual(['a', 'b', 'c', 'd']);
    expect(map.drops).toBe(0);
    map.set('e', 4); // the generation of a and b goes
    expect(keysOf(map)).toEqual(['c', 'd', 'e']);
    expect([map.get('a'), map.get('c'), map.size, map.drops]).toEqual([undefined, 2, 3, 1]);
  });

  it('a key read or set again from the older generation outlives the rest of it', () => {
    const map = new BoundedMap<string, number>(4);
    for (const [i, key] of ['a', 'b', 'c'].entries()) map.set(key, i); // older: a, b
    expect(map.get('a')).toBe(0); // moved to the newer: c, a
    map.set('b', 10); // the newer is full: b starts the next, and the older is c, a
    map.set('d', 3);
    map.set('e', 4); // c, a go
    expect(keysOf(map)).toEqual(['b', 'd', 'e']);
    expect(map.get('b')).toBe(10);
  });

  it('setting a key never leaves an older value readable', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2); // older: a
    map.set('a', 3);
    expect(map.get('a')).toBe(3);
    expect(map.delete('a')).toBe(true);
    expect([map.get('a'), map.delete('a'), map.size]).toEqual([undefined, false, 1]);
    map.clear();
    expect(map.size).toBe(0);
  });

  it('sheds every entry as an eviction, so a reader that overlapped it knows something went', () => {
    const map = new BoundedMap<string, number>(4);
    map.shed();
    expect(map.drops).toBe(0); // nothing to forget
    map.set('a', 1);
    map.set('b', 2);
    map.shed();
    expect([map.size, map.get('a'), map.drops]).toEqual([0, undefined, 1]);
  });

  it('refuses a generation of less than one key', () => {
    expect(() => new BoundedMap(0)).toThrow(RangeError);
  });
});
