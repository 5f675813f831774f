// The LevelDB backend's record cache (src/state/record-cache.ts): recent records evicted oldest
// first, and the records of incidents with a delivery pending held until their deliveries are done,
// so the outbox, sending oldest first, never reads the store for a record after a large burst.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { Delivery } from '../../src/domain/incident.js';
import { LevelDbState } from '../../src/state/leveldb.js';
import { RecordCache } from '../../src/state/record-cache.js';
import { delivery, freshDir, incident } from '../store/fixtures.js';

const pending = (id: string, incidentId: string): Delivery =>
  delivery({ id, incident_id: incidentId, status: 'pending' });
const done = (id: string, incidentId: string): Delivery =>
  delivery({ id, incident_id: incidentId, status: 'done' });

describe('RecordCache', () => {
  // A limit of 2: the recent part keeps the newest record at least, two at most.
  it('keeps the newest recent records, two at most with a limit of 2', () => {
    const cache = new RecordCache(2, 10);
    for (const id of ['a', 'b', 'c']) cache.set(incident({ id }));
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')?.id).toBe('b');
    expect(cache.get('c')?.id).toBe('c');
  });

  it('holds a record while any of its deliveries is pending, then returns it to the recent part', () => {
    const cache = new RecordCache(2, 10);
    cache.set(incident({ id: 'a' }));
    cache.track('a', [pending('d1', 'a'), pending('d2', 'a')]);
    for (const id of ['b', 'c', 'd']) cache.set(incident({ id }));
    expect(cache.get('a')?.id).toBe('a');

    cache.set(incident({ id: 'a', title: 'newer' }));
    expect(cache.get('a')?.title).toBe('newer');

    cache.track('a', [done('d1', 'a')]);
    for (const id of ['e', 'f']) cache.set(incident({ id }));
    expect(cache.get('a')?.title).toBe('newer'); // d2 still pending

    cache.track('a', [done('d2', 'a')]); // released: the newest recent record now
    expect(cache.get('a')?.title).toBe('newer');
    for (const id of ['g', 'h']) cache.set(incident({ id }));
    expect(cache.get('a')).toBeUndefined();
  });

  it('sheds its recent records at rest and keeps those held for their deliveries', () => {
    const cache = new RecordCache(10, 10);
    cache.set(incident({ id: 'a' }));
    cache.track('a', [pending('d1', 'a')]);
    cache.set(incident({ id: 'b' }));
    cache.shed();
    expect([cache.get('a')?.id, cache.get('b'), cache.size]).toEqual(['a', undefined, 1]);
  });

  it('holds no more incidents than its hold limit, and forgets a held one on delete', () => {
    const cache = new RecordCache(2, 1);
    cache.track('a', [pending('d1', 'a')]);
    cache.set(incident({ id: 'a' }));
    cache.track('b', [pending('d2', 'b')]); // over the hold limit: recent only
    for (const id of ['b', 'c', 'd']) cache.set(incident({ id }));
    expect(cache.get('a')?.id).toBe('a');
    expect(cache.get('b')).toBeUndefined();

    cache.delete('a');
    expect(cache.get('a')).toBeUndefined();
    cache.track('a', [done('d1', 'a')]); // nothing held any more: no effect
    expect(cache.size).toBe(2);
  });

  it('prunes what it is told to from both parts', () => {
    const cache = new RecordCache(10, 5);
    cache.set(incident({ id: 'a', state: 'resolved' }));
    cache.track('b', [pending('d1', 'b')]);
    cache.set(incident({ id: 'b', state: 'resolved' }));
    cache.set(incident({ id: 'c' }));
    cache.prune((record) => record.state === 'resolved');
    expect([cache.get('a'), cache.get('b'), cache.get('c')?.id]).toEqual([undefined, undefined, 'c']);
  });
});

describe('LevelDB state: records of incidents with a delivery pending', () => {
  let remove: (() => Promise<void>) | undefined;
  let state: LevelDbState | undefined;
  afterEach(async () => {
    await state?.close();
    await remove?.();
  });

  it('are read from memory after a burst larger than the recent part, until their delivery is done', async () => {
    const fresh = await freshDir();
    remove = fresh.remove;
    state = await LevelDbState.open(fresh.dir, new ManualClock(Date.parse('2026-11-23T12:00:00Z')));
    const open = (n: number, status: Delivery['status']): Promise<unknown>[] =>
      Array.from({ length: n }, (_, i) =>
        state!.create(
          incident({ id: `inc_${status}_${i}` }),
          [delivery({ id: `d_${status}_${i}`, incident_id: `inc_${status}_${i}`, status })],
          [],
        ),
      );
    await Promise.all(open(6_000, 'pending'));
    await Promise.all(open(6_000, 'done'));
    const reads = vi.spyOn(state.store, 'getIncident');

    expect((await state.get('inc_pending_0'))?.id).toBe('inc_pending_0');
    expect(reads).not.toHaveBeenCalled();
    expect((await state.get('inc_done_0'))?.id).toBe('inc_done_0'); // evicted: read from the store
    expect(reads).toHaveBeenCalledTimes(1);

    // Its delivery done: back among the recent, and evicted by the next 5,000 (2,500 at least stay).
    await state.update('inc_pending_0', {}, () => ({
      change: {
        incident: null,
        deliveries: [done('d_pending_0', 'inc_pending_0')],
        audit: [],
        durable: true,
      },
      result: null,
    }));
    await Promise.all(open(5_000, 'failed'));
    reads.mockClear();
    expect((await state.get('inc_pending_0'))?.id).toBe('inc_pending_0');
    expect(reads).toHaveBeenCalledTimes(1);
  });

  // At rest the backend drops its caches (docs/runtime.md, "The heap at rest"): every answer after
  // it comes from disk and is the same.
  it('answers the same after shedding its caches: records, deliveries and provider marks', async () => {
    const fresh = await freshDir();
    remove = fresh.remove;
    state = await LevelDbState.open(fresh.dir, new ManualClock(Date.parse('2026-11-23T12:00:00Z')));
    const s = state;
    await s.create(incident({ id: 'inc_a' }), [pending('d_a', 'inc_a')], []);
    const mark = { at: 1_000, event_id: 'e1' };
    await s.update('inc_a', {}, (snap) => ({
      change: {
        incident: { ...snap.incident, title: 'changed' },
        deliveries: [done('d_a', 'inc_a')],
        audit: [],
        marks: { pagerduty: mark },
        durable: true,
      },
      result: null,
    }));
    const reads = vi.spyOn(s.store, 'getIncident');
    const seen = async (): Promise<unknown> =>
      s.update('inc_a', { deliveries: true, marks: true }, (snap) => ({
        change: null,
        result: [
          snap.incident.title,
          snap.incident.revision,
          snap.deliveries.map((d) => d.status),
          snap.marks,
        ],
      }));
    const before = await seen();
    expect(before).toEqual(['changed', 2, ['done'], { pagerduty: mark }]);
    expect(reads).not.toHaveBeenCalled();

    s.shed();
    expect(await seen()).toEqual(before);
    expect(reads).toHaveBeenCalledTimes(1); // the record, from disk once, then cached again
    expect((await s.get('inc_a'))?.title).toBe('changed');
    expect(reads).toHaveBeenCalledTimes(1);
  });
});
