import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { Incident } from '../../src/domain/incident.js';
import { StoreError } from '../../src/errors.js';
import { Store } from '../../src/store/store.js';
import { idAt } from '../../src/store/ids.js';
import { Transaction } from '../../src/store/transaction.js';
import { audit, delivery, freshDir, incident } from './fixtures.js';

let dir: string;
let remove: () => Promise<void>;
let store: Store;
const clock = new ManualClock(1_700_000_000_000);

beforeEach(async () => {
  ({ dir, remove } = await freshDir());
  store = await Store.open(dir, { clock });
});

afterEach(async () => {
  await store.close();
  await remove();
});

async function reopen(): Promise<void> {
  await store.close();
  store = await Store.open(dir, { clock });
}

async function put(...incidents: Incident[]): Promise<void> {
  const tx = new Transaction();
  for (const i of incidents) tx.putIncident(i);
  await store.commit(tx, { sync: true });
}

describe('store - round trips', () => {
  it('stores and reads back incidents, deliveries, breakers and webhook ids', async () => {
    const inc = incident({ id: 'inc_1' });
    const d = delivery({ id: 'd_1', incident_id: 'inc_1' });
    await store.commit(
      store.transaction().putIncident(inc).putDelivery(d).putBreaker('pagerduty', { kind: 'closed' }),
    );
    await store.markWebhook('wh-1');
    await reopen();
    expect(await store.getIncident('inc_1')).toEqual(inc);
    expect(await store.getDelivery('d_1')).toEqual(d);
    expect(await store.getBreaker('pagerduty')).toEqual({ kind: 'closed' });
    expect(await store.seenWebhook('wh-1')).toBe(true);
    expect(await store.seenWebhook('wh-2')).toBe(false);
    expect(await store.getIncident('nope')).toBeUndefined();
    expect(await store.getIncident('')).toBeUndefined();
    expect(await store.getDelivery('nope')).toBeUndefined();
    expect(await store.getBreaker('opsgenie')).toBeUndefined();
  });

  it('writes through the public batch when something else watches the database, and the same', async () => {
    // The writer skips abstract-level's batch bookkeeping only when nothing would see the batch
    // (src/store/writer.ts): a `write` listener takes the public path, which must store the same.
    const db = (store as unknown as { db: { on(e: string, f: (ops: unknown[]) => void): void } }).db;
    const seen: unknown[][] = [];
    db.on('write', (ops) => seen.push(ops));
    const inc = incident({ id: 'inc_1' });
    const d = delivery({ id: 'd_1', incident_id: 'inc_1' });
    await store.commit(store.transaction().putIncident(inc).putDelivery(d).indexIncidentRef('k', 'inc_1'));
    await store.markWebhook('wh-1');
    expect(seen.length).toBeGreaterThanOrEqual(2);
    await reopen();
    expect(await store.getIncident('inc_1')).toEqual(inc);
    expect(await store.getDelivery('d_1')).toEqual(d);
    expect(await store.listDeliveries('inc_1')).toEqual([d]);
    expect(await store.incidentIdsByRef('k')).toEqual(['inc_1']);
    expect(await store.seenWebhook('wh-1')).toBe(true);
  });

  it('answers refs and webhook ids written since start from memory, and the rest from disk', async () => {
    const fresh = `inc_${'z'.repeat(8)}`; // created after the store opened: newer than anything on disk
    await store.commit(store.transaction().indexIncidentRef('k', 'inc_1').indexIncidentRef('k', 'inc_2'));
    await store.markWebhook('wh-1');
    await reopen();
    expect(await store.seenWebhook('wh-1')).toBe(true);
    expect(await store.seenWebhook('wh-2')).toBe(false);
    await store.commit(store.transaction().indexIncidentRef('k', fresh).indexIncidentRef('k', 'inc_0'));
    expect(await store.incidentIdsByRef('k', 1)).toEqual([fresh]);
    expect(await store.incidentIdsByRef('k')).toEqual([fresh, 'inc_2', 'inc_1', 'inc_0']);
    expect(await store.incidentIdsByRef('k', 2)).toEqual([fresh, 'inc_2']);
    await store.markWebhook('wh-2');
    expect(await store.seenWebhook('wh-2')).toBe(true);
    expect(await store.incidentIdsByRef('nothing')).toEqual([]);
  });

  it("tells how long each batch took to commit, and whether it was fsync'd", async () => {
    await store.close();
    const seen: [number, boolean][] = [];
    store = await Store.open(dir, { clock, onCommit: (seconds, sync) => seen.push([seconds, sync]) });
    await put(incident({ id: 'inc_1' }));
    await store.commit(store.transaction().putBreaker('pagerduty', { kind: 'closed' }));
    expect(seen.map(([, sync]) => sync)).toEqual([true, false]);
    for (const [seconds] of seen) expect(seconds).toBeGreaterThanOrEqual(0);
    // Nothing to write, nothing committed.
    await store.commit(store.transaction());
    expect(seen).toHaveLength(2);
  });

  it('creates a missing, nested data directory', async () => {
    const nested = await Store.open(join(dir, 'a', 'b', 'data'));
    await nested.commit(nested.transaction().putIncident(incident({ id: 'inc_1' })));
    expect(await nested.getIncident('inc_1')).toBeDefined();
    await nested.close();
  });

  it('an empty transaction commits nothing and resolves', async () => {
    expect(await store.commit(new Transaction())).toEqual({ audit: [] });
  });
});

