// The `refs` index (incidents by what providers call them) and provider marks (stale webhooks).
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Store } from '../../src/store/store.js';
import { audit, freshDir, incident } from './fixtures.js';

let dir: string;
let remove: () => Promise<void>;
let store: Store;

beforeEach(async () => {
  ({ dir, remove } = await freshDir());
  store = await Store.open(dir);
});
afterEach(async () => {
  await store.close();
  await remove();
});

const KEY = 'ir-0123456789abcdef0123456789abcdef01234567';

describe('store - incident refs', () => {
  it('finds incidents by ref, newest first, limited, and survives a restart', async () => {
    const tx = store.transaction();
    for (const id of ['inc_a', 'inc_c', 'inc_b']) tx.indexIncidentRef(KEY, id);
    tx.indexIncidentRef('pagerduty:PGR0VU2', 'inc_b').indexIncidentRef(`${KEY}0`, 'inc_z');
    await store.commit(tx);
    expect(await store.incidentIdsByRef(KEY)).toEqual(['inc_c', 'inc_b', 'inc_a']);
    expect(await store.incidentIdsByRef(KEY, 1)).toEqual(['inc_c']);
    expect(await store.incidentIdsByRef('pagerduty:PGR0VU2')).toEqual(['inc_b']);
    expect(await store.incidentIdsByRef('pagerduty:PGR0VU')).toEqual([]); // a prefix is not a ref
    await store.close();
    store = await Store.open(dir);
    expect(await store.incidentIdsByRef(KEY)).toEqual(['inc_c', 'inc_b', 'inc_a']);
  });

  it('a ref that could never be stored finds nothing and is refused when written', async () => {
    expect(await store.incidentIdsByRef('')).toEqual([]);
    expect(await store.incidentIdsByRef('a!b')).toEqual([]);
    expect(() => store.transaction().indexIncidentRef('a!b', 'inc_1')).toThrow(/must not contain/);
  });

  it('a data directory from before the index is indexed once when opened', async () => {
    const tx = store.transaction().putIncident(
      incident({
        id: 'inc_old',
        provider_key: KEY,
        holds: {
          pagerduty: {
            provider: 'pagerduty',
            type: 'pagerduty',
            route: 'r',
            state: 'open',
            since: '',
            external_id: 'QOLD',
          },
        },
      }),
    );
    await store.commit(tx);
    await store.close();
    const db = new Level<string, unknown>(dir, { valueEncoding: 'json' });
    await db.sublevel('meta').del('refs_indexed');
    await db.close();
    store = await Store.open(dir);
    expect(await store.incidentIdsByRef(KEY)).toEqual(['inc_old']);
    expect(await store.incidentIdsByRef('pagerduty:QOLD')).toEqual(['inc_old']);
  });
});

