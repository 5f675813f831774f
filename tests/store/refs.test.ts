// The `refs` index (incidents by what providers call them) and provider marks (stale webhooks).
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { freshDir, incident } from './fixtures.js';

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
});
