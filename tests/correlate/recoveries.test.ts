// The recovery lines that resolved incidents (src/correlate/recoveries.ts) and what correlate makes
// of a failure line behind one.
import { describe, expect, it } from 'vitest';
import { correlate } from '../../src/correlate/correlate.js';
import { Recoveries } from '../../src/correlate/recoveries.js';
import type { Decision } from '../../src/domain/decision.js';

const paged = { resolves: null, paged: true, fingerprint: 'svc:db', service: 'svc' } as unknown as Decision;
const none = { get: () => undefined };
const admit = () => true;

describe('recoveries', () => {
  it('covers failures no newer than the latest recovery of the fingerprint', () => {
    const r = new Recoveries();
    r.remember('svc:db', 1_000);
    expect(r.covers('svc:db', 999)).toBe(true);
    expect(r.covers('svc:db', 1_000)).toBe(true);
    expect(r.covers('svc:db', 1_001)).toBe(false);
    expect(r.covers('other', 0)).toBe(false);
    r.remember('svc:db', 500); // an older recovery never moves it back
    expect(r.covers('svc:db', 1_000)).toBe(true);
    r.remember('svc:db', 2_000);
    expect(r.covers('svc:db', 1_500)).toBe(true);
  });

  it('never covers a line without a usable time, nor remembers one', () => {
    const r = new Recoveries();
    r.remember('svc:db', Number.NEGATIVE_INFINITY);
    expect(r.covers('svc:db', 0)).toBe(false);
    r.remember('svc:db', 1_000);
    expect(r.covers('svc:db', Number.NEGATIVE_INFINITY)).toBe(false);
    expect(r.covers('svc:db', Number.NaN)).toBe(false);
  });

  it('is bounded: the longest remembered go first', () => {
    const r = new Recoveries(2);
    r.remember('a', 10);
    r.remember('b', 10);
    r.remember('c', 10);
    expect([r.covers('a', 5), r.covers('b', 5), r.covers('c', 5)]).toEqual([false, true, true]);
  });

  it('correlate: a late failure with no open incident opens nothing; a newer one opens', () => {
    const r = new Recoveries();
    r.remember('svc:db', 1_000);
    expect(correlate(paged, 1_000, none, admit, r)).toEqual({ kind: 'late_failure', fingerprint: 'svc:db' });
    expect(correlate(paged, 1_001, none, admit, r)).toEqual({ kind: 'open', storm: false });
    // An open incident of the fingerprint takes it as a repeat, whatever its time.
    const ref = { lastEventMs: 0 };
    expect(correlate(paged, 10, { get: () => ref }, admit, r)).toMatchObject({ kind: 'repeat' });
  });
});