describe('store - open (dedup) index', () => {
  it('follows triggered → acknowledged → resolved → reopened, in memory and on disk', async () => {
    const base = incident({ id: 'inc_1', fingerprint: 'fp-a' });
    const steps: Array<[Incident['state'], string | undefined]> = [
      ['triggered', 'inc_1'],
      ['acknowledged', 'inc_1'],
      ['resolved', undefined],
      ['triggered', 'inc_1'],
      ['resolved', undefined],
    ];
    for (const [revision, [state, expected]] of steps.entries()) {
      await put({ ...base, state, revision: revision + 1 });
      expect(await store.openIncidentId('fp-a')).toBe(expected);
      await reopen();
      expect(await store.openIncidentId('fp-a')).toBe(expected);
      const open = await store.loadOpenIncidents();
      expect(open.map((o) => [o.fingerprint, o.incident.id, o.incident.state])).toEqual(
        expected ? [['fp-a', 'inc_1', state]] : [],
      );
    }
  });

  it('moves the entry when an open incident changes fingerprint', async () => {
    await put(incident({ id: 'inc_1', fingerprint: 'fp-old' }));
    await put(incident({ id: 'inc_1', fingerprint: 'fp-new', revision: 2 }));
    await reopen();
    expect(await store.openIncidentId('fp-old')).toBeUndefined();
    expect(await store.openIncidentId('fp-new')).toBe('inc_1');
  });

  it('a newer incident takes the fingerprint; resolving the older one leaves it alone', async () => {
    await put(incident({ id: 'inc_1', fingerprint: 'fp' }));
    await put(incident({ id: 'inc_2', fingerprint: 'fp' }));
    await put(incident({ id: 'inc_1', fingerprint: 'fp', state: 'resolved', revision: 2 }));
    await reopen();
    expect(await store.openIncidentId('fp')).toBe('inc_2');
  });

  it('keeps counts by state across transitions and restarts', async () => {
    await put(
      incident({ id: 'inc_1' }),
      incident({ id: 'inc_2' }),
      incident({ id: 'inc_3', state: 'resolved' }),
    );
    await put(incident({ id: 'inc_1', state: 'acknowledged', revision: 2 }));
    await put(incident({ id: 'inc_2', state: 'resolved', revision: 2 }));
    await put(incident({ id: 'inc_3', state: 'triggered', revision: 2 })); // reopened
    await put(incident({ id: 'inc_3', state: 'triggered', revision: 3, occurrences: 5 }));
    expect(await store.countIncidentsByState()).toEqual({ triggered: 1, acknowledged: 1, resolved: 1 });
    await reopen();
    expect(await store.countIncidentsByState()).toEqual({ triggered: 1, acknowledged: 1, resolved: 1 });
  });
});

