// The LevelDB backend's occurrence write-back (src/state/leveldb.ts, "Counts apart"): an open
// incident's counts go to a small `counts` key instead of a rewrite of its record; every read adds
// them, the record's next write folds them in (deleting the key in the same batch), a reopened
// data directory still has them, and nothing is counted twice however writes and reads interleave.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { Incident } from '../../src/domain/incident.js';
import type { Change } from '../../src/state/backend.js';
import { LevelDbState } from '../../src/state/leveldb.js';
import { freshDir, incident } from '../store/fixtures.js';

const clock = new ManualClock(Date.parse('2026-11-23T12:00:00Z'));
const T0 = Date.parse('2025-01-01T00:00:00.000Z');
let dir: string;
let remove: () => Promise<void>;
let state: LevelDbState;

beforeEach(async () => {
  ({ dir, remove } = await freshDir());
  state = await LevelDbState.open(dir, clock);
});
afterEach(async () => {
  await state.close();
  await remove();
});

async function seed(overrides: Partial<Incident> & Pick<Incident, 'id'>): Promise<void> {
  await state.create(incident(overrides), [], []);
}

/** Acknowledges (a change of the record): what it started from is the result. */
function acknowledge(id: string): Promise<Incident | null> {
  return state.update(id, {}, ({ incident: current }) => {
    const change: Change = {
      incident: { ...current, state: 'acknowledged', acknowledged_at: new Date(clock.now()).toISOString() },
      deliveries: [],
      audit: [],
      durable: true,
    };
    return { change, result: current };
  });
}

async function reopen(): Promise<void> {
  await state.close();
  state = await LevelDbState.open(dir, clock);
}

describe('LevelDB state: occurrences counted apart from the record', () => {
  it('writes them to the counts key, not the record; reads, lists and a reopen add them', async () => {
    await seed({ id: 'inc_1' });
    await state.addOccurrences('inc_1', 4, T0 + 5_000);
    await state.addOccurrences('inc_1', 2, T0 + 3_000);

    const record = await state.store.getIncident('inc_1');
    expect(record).toMatchObject({ occurrences: 1, revision: 1, last_seen: '2025-01-01T00:00:00.000Z' });
    expect(await state.store.getCountsAhead('inc_1')).toEqual({ added: 6, last_seen: T0 + 5_000 });

    const expected = { occurrences: 7, last_seen: '2025-01-01T00:00:05.000Z' };
    expect(await state.get('inc_1')).toMatchObject(expected);
    expect((await state.list({})).incidents[0]).toMatchObject(expected);
    expect((await state.detail('inc_1'))?.incident).toMatchObject(expected);

    await reopen();
    expect(await state.get('inc_1')).toMatchObject(expected);
    expect(await state.openIncidents()).toEqual([
      expect.objectContaining({ id: 'inc_1', occurrences: 7, lastSeenMs: T0 + 5_000 }),
    ]);
  });

  it('the next write of the record folds them in and deletes the key in the same batch', async () => {
    await seed({ id: 'inc_1' });
    await state.addOccurrences('inc_1', 9, T0 + 1_000);
    const seen = await acknowledge('inc_1');
    expect(seen).toMatchObject({ occurrences: 10 });

    expect(await state.store.getIncident('inc_1')).toMatchObject({
      occurrences: 10,
      state: 'acknowledged',
      revision: 2,
      last_seen: '2025-01-01T00:00:01.000Z',
    });
    expect(await state.store.getCountsAhead('inc_1')).toBeUndefined();
    expect(await state.get('inc_1')).toMatchObject({ occurrences: 10 });
    await reopen();
    expect(await state.get('inc_1')).toMatchObject({ occurrences: 10, state: 'acknowledged' });
  });

  it('a read while the folding write is on its way to disk still has the counts', async () => {
    await seed({ id: 'inc_1' });
    await state.addOccurrences('inc_1', 5, T0 + 1_000);
    const acked = acknowledge('inc_1');
    // The change is submitted within a turn; its fsync'd batch takes longer than one.
    await new Promise((resolve) => setImmediate(resolve));
    expect(await state.get('inc_1')).toMatchObject({ occurrences: 6 });
    await acked;
    expect(await state.get('inc_1')).toMatchObject({ occurrences: 6, state: 'acknowledged' });
  });

  it('counts of one turn share a batch that lands before a record write folding them in', async () => {
    for (const id of ['inc_1', 'inc_2', 'inc_3']) await seed({ id });
    // Same turn: three write-backs, then an acknowledge of one of them that folds its count in.
    const writes = [
      state.addOccurrences('inc_1', 2, T0 + 1_000),
      state.addOccurrences('inc_2', 3, T0 + 1_000),
      state.addOccurrences('inc_3', 4, T0 + 1_000),
      acknowledge('inc_2'),
    ];
    await Promise.all(writes);
    expect(await state.store.getCountsAhead('inc_2')).toBeUndefined();
    expect(await state.store.getIncident('inc_2')).toMatchObject({ occurrences: 4, state: 'acknowledged' });
    expect(await state.store.getCountsAhead('inc_1')).toEqual({ added: 2, last_seen: T0 + 1_000 });
    await reopen();
    expect((await state.openIncidents()).map((r) => [r.id, r.occurrences]).sort()).toEqual([
      ['inc_1', 3],
      ['inc_2', 4],
      ['inc_3', 5],
    ]);
  });

  it('counts once when write-backs, record writes and reads interleave without waiting', async () => {
    await seed({ id: 'inc_1', storm: { folded: 0 } });
    const reads: Promise<Incident | undefined>[] = [];
    const writes: Promise<unknown>[] = [];
    let total = 1;
    for (let i = 0; i < 20; i++) {
      writes.push(state.addOccurrences('inc_1', i + 1, T0 + i));
      total += i + 1;
      if (i % 5 === 0) writes.push(acknowledge('inc_1'));
      reads.push(state.get('inc_1'));
    }
    await Promise.all(writes);
    // No read ever saw more than was counted by then, or a count going backwards.
    let previous = 0;
    for (const read of await Promise.all(reads)) {
      expect(read!.occurrences).toBeGreaterThanOrEqual(previous);
      expect(read!.occurrences).toBeLessThanOrEqual(total);
      previous = read!.occurrences;
    }
    expect(await state.get('inc_1')).toMatchObject({ occurrences: total, storm: { folded: total - 1 } });
    await reopen();
    expect(await state.get('inc_1')).toMatchObject({ occurrences: total, storm: { folded: total - 1 } });
  });

  it('an incident resolved before its write-back has its record rewritten, and no counts key', async () => {
    await seed({ id: 'inc_1', state: 'resolved', resolved_at: '2025-01-01T00:10:00.000Z' });
    await state.addOccurrences('inc_1', 3, T0 + 2_000);
    expect(await state.store.getIncident('inc_1')).toMatchObject({ occurrences: 4, revision: 2 });
    expect(await state.store.getCountsAhead('inc_1')).toBeUndefined();
  });
});
