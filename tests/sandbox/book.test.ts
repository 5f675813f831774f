// The simulators' books (src/sandbox/book.ts): every record by any of its keys, and, given a
// retention, the oldest retired records forgotten past it while open ones stay.
import { describe, expect, it } from 'vitest';
import { Book } from '../../src/sandbox/book.js';

interface Rec {
  id: string;
  key: string;
  done: boolean;
}

const rec = (i: number, done: boolean, key = `k${i}`): Rec => ({ id: `r${i}`, key, done });

describe('Book', () => {
  it('keeps every record without a retention', () => {
    const book = new Book<Rec, 'id' | 'key'>({ id: (r) => r.id, key: (r) => r.key });
    for (let i = 0; i < 1_000; i++) book.add(rec(i, true));
    expect(book.size).toBe(1_000);
    expect(book.by('id', 'r0')).toHaveLength(1);
  });

  it('forgets the oldest retired records past its retention, from the list and from every index', () => {
    const book = new Book<Rec, 'id' | 'key'>(
      { id: (r) => r.id, key: (r) => r.key },
      { keep: 4, retired: (r) => r.done },
    );
    // r0 and r2 stay open; the others are done. r5 shares its key with r1.
    for (let i = 0; i < 4; i++) book.add(rec(i, i !== 0 && i !== 2));
    expect(book.size).toBe(4);
    book.add(rec(4, true));
    // At 4 + a quarter: the oldest done record goes (r1); open r0 and r2 stay.
    expect(book.all().map((r) => r.id)).toEqual(['r0', 'r2', 'r3', 'r4']);
    book.add(rec(5, true, 'k1'));
    // Again: r3 goes.
    expect(book.all().map((r) => r.id)).toEqual(['r0', 'r2', 'r4', 'r5']);
    expect(book.by('id', 'r1')).toEqual([]);
    expect(book.by('key', 'k1').map((r) => r.id)).toEqual(['r5']);
    expect(book.by('key', 'k3')).toEqual([]);
    expect(book.by('id', 'r0')).toHaveLength(1);
  });

  it('never forgets an open record, and does not rescan on every add when most are open', () => {
    const retired = { calls: 0 };
    const book = new Book<Rec, 'id'>(
      { id: (r) => r.id },
      {
        keep: 4,
        retired: (r) => {
          retired.calls++;
          return r.done;
        },
      },
    );
    for (let i = 0; i < 100; i++) book.add(rec(i, false));
    expect(book.size).toBe(100);
    // A pass each time the book grew by a quarter: the passes' lengths sum geometrically, to about
    // five calls per record in all (one pass per add would be 100 passes, about 5,000 calls).
    expect(retired.calls).toBeLessThan(600);
  });

  it('starts afresh at clear', () => {
    const book = new Book<Rec, 'id'>({ id: (r) => r.id }, { keep: 2, retired: (r) => r.done });
    for (let i = 0; i < 10; i++) book.add(rec(i, false));
    book.clear();
    for (let i = 0; i < 3; i++) book.add(rec(i, true));
    expect(book.all().map((r) => r.id)).toEqual(['r1', 'r2']);
  });
});
