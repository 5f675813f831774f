// Provider events (webhooks) applied by the incident core: one batch with the replay mark, the
// provider mark and the learned provider-side id; stale and illegal ones recorded, never applied.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { Delivery, Incident } from '../../src/domain/incident.js';
import { LifecycleBus, type LifecycleEvent } from '../../src/incidents/lifecycle.js';
import {
  learnExternalId,
  nextMark,
  staleReason,
  type ProviderChange,
  type ProviderEvent,
} from '../../src/incidents/provider-events.js';
import { Incidents } from '../../src/incidents/incidents.js';
import { LevelDbState } from '../../src/state/leveldb.js';
import type { CompiledPolicy } from '../../src/policy/compile.js';
import { IdGenerator, Store } from '../../src/store/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { freshDir, incident } from '../store/fixtures.js';

const ack: ProviderChange = { kind: 'transition', action: 'acknowledge', note: null, detail: null };
const ev = (overrides: Partial<ProviderEvent> = {}): ProviderEvent => ({
  provider: 'pagerduty',
  eventId: 'e1',
  webhookId: 'pagerduty:w1',
  occurredAtMs: 1_000,
  externalId: 'QPD1',
  actor: 'Pat',
  ...overrides,
});

describe('provider events - pure rules', () => {
  it('a transition older than the newest applied event of that provider is stale; notes never are', () => {
    const mark = { at: 2_000, event_id: 'e0' };
    expect(staleReason(ack, ev(), mark)).toContain('before the last applied pagerduty event e0');
    expect(staleReason(ack, ev({ occurredAtMs: 2_000 }), mark)).toBeNull(); // same instant: in order
    expect(staleReason(ack, ev({ occurredAtMs: null }), mark)).toBeNull();
    expect(staleReason(ack, ev(), undefined)).toBeNull();
    expect(staleReason({ kind: 'timeline', type: 'note', message: 'm' }, ev(), mark)).toBeNull();
  });

  it('the mark only moves forward', () => {
    expect(nextMark(ev(), undefined)).toEqual({ at: 1_000, event_id: 'e1' });
    expect(nextMark(ev(), { at: 1_000, event_id: 'e0' })).toBeNull();
    expect(nextMark(ev({ occurredAtMs: 1_001 }), { at: 1_000, event_id: 'e0' })).toEqual({
      at: 1_001,
      event_id: 'e1',
    });
    expect(nextMark(ev({ occurredAtMs: null }), undefined)).toBeNull();
  });

  it('a hold learns the provider-side id; a new one replaces it and is indexed too', () => {
    const hold = {
      provider: 'pagerduty',
      type: 'pagerduty' as const,
      route: 'r',
      state: 'open' as const,
      since: '',
    };
    expect(learnExternalId(hold, 'Q1')).toBe('pagerduty:Q1');
    expect(learnExternalId(hold, 'Q1')).toBeNull();
    expect(learnExternalId(hold, 'Q2')).toBe('pagerduty:Q2');
    expect(hold).toMatchObject({ external_id: 'Q2' });
    expect(learnExternalId(undefined, 'Q1')).toBeNull();
    expect(learnExternalId(hold, null)).toBeNull();
  });

  it('no hold yet: only the event that created the provider incident is indexed, by its type', () => {
    expect(learnExternalId(undefined, 'Q1', 'pagerduty')).toBe('pagerduty:Q1');
    expect(learnExternalId(undefined, 'Q1', null)).toBeNull();
    expect(learnExternalId(undefined, null, 'pagerduty')).toBeNull();
  });
});

