// An open incident's `open` index entry (src/store/layout.ts, `OpenEntry`) is written with the
// record when it changes, not by every write: a delivery's outcome or a provider's echo of our own
// trigger changes the record but not the entry. What a start reads from the entries stays right
// whatever was skipped: counts folded in, a state change, a write that takes the fingerprint.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { Incident } from '../../src/domain/incident.js';
import type { Change } from '../../src/state/backend.js';
import { LevelDbState } from '../../src/state/leveldb.js';
import { Transaction } from '../../src/store/transaction.js';
import { freshDir, incident } from '../store/fixtures.js';

const clock = new ManualClock(Date.parse('2026-11-23T12:00:00Z'));
const T0 = Date.parse('2025-01-01T00:00:00.000Z');
let dir: string;
let remove: () => Promise<void>;
let state: LevelDbState;
/** Keys of the `open` sublevel in each batch written since the last `watch`. */
let openWrites: string[][];

function watch(): void {
  openWrites = [];
  const db = (state.store as unknown as { db: { on(e: string, f: (ops: { key: unknown }[]) => void): void } })
    .db;
  db.on('write', (ops) =>
    openWrites.push(ops.map((op) => String(op.key)).filter((k) => k.startsWith('!open!'))),
  );
}

beforeEach(async () => {
  ({ dir, remove } = await freshDir());
  state = await LevelDbState.open(dir, clock);
  watch();
});
afterEach(async () => {
  await state.close();
  await remove();
});

async function reopen(): Promise<void> {
  await state.close();
  state = await LevelDbState.open(dir, clock);
  watch();
}

/** One change of the record, made from what it starts from. */
function change(id: string, edit: (current: Incident) => Incident): Promise<unknown> {
  return state.update(id, {}, ({ incident: current }) => {
    const next: Change = { incident: edit(current), deliveries: [], audit: [], durable: true };
    return { change: next, result: null };
  });
}

/** What a delivery's outcome changes: the provider holds it now. Nothing of the open entry. */
const held = (current: Incident): Incident => ({
  ...current,
  holds: {
    pagerduty: {
      provider: 'pagerduty',
      type: 'pagerduty',
      route: 'payments',
      state: 'open',
      since: '2025-01-01T00:00:01.000Z',
    },
  },
});

describe('the open entry of a LevelDB incident', () => {
  it('a transaction leaves it out when the version it replaces had the same one', () => {
    const before = incident({ id: 'inc_1' });
    const same = new Transaction().putIncident(held(before), before).ops()[0];
    expect(same).toMatchObject({ kind: 'incident', openUnchanged: true });
    const acked = { ...before, state: 'acknowledged' as const };
    expect(new Transaction().putIncident(acked, before).ops()[0]).toMatchObject({
      openUnchanged: false,
      openEntry: expect.stringContaining('"state":"acknowledged"'),
    });
    const counted = { ...before, occurrences: 3 };
    expect(new Transaction().putIncident(counted, before).ops()[0]).toMatchObject({
      openUnchanged: false,
      openEntry: expect.stringContaining('"occurrences":3'),
    });
    // Not told what it replaces: written, as before.
    expect(new Transaction().putIncident(before).ops()[0]).toMatchObject({
      openUnchanged: false,
      openEntry: expect.any(String),
    });
  });

  it('is written at creation and at each change of it, not at a change of the record alone', async () => {
    await state.create(incident({ id: 'inc_1', fingerprint: 'fp' }), [], []);
    await change('inc_1', held);
    await change('inc_1', (c) => ({ ...c, title: 'checkout: gateway timeouts (renamed)' }));
    await change('inc_1', (c) => ({
      ...c,
      state: 'acknowledged',
      acknowledged_at: '2025-01-01T00:01:00.000Z',
    }));
    expect(openWrites).toEqual([['!open!fp'], [], [], ['!open!fp']]);
    await reopen();
    expect(await state.openIncidents()).toEqual([
      expect.objectContaining({ id: 'inc_1', fingerprint: 'fp', state: 'acknowledged', occurrences: 1 }),
    ]);
  });

  it('is written when a change folds counted occurrences in, so a start reads them without their key', async () => {
    await state.create(incident({ id: 'inc_1', fingerprint: 'fp' }), [], []);
    await state.addOccurrences('inc_1', 4, T0 + 9_000);
    openWrites.length = 0;
    await change('inc_1', held); // the record's next write folds the 4 in
    expect(openWrites.flat()).toEqual(['!open!fp']);
    expect(await state.store.getCountsAhead('inc_1')).toBeUndefined();
    await reopen();
    expect(await state.openIncidents()).toEqual([
      expect.objectContaining({ id: 'inc_1', occurrences: 5, lastSeenMs: T0 + 9_000 }),
    ]);
  });

  it('is written by an unchanged write that takes the fingerprint back', async () => {
    // Two open incidents of one fingerprint (the dedup layer's bug, survived): the newer holds the
    // entry; once it resolves, the older one's next write takes the fingerprint, entry and all.
    await state.create(incident({ id: 'inc_1', fingerprint: 'fp' }), [], []);
    await state.create(incident({ id: 'inc_2', fingerprint: 'fp' }), [], []);
    await change('inc_2', (c) => ({ ...c, state: 'resolved', resolved_at: '2025-01-01T00:05:00.000Z' }));
    expect(await state.store.openIncidentId('fp')).toBeUndefined();
    openWrites.length = 0;
    await change('inc_1', held);
    expect(openWrites.flat()).toEqual(['!open!fp']);
    await reopen();
    expect(await state.store.openIncidentId('fp')).toBe('inc_1');
    expect(await state.openIncidents()).toEqual([
      expect.objectContaining({ id: 'inc_1', state: 'triggered' }),
    ]);
  });
});
