// Silences without a server: the service over a five-line fake store and a manual clock, the
// index, and the suppress stage's use of it (docs/policy-language.md, "Silences").
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { alertToInput } from '../../src/domain/log-event.js';
import { AppError } from '../../src/errors.js';
import { decide, NO_INCIDENTS } from '../../src/policy/decide.js';
import type { Silence, SilenceStore } from '../../src/silences/model.js';
import { parseCreate } from '../../src/silences/request.js';
import { Silences } from '../../src/silences/silences.js';
import { SilenceView } from '../../src/silences/view.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { shippedPolicy } from '../helpers/policy.js';

const T0 = Date.parse('2026-11-25T12:00:00Z');

class MemoryStore implements SilenceStore {
  readonly saved = new Map<string, Silence>();
  loadSilences = async (): Promise<Silence[]> => [...this.saved.values()];
  putSilence = async (s: Silence): Promise<void> => void this.saved.set(s.id, structuredClone(s));
  forgetSilence = async (id: string): Promise<void> => void this.saved.delete(id);
}

function service(clock = new ManualClock(T0), store = new MemoryStore()) {
  const silences = new Silences({
    store,
    clock,
    logger: silentLogger(),
    metrics: new Metrics(),
    verdicts: async () => new Map(),
    retentionMs: 86_400_000,
  });
  return { silences, clock, store };
}

const create = (body: Record<string, unknown>) =>
  parseCreate({ created_by: 'alice', comment: 'why', duration: '1h', ...body });

function refusedField(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return ((err as AppError).details as { field: string }).field;
  }
  throw new Error('not refused');
}

describe('silences - requests', () => {
  it('refuses what is wrong, naming the field', () => {
    expect(refusedField(() => create({ matchers: [{ fact: 'colour', value: 'x' }] }))).toBe(
      'matchers[0].fact',
    );
    expect(refusedField(() => create({ matchers: [{ fact: 'attributes', value: 'x' }] }))).toBe(
      'matchers[0].path',
    );
    expect(refusedField(() => create({ matchers: [], ends_at: '2026-02-30T00:00:00Z' }))).toBe('ends_at');
    expect(refusedField(() => create({ matchers: [], ends_at: '2026-12-01T00:00:00Z' }))).toBe('duration');
    expect(refusedField(() => create({ matchers: [], created_by: '' }))).toBe('created_by');
    expect(refusedField(() => create({ matchers: [], extra: 1 }))).toBe('extra');
  });

  it('a silence made of matchers that find the empty text needs force', async () => {
    const { silences } = service();
    const everything = create({ matchers: [{ fact: 'service', op: 'matches', value: 'x*' }] });
    await expect(silences.create(everything)).rejects.toMatchObject({ details: { field: 'matchers' } });
    // An optional fact narrows: events without a source never match it.
    await expect(
      silences.create(create({ matchers: [{ fact: 'source', op: 'matches', value: '.*' }] })),
    ).resolves.toMatchObject({ version: 1 });
  });
});

describe('silences - the service', () => {
  it('create, extend and expire: written first, each on its history, with the clock deciding the state', async () => {
    const { silences, clock, store } = service();
    const s = await silences.create(
      create({ matchers: [{ fact: 'service', value: 'api' }], duration: '30m' }),
    );
    expect(store.saved.get(s.id)).toEqual(s);
    expect(silences.silencing({ service: 'api', fingerprint: 'api:x' }, clock.now())?.id).toBe(s.id);
    clock.advance(20 * 60_000);
    const longer = await silences.change(s.id, {
      startsMs: null,
      endsMs: null,
      durationMs: 60 * 60_000,
      by: 'bob',
      comment: 'slipped',
    });
    expect(Date.parse(longer.ends_at)).toBe(clock.now() + 60 * 60_000);
    clock.advance(30 * 60_000);
    expect(silences.silencing({ service: 'api' }, clock.now())?.id).toBe(s.id);
    const { silence: ended } = await silences.expire(s.id, 'carol', 'fixed');
    expect(silences.silencing({ service: 'api' }, clock.now())).toBeNull();
    expect(ended.history.map((h) => `${h.action}:${h.by}`)).toEqual([
      'created:alice',
      'updated:bob',
      'expired:carol',
    ]);
    expect(store.saved.get(s.id)?.version).toBe(3);
    await expect(
      silences.change(s.id, { startsMs: null, endsMs: null, durationMs: 60_000, by: 'x', comment: 'y' }),
    ).rejects.toMatchObject({ code: 'conflict' });
  });

  it('a silence that ended longer ago than RETENTION is forgotten, in the store and the view', async () => {
    const { silences, clock, store } = service();
    const old = await silences.create(
      create({ matchers: [{ fact: 'service', value: 'a' }], duration: '1h' }),
    );
    clock.advance(2 * 3_600_000);
    const recent = await silences.create(
      create({ matchers: [{ fact: 'service', value: 'b' }], duration: '1h' }),
    );
    clock.advance(86_400_000 - 3_600_000 + 1); // `old` ended 1 day + 1 ms ago, `recent` 22 h ago
    expect(await silences.prune()).toBe(1);
    expect([...store.saved.keys()]).toEqual([recent.id]);
    expect(silences.list(null).map((s) => s.id)).toEqual([recent.id]);
    expect(() => silences.get(old.id)).toThrow(/no silence/);
  });

  it('a restart loads what was stored', async () => {
    const first = service();
    const s = await first.silences.create(create({ matchers: [{ fact: 'team', value: 'payments' }] }));
    const second = service(first.clock, first.store);
    await second.silences.start();
    second.silences.stop();
    expect(second.silences.silencing({ team: 'payments', service: 'pay' }, T0)?.id).toBe(s.id);
  });
});

