// The in-memory ref → incident ids cache (src/store/ref-cache.ts) and the key filter
// (src/store/key-filter.ts): each answer they give must be what the disk would say.
import { describe, expect, it } from 'vitest';
import { KeyFilter } from '../../src/store/key-filter.js';
import { RefCache } from '../../src/store/ref-cache.js';

const freshFrom = (first: string) => (id: string) => id >= first;

describe('ref cache', () => {
  it('answers a fresh incident’s own ref from memory, and no more than it knows', () => {
    const cache = new RefCache(freshFrom('inc_5'));
    cache.added('key', 'inc_6');
    expect(cache.lookup('key', 1)).toEqual(['inc_6']);
    expect(cache.lookup('key', 20)).toBeNull(); // older ones may be on disk
  });

  it('never caches a write of an incident older than the store’s start on its own', () => {
    const cache = new RefCache(freshFrom('inc_5'));
    cache.added('pagerduty:P1', 'inc_2'); // the disk may hold inc_4 for it: newer
    expect(cache.lookup('pagerduty:P1', 1)).toBeNull();
  });

  it('a complete read answers every lookup, and follows later writes and deletes', () => {
    const cache = new RefCache(freshFrom('inc_9'));
    cache.loaded('key', ['inc_3', 'inc_1'], 20, cache.mark());
    expect(cache.lookup('key', 20)).toEqual(['inc_3', 'inc_1']);
    cache.added('key', 'inc_2');
    expect(cache.lookup('key', 20)).toEqual(['inc_3', 'inc_2', 'inc_1']);
    cache.removed('key', 'inc_3');
    expect(cache.lookup('key', 1)).toEqual(['inc_2']);
  });

  it('a partial read keeps answering only for the newest ids without holes', () => {
    const cache = new RefCache(freshFrom('inc_9'));
    cache.loaded('key', ['inc_5'], 1, cache.mark()); // the newest on disk; more may follow
    expect(cache.lookup('key', 1)).toEqual(['inc_5']);
    expect(cache.lookup('key', 2)).toBeNull();
    cache.added('key', 'inc_2'); // below the oldest known: inc_3 or inc_4 may lie between
    expect(cache.lookup('key', 2)).toBeNull();
    cache.added('key', 'inc_7'); // above it: the two newest are known
    expect(cache.lookup('key', 2)).toEqual(['inc_7', 'inc_5']);
  });

  it('a read that overlapped an eviction is not complete', () => {
    const cache = new RefCache(freshFrom('inc_9'), 1);
    const token = cache.mark();
    cache.added('other', 'inc_a'); // fresh: cached
    cache.added('third', 'inc_b');
    cache.added('fourth', 'inc_c'); // evicts "other" (a capacity of 1 keeps one ref at least, two at most)
    cache.loaded('key', ['inc_1'], 20, token);
    expect(cache.lookup('key', 1)).toEqual(['inc_1']);
    expect(cache.lookup('key', 20)).toBeNull();
  });
});

describe('key filter', () => {
  async function* keys(n: number): AsyncIterable<string> {
    for (let i = 0; i < n; i++) yield `wh-${i}`;
  }
  const settle = () => new Promise((r) => setTimeout(r, 20));

  it('says "maybe" until its scan is done, then "no" only for keys it never saw', async () => {
    const filter = new KeyFilter(() => keys(10_000));
    expect(filter.mayHave('wh-absent')).toBe(true); // starts the scan
    await settle();
    for (let i = 0; i < 10_000; i += 997) expect(filter.mayHave(`wh-${i}`)).toBe(true);
    filter.add('wh-later');
    expect(filter.mayHave('wh-later')).toBe(true);
    let falsePositives = 0;
    for (let i = 0; i < 10_000; i++) if (filter.mayHave(`absent-${i}`)) falsePositives++;
    expect(falsePositives).toBeLessThan(10);
  });

  it('a scan that fails answers "maybe" and is tried again', async () => {
    let calls = 0;
    const errors: unknown[] = [];
    const filter = new KeyFilter(
      async function* () {
        calls++;
        if (calls === 1) throw new Error('disk');
        yield 'k';
      },
      (err) => errors.push(err),
    );
    expect(filter.mayHave('x')).toBe(true);
    await settle();
    expect(errors).toHaveLength(1);
    expect(filter.mayHave('x')).toBe(true); // a second scan
    await settle();
    expect(filter.mayHave('x')).toBe(false);
    expect(filter.mayHave('k')).toBe(true);
  });
});