describe('store - provider marks', () => {
  it('keeps the newest applied event per incident and provider instance', async () => {
    expect(await store.providerMark('inc_1', 'pagerduty')).toBeUndefined();
    await store.commit(
      store
        .transaction()
        .putProviderMark('inc_1', 'pagerduty', { at: 1_000, event_id: 'e1' })
        .putProviderMark('inc_1', 'pd-eu', { at: 2_000, event_id: 'e2' }),
    );
    expect(await store.providerMark('inc_1', 'pagerduty')).toEqual({ at: 1_000, event_id: 'e1' });
    expect(await store.providerMark('inc_1', 'pd-eu')).toEqual({ at: 2_000, event_id: 'e2' });
    expect(await store.providerMark('inc_2', 'pagerduty')).toBeUndefined();
  });

  // A burst larger than the ref cache (50,000) had every echo webhook do two range reads
  // (docs/performance.md, "Delivery path"): which incident its key names, and its provider marks.
  it('answers a key with an open incident, and the marks of an incident without any, with no range read', async () => {
    const OPEN = `${KEY}1`;
    const DONE = `${KEY}2`;
    await store.commit(
      store
        .transaction()
        .putIncident(incident({ id: 'inc_open', fingerprint: 'f-open', provider_key: OPEN }))
        .indexIncidentRef(OPEN, 'inc_open')
        .putIncident(
          incident({ id: 'inc_done', fingerprint: 'f-done', provider_key: DONE, state: 'resolved' }),
        )
        .indexIncidentRef(DONE, 'inc_done')
        .putProviderMark('inc_done', 'pagerduty', { at: 1_000, event_id: 'e1' }),
    );
    await store.close();
    store = await Store.open(dir); // nothing in the ref cache
    const subs = (store as unknown as { subs: { refs: object; providerEvents: object } }).subs;
    const refKeys = vi.spyOn(subs.refs as { keys: (range?: object) => unknown }, 'keys');
    // Range reads of one ref (the ref filter's scan of every key has no range).
    const refReads = (): number => refKeys.mock.calls.filter(([range]) => range !== undefined).length;
    const markReads = vi.spyOn(subs.providerEvents as { iterator: () => unknown }, 'iterator');

    expect(await store.incidentIdsByRef(OPEN, 1)).toEqual(['inc_open']);
    expect(refReads()).toBe(0);
    expect(await store.incidentIdsByRef(DONE, 1)).toEqual(['inc_done']); // resolved: the disk says
    expect(refReads()).toBe(1);

    expect(await store.providerMarks('inc_done')).toEqual({ pagerduty: { at: 1_000, event_id: 'e1' } });
    await new Promise((r) => setTimeout(r, 50)); // the marks filter's first scan, started by that question
    markReads.mockClear();
    expect(await store.providerMarks('inc_open')).toEqual({});
    expect(markReads).not.toHaveBeenCalled();
    await store.commit(
      store.transaction().putProviderMark('inc_open', 'pagerduty', { at: 2_000, event_id: 'e2' }),
    );
    expect(await store.providerMarks('inc_open')).toEqual({ pagerduty: { at: 2_000, event_id: 'e2' } });
    expect(markReads).toHaveBeenCalledTimes(1);
    expect(await store.providerMarks('inc_done')).toEqual({ pagerduty: { at: 1_000, event_id: 'e1' } });

    // Resolved, the key is the disk's again.
    await store.commit(
      store
        .transaction()
        .putIncident(
          incident({ id: 'inc_open', fingerprint: 'f-open', provider_key: OPEN, state: 'resolved' }),
        ),
    );
    expect(await store.incidentIdsByRef(OPEN, 1)).toEqual(['inc_open']);
    expect(refReads()).toBe(2);
  });

  // At rest the caches sized for bursts are dropped (docs/runtime.md, "The heap at rest"): what
  // they held is read from disk again, and nothing answers differently.
  it('sheds its caches at rest: refs are read again, audit seqs continue where they were', async () => {
    const DONE = `${KEY}3`;
    await store.commit(
      store
        .transaction()
        .putIncident(incident({ id: 'inc_x', fingerprint: 'f-x', provider_key: DONE, state: 'resolved' }))
        .indexIncidentRef(DONE, 'inc_x')
        .appendAudit(audit('inc_x', 'opened'))
        .appendAudit(audit('inc_x', 'resolved')),
    );
    const subs = (store as unknown as { subs: { refs: object } }).subs;
    const refKeys = vi.spyOn(subs.refs as { keys: (range?: object) => unknown }, 'keys');
    const refReads = (): number => refKeys.mock.calls.filter(([range]) => range !== undefined).length;
    expect(await store.incidentIdsByRef(DONE, 1)).toEqual(['inc_x']); // written since start: cached
    expect(refReads()).toBe(0);

    store.shed();
    expect(await store.incidentIdsByRef(DONE, 1)).toEqual(['inc_x']);
    expect(refReads()).toBe(1);
    expect(await store.incidentIdsByRef(DONE, 1)).toEqual(['inc_x']); // cached again
    expect(refReads()).toBe(1);
    const { audit: written } = await store.commit(store.transaction().appendAudit(audit('inc_x', 'note')));
    expect(written.map((a) => a.seq)).toEqual([3]);
    expect((await store.timeline('inc_x')).map((a) => a.seq)).toEqual([1, 2, 3]);
  });
});