describe('provider events - applied by the incident core', () => {
  let store: Store;
  let remove: () => Promise<void>;
  let service: Incidents;
  let state: LevelDbState;
  let events: LifecycleEvent[];
  let enqueued: Delivery[];
  const clock = new ManualClock(Date.parse('2026-11-23T12:00:00Z'));

  beforeEach(async () => {
    const fresh = await freshDir();
    remove = fresh.remove;
    store = await Store.open(fresh.dir, { clock });
    const lifecycle = new LifecycleBus();
    events = [];
    enqueued = [];
    lifecycle.subscribe({ incident: (e) => events.push(e) });
    state = new LevelDbState(store);
    service = new Incidents({
      state,
      ids: new IdGenerator(clock),
      clock,
      lifecycle,
      logger: silentLogger(),
      metrics: new Metrics(),
      policy: () => ({ stamp: { version: 'v7', revision: 'r' } }) as CompiledPolicy,
    });
    const open = (provider: string, type: 'pagerduty' | 'opsgenie') => ({
      provider,
      type,
      route: 'critical-everywhere',
      state: 'open' as const,
      since: '',
    });
    const seed: Incident = incident({
      id: 'inc_1',
      holds: { pagerduty: open('pagerduty', 'pagerduty'), opsgenie: open('opsgenie', 'opsgenie') },
    });
    await store.commit(store.transaction().putIncident(seed));
  });
  afterEach(async () => {
    await state.idle();
    await store.close();
    await remove();
  });

  it('applies a change with its replay mark, provider mark and learned id in one batch; a replay is refused inside the same section', async () => {
    const [first, again] = await Promise.all([
      service.applyProviderEvent('inc_1', ack, ev()),
      service.applyProviderEvent('inc_1', ack, ev()),
    ]);
    expect(first).toMatchObject({ result: 'applied', incident: { state: 'acknowledged' } });
    if (first.result === 'applied') enqueued.push(...first.deliveries);
    expect(again).toEqual({ result: 'replay' });
    expect(await store.seenWebhook('pagerduty:w1')).toBe(true);
    expect(await store.providerMark('inc_1', 'pagerduty')).toEqual({ at: 1_000, event_id: 'e1' });
    expect(await store.incidentIdsByRef('pagerduty:QPD1')).toEqual(['inc_1']);
    const stored = (await store.getIncident('inc_1'))!;
    expect(stored.holds['pagerduty']).toMatchObject({ state: 'acknowledged', external_id: 'QPD1' });
    expect(enqueued.map((d) => [d.action, d.candidates, d.origin])).toEqual([
      ['acknowledge', ['opsgenie'], 'pagerduty'],
    ]);
    const [entry] = (await store.timeline('inc_1')).slice(-1);
    expect(entry).toMatchObject({
      type: 'acknowledged',
      actor: 'Pat',
      provider: 'pagerduty',
      source_event_id: 'e1',
      policy_version: 'v7',
      message: 'acknowledge in pagerduty by Pat; syncing opsgenie',
    });
    expect(events).toEqual([
      expect.objectContaining({
        kind: 'acknowledged',
        source: 'pagerduty',
        details: { action: 'acknowledge', source_event_id: 'e1' },
      }),
    ]);
  });

  it('a stale change is recorded and ignored: state, marks and deliveries stay', async () => {
    await service.applyProviderEvent('inc_1', ack, ev({ occurredAtMs: 5_000 }));
    const unack: ProviderChange = { kind: 'transition', action: 'unacknowledge', note: null, detail: null };
    const stale = await service.applyProviderEvent(
      'inc_1',
      unack,
      ev({ webhookId: 'pagerduty:w2', eventId: 'e2', occurredAtMs: 4_000 }),
    );
    expect(stale).toMatchObject({ result: 'stale', incident: { state: 'acknowledged' } });
    expect(await store.seenWebhook('pagerduty:w2')).toBe(true);
    expect(await store.providerMark('inc_1', 'pagerduty')).toEqual({ at: 5_000, event_id: 'e1' });
    expect((await store.timeline('inc_1')).at(-1)).toMatchObject({
      type: 'stale_event',
      source_event_id: 'e2',
    });
    // Another provider's clock is its own: OpsGenie's older event is not stale against PagerDuty's.
    const og = await service.applyProviderEvent(
      'inc_1',
      unack,
      ev({ provider: 'opsgenie', webhookId: 'o1', eventId: 'o1', occurredAtMs: 1 }),
    );
    expect(og).toMatchObject({ result: 'applied', incident: { state: 'triggered' } });
    expect(events.map((e) => e.kind)).toEqual(['acknowledged', 'triggered']);
  });

  it('notes go on the timeline only; observations only learn; illegal changes are refused on the timeline', async () => {
    const note = await service.applyProviderEvent(
      'inc_1',
      { kind: 'timeline', type: 'note', message: 'note in pagerduty by Pat: hi' },
      ev(),
    );
    expect(note).toMatchObject({ result: 'noted', incident: { state: 'triggered' } });
    const seen = await service.applyProviderEvent(
      'inc_1',
      { kind: 'observe' },
      ev({ provider: 'opsgenie', webhookId: 'o', externalId: 'A1' }),
    );
    expect(seen).toMatchObject({ result: 'observed' });
    expect((await store.getIncident('inc_1'))!.holds['opsgenie']!.external_id).toBe('A1');
    await service.applyProviderEvent(
      'inc_1',
      { kind: 'transition', action: 'resolve', note: null, detail: 'alert deleted' },
      ev({ webhookId: 'r', eventId: 'r' }),
    );
    const refused = await service.applyProviderEvent(
      'inc_1',
      ack,
      ev({ webhookId: 'late', eventId: 'late', occurredAtMs: 9_000 }),
    );
    expect(refused).toMatchObject({
      result: 'refused',
      reason: 'a resolved incident cannot be acknowledged',
    });
    expect((await store.timeline('inc_1')).map((e) => `${e.type}: ${e.message}`)).toEqual([
      'note: note in pagerduty by Pat: hi',
      'resolved: resolve in pagerduty by Pat (alert deleted); syncing opsgenie',
      'transition_refused: acknowledge in pagerduty by Pat refused: a resolved incident cannot be acknowledged',
    ]);
    expect(events.map((e) => e.kind)).toEqual(['resolved']);
  });
});