describe('silences - the index', () => {
  const silence = (id: string, matchers: Silence['matchers'], ends = T0 + 3_600_000): Silence => ({
    id,
    matchers,
    starts_at: new Date(T0).toISOString(),
    ends_at: new Date(ends).toISOString(),
    created_by: 'a',
    comment: id,
    created_at: '',
    updated_at: '',
    version: 1,
    history: [],
  });

  it('finds the matching one among 1,000 by service, by fingerprint and unindexed; attributes by path', () => {
    const view = new SilenceView();
    for (let i = 0; i < 1_000; i++)
      view.put(silence(`s${i}`, [{ fact: 'service', op: 'equal', value: `svc-${i}` }]), true);
    view.put(silence('fp', [{ fact: 'fingerprint', op: 'equal', value: 'web:oom' }]), true);
    view.put(
      silence('attr', [{ fact: 'attributes', op: 'equal', path: '$.region', value: 'eu-west-1' }]),
      true,
    );
    expect(view.match({ service: 'svc-737', fingerprint: 'svc-737:x' }, T0)?.id).toBe('s737');
    expect(view.match({ service: 'web', fingerprint: 'web:oom' }, T0)?.id).toBe('fp');
    expect(
      view.match({ service: 'web', fingerprint: 'web:x', attributes: { region: 'eu-west-1' } }, T0)?.id,
    ).toBe('attr');
    expect(view.match({ service: 'web', fingerprint: 'web:x', attributes: { region: 'us' } }, T0)).toBeNull();
    expect(view.match({ service: 'svc-737' }, T0 + 3_600_000)).toBeNull(); // ends_at is exclusive
    expect(view.sweep(T0 + 3_600_000)).toHaveLength(1_002);
    expect(view.counts(T0 + 3_600_000)).toEqual({ active: 0, pending: 0, expired: 1_002 });
  });

  it('an older copy never replaces a newer one unless it is the store speaking', () => {
    const view = new SilenceView();
    view.put({ ...silence('x', []), version: 3 }, false);
    expect(view.put({ ...silence('x', []), version: 2 }, false)).toBe(false);
    expect(view.put({ ...silence('x', []), version: 2 }, true)).toBe(true);
  });
});

describe('silences - the suppress stage', () => {
  it('a matching silence suppresses a page and is named in the trace; resolves pass', async () => {
    const policy = (await shippedPolicy()).compiled;
    const { silences } = service();
    const s = await silences.create(create({ matchers: [{ fact: 'service', value: 'order-service' }] }));
    const input = (title: string) =>
      alertToInput({ title, source: 'http', severity: 'high', service_name: 'order-service' }, new Date(T0));
    const failing = await decide(input('connection refused'), policy, T0, NO_INCIDENTS, {
      explain: true,
      silences,
    });
    expect(failing).toMatchObject({ paged: false, suppressed: true, route: null });
    expect(failing.suppressed_by).toEqual({ rule: `silence:${s.id}`, reason: 'why', silence: s.id });
    const stage = failing.trace.find((x) => x.stage === 'suppress');
    expect(stage?.rules.at(-1)).toMatchObject({ name: `silence:${s.id}`, matched: true });
    const recovery = await decide(input('connection pool recovered'), policy, T0, NO_INCIDENTS, { silences });
    expect(recovery.resolves).toBe('order-service:db-connection');
    expect(recovery.suppressed).toBe(false);
  });
});