describe('store - outbox', () => {
  it('keeps the pending index in step with delivery status, across a restart', async () => {
    const d1 = delivery({ id: 'd_1', incident_id: 'inc_1' });
    const d2 = delivery({ id: 'd_2', incident_id: 'inc_1', action: 'resolve' });
    const d3 = delivery({ id: 'd_3', incident_id: 'inc_2' });
    await store.commit(
      store
        .transaction()
        .putIncident(incident({ id: 'inc_1' }))
        .putDelivery(d1)
        .putDelivery(d2),
    );
    await store.commit(store.transaction().putDelivery(d3));
    await store.commit(store.transaction().putDelivery({ ...d1, status: 'done', attempts: 1 }), {
      sync: true,
    });
    await store.commit(store.transaction().putDelivery({ ...d3, status: 'failed' }));
    await store.commit(store.transaction().putDelivery({ ...d3, status: 'pending', attempts: 2 }));
    await reopen();
    expect((await store.loadPendingDeliveries()).map((d) => d.id)).toEqual(['d_2', 'd_3']);
    expect(await store.countPendingDeliveries()).toBe(2);
    expect((await store.listDeliveries('inc_1')).map((d) => [d.id, d.status])).toEqual([
      ['d_1', 'done'],
      ['d_2', 'pending'],
    ]);
    expect(await store.listDeliveries('inc_9')).toEqual([]);
  });
});

describe('store - timeline', () => {
  it('numbers entries per incident from 1, in order, and carries on after a restart', async () => {
    const first = await store.commit(
      store.transaction().appendAudit(audit('inc_1', 'opened')).appendAudit(audit('inc_2', 'opened')),
    );
    expect(first.audit.map((a) => [a.incident_id, a.seq])).toEqual([
      ['inc_1', 1],
      ['inc_2', 1],
    ]);
    const tx = store.transaction();
    for (let i = 0; i < 10; i++) tx.appendAudit(audit('inc_1', 'note', `note ${i}`));
    await store.commit(tx);
    await reopen();
    const after = await store.commit(store.transaction().appendAudit(audit('inc_1', 'resolved')));
    expect(after.audit[0]?.seq).toBe(12);
    const timeline = await store.timeline('inc_1');
    expect(timeline.map((a) => a.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(timeline.at(-1)).toMatchObject({ type: 'resolved', incident_id: 'inc_1' });
    expect(await store.timeline('inc_2')).toHaveLength(1);
    expect(await store.timeline('inc_')).toEqual([]);
  });

  it("after a restart, commits in flight together number each incident's entries once each, in order", async () => {
    const tx = store.transaction();
    for (let i = 0; i < 5; i++) tx.appendAudit(audit('inc_1', 'note', `before ${i}`));
    await store.commit(tx.appendAudit(audit('inc_2', 'opened')));
    await reopen();
    // Submitted without waiting: the last seqs of inc_1 and inc_2 are read while groups are written.
    const commits = Array.from({ length: 40 }, (_, i) =>
      store.commit(
        store
          .transaction()
          .appendAudit(audit('inc_1', 'note', `after ${i}`))
          .appendAudit(audit(i % 2 === 0 ? 'inc_2' : 'inc_3', 'note', `after ${i}`)),
      ),
    );
    await Promise.all(commits);
    const one = await store.timeline('inc_1');
    expect(one.map((a) => a.seq)).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));
    expect(one.slice(5).map((a) => a.message)).toEqual(Array.from({ length: 40 }, (_, i) => `after ${i}`));
    expect((await store.timeline('inc_2')).map((a) => a.seq)).toEqual(
      Array.from({ length: 21 }, (_, i) => i + 1),
    );
    expect((await store.timeline('inc_3')).map((a) => a.seq)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  });

  it('ignores a seq passed in at run time', async () => {
    const entry = { ...audit('inc_1', 'opened'), seq: 99 };
    const { audit: written } = await store.commit(store.transaction().appendAudit(entry));
    expect(written[0]?.seq).toBe(1);
    expect((await store.timeline('inc_1'))[0]?.seq).toBe(1);
  });
});

describe('store - listIncidents', () => {
  beforeEach(async () => {
    await put(
      incident({ id: 'inc_01', service: 'checkout', team: 'payments' }),
      incident({ id: 'inc_02', service: 'search', team: 'discovery', state: 'acknowledged' }),
      incident({ id: 'inc_03', service: 'checkout', team: 'payments', state: 'resolved' }),
      incident({ id: 'inc_04', service: 'checkout', team: 'payments' }),
      incident({ id: 'inc_05', service: 'search', team: 'discovery' }),
    );
  });

  const ids = (list: Incident[]): string[] => list.map((i) => i.id);

  it.each([
    [{}, ['inc_05', 'inc_04', 'inc_03', 'inc_02', 'inc_01']],
    [{ state: 'triggered' as const }, ['inc_05', 'inc_04', 'inc_01']],
    [{ state: 'acknowledged' as const }, ['inc_02']],
    [{ state: 'resolved' as const }, ['inc_03']],
    [{ service: 'checkout' }, ['inc_04', 'inc_03', 'inc_01']],
    [{ team: 'discovery' }, ['inc_05', 'inc_02']],
    [{ state: 'triggered' as const, team: 'payments' }, ['inc_04', 'inc_01']],
    [{ limit: 2 }, ['inc_05', 'inc_04']],
    [{ limit: 2, before: 'inc_04' }, ['inc_03', 'inc_02']],
    [{ state: 'triggered' as const, limit: 1, before: 'inc_05' }, ['inc_04']],
    [{ limit: 0 }, []],
  ])('filter %j', async (filter, expected) => {
    expect(ids(await store.listIncidents(filter))).toEqual(expected);
  });

  it('pages: `next` after a full page; a search that matches little stops reading and says where', async () => {
    expect(await store.listPage({ limit: 2 })).toMatchObject({ next: 'inc_04' });
    expect(await store.listPage({ limit: 10 })).toMatchObject({ next: null });
    // Three passed over (inc_05, inc_04, inc_03): a short page, and where to go on from.
    const short = await store.listPage({ search: 'discovery', limit: 10 }, 2);
    expect(ids(short.incidents)).toEqual(['inc_05']);
    expect(short.next).toBe('inc_03');
    const rest = await store.listPage({ search: 'discovery', limit: 10, before: 'inc_03' }, 2);
    expect(ids(rest.incidents)).toEqual(['inc_02']);
    expect(rest.next).toBeNull();
    const open = await store.listPage({ state: 'triggered', search: 'nothing', limit: 10 }, 2);
    expect(open).toEqual({ incidents: [], next: 'inc_04' });
  });
});

describe('store - atomic writes and validation', () => {
  it('refuses a value that cannot be stored, at the call that adds it, and writes nothing', async () => {
    const tx = store.transaction().putIncident(incident({ id: 'inc_1' }));
    expect(() => tx.appendAudit({ ...audit('inc_1', 'x'), details: { n: 1n } })).toThrow(StoreError);
    expect(() => tx.putIncident(incident({ id: 'bad!id' }))).toThrow(/must not contain "!"/);
    expect(() => tx.putIncident(incident({ id: '' }))).toThrow(StoreError);
    expect(() => tx.putDelivery(delivery({ id: 'd_1', incident_id: 'x!y' }))).toThrow(StoreError);
    await reopen();
    expect(await store.getIncident('inc_1')).toBeUndefined();
  });

  it('writes an incident with its deliveries and audit entries in one batch: all there after reopen', async () => {
    const tx = store.transaction().putIncident(incident({ id: 'inc_1' }));
    for (let i = 0; i < 50; i++)
      tx.putDelivery(delivery({ id: `d_${String(i).padStart(3, '0')}`, incident_id: 'inc_1' }));
    tx.appendAudit(audit('inc_1', 'opened'));
    await store.commit(tx, { sync: true });
    await reopen();
    expect(await store.getIncident('inc_1')).toBeDefined();
    expect(await store.listDeliveries('inc_1')).toHaveLength(50);
    expect(await store.loadPendingDeliveries()).toHaveLength(50);
    expect(await store.timeline('inc_1')).toHaveLength(1);
  });

  it('applies concurrent commits in call order', async () => {
    const commits = Array.from({ length: 300 }, (_, i) =>
      store.commit(
        store.transaction().putIncident(incident({ id: 'inc_1', occurrences: i + 1, revision: i + 1 })),
        { sync: i % 50 === 0 },
      ),
    );
    await Promise.all(commits);
    await reopen();
    expect((await store.getIncident('inc_1'))?.revision).toBe(300);
  });

  it('rejects commits after close', async () => {
    await store.close();
    await expect(store.commit(store.transaction().markWebhook('x'))).rejects.toThrow(/closed/);
    store = await Store.open(dir, { clock });
  });
});

describe('store - webhook ids', () => {
  it('prunes ids marked before the given time', async () => {
    await store.markWebhook('old');
    clock.advance(60_000);
    await store.commit(store.transaction().markWebhook('new'));
    clock.advance(30_000);
    expect(await store.pruneWebhookIds(clock.now() - 45_000)).toBe(1);
    expect(await store.seenWebhook('old')).toBe(false);
    expect(await store.seenWebhook('new')).toBe(true);
  });
});

describe('store - the open incidents at start', () => {
  it('reads each open incident from its index entry, current with its last write', async () => {
    const base = incident({ id: 'inc_1', fingerprint: 'fp-a' });
    await put(base);
    await put({ ...base, revision: 2, occurrences: 7, last_seen: '2026-11-24T15:00:05.000Z' });
    await put(incident({ id: 'inc_2', fingerprint: 'fp-b', state: 'resolved' }));
    await reopen();
    expect(await store.openSummaries()).toEqual([
      {
        id: 'inc_1',
        correlationId: base.correlation_id,
        fingerprint: 'fp-a',
        providerKey: base.provider_key,
        service: base.service,
        state: base.state,
        occurrences: 7,
        lastSeenMs: Date.parse('2026-11-24T15:00:05.000Z'),
      },
    ]);
  });

  it('reads an older store whose index holds ids alone, and heals an entry without its incident', async () => {
    const old = incident({ id: 'inc_old', fingerprint: 'fp-old', occurrences: 3 });
    await store.close();
    const { Level } = await import('level');
    const db = new Level<string, unknown>(dir, { keyEncoding: 'utf8', valueEncoding: 'json' });
    const open = db.sublevel<string, unknown>('open', { keyEncoding: 'utf8', valueEncoding: 'json' });
    const incidents = db.sublevel<string, unknown>('incidents', {
      keyEncoding: 'utf8',
      valueEncoding: 'json',
    });
    await incidents.put('inc_old', old);
    await open.put('fp-old', 'inc_old');
    await open.put('fp-gone', 'inc_gone');
    await db.close();
    store = await Store.open(dir, { clock });
    const summaries = await store.openSummaries();
    expect(summaries.map((s) => [s.fingerprint, s.id, s.occurrences])).toEqual([['fp-old', 'inc_old', 3]]);
    expect(await store.openIncidentId('fp-gone')).toBeUndefined();
  });
});

describe('store - recoveries', () => {
  it('keeps a recovery written with its resolve, and retention deletes it with that incident only', async () => {
    const t0 = Date.parse('2025-01-01T00:00:00Z');
    const resolvedBy = (i: Incident, line: string, at: string): Incident => ({
      ...i,
      revision: 2,
      state: 'resolved',
      resolved_at: at,
      recovery_line_at: line,
    });
    const first = incident({ id: `${idAt(t0)}a`, fingerprint: 'fp-r' });
    const second = incident({ id: `${idAt(t0)}b`, fingerprint: 'fp-s' });
    await put(first, second);
    await put(resolvedBy(first, '2025-01-01T00:00:50.000Z', '2025-01-01T00:01:00.000Z'));
    await put(resolvedBy(second, '2025-01-01T00:00:55.000Z', '2025-01-01T00:01:00.000Z'));
    // A later incident of fp-s, resolved by a later recovery, owns fp-s's recovery now.
    const later = incident({ id: `${idAt(t0 + 3_600_000)}c`, fingerprint: 'fp-s' });
    await put(later);
    await put(resolvedBy(later, '2025-01-01T01:00:30.000Z', '2025-01-01T01:01:00.000Z'));
    await reopen();
    expect(await store.loadRecoveries()).toEqual([
      ['fp-r', Date.parse('2025-01-01T00:00:50.000Z')],
      ['fp-s', Date.parse('2025-01-01T01:00:30.000Z')],
    ]);
    // Retention of the two first incidents: fp-r's recovery goes with its incident, fp-s's stays.
    expect(await store.pruneResolved(t0 + 30 * 60_000)).toBe(2);
    expect(await store.loadRecoveries()).toEqual([['fp-s', Date.parse('2025-01-01T01:00:30.000Z')]]);
  });
});
