// Matching a webhook to our incident and to the provider instance that sent it.
import { describe, expect, it } from 'vitest';
import type { Incident, ProviderHold } from '../../src/domain/incident.js';
import {
  findIncident,
  OPENED_AFTER_TOLERANCE_MS,
  pickInstance,
  type IncidentFinder,
} from '../../src/webhooks/match.js';
import { incident } from '../store/fixtures.js';

const KEY = 'ir-0123456789abcdef0123456789abcdef01234567';
const POLICY = {
  'pd-us': { type: 'pagerduty' },
  'pd-eu': { type: 'pagerduty' },
  opsgenie: { type: 'opsgenie' },
};

const hold = (provider: string, type: ProviderHold['type'], external_id?: string): ProviderHold => ({
  provider,
  type,
  route: 'r',
  state: 'open',
  since: '2026-01-01T00:00:00Z',
  ...(external_id ? { external_id } : {}),
});

function withHolds(id: string, ...holds: ProviderHold[]): Incident {
  return incident({ id, provider_key: KEY, holds: Object.fromEntries(holds.map((h) => [h.provider, h])) });
}

/** A five-line fake: refs → ids oldest first, as the store keeps them. */
function finder(incidents: Incident[], refs: Record<string, string[]>): IncidentFinder {
  return {
    incidentIdsByRef: async (ref, limit = 20) => [...(refs[ref] ?? [])].reverse().slice(0, limit),
    get: async (id) => incidents.find((i) => i.id === id),
  };
}

describe('webhooks - which incident', () => {
  const old = withHolds('inc_1', hold('pd-us', 'pagerduty', 'QOLD'));
  const current = withHolds('inc_2', hold('pd-us', 'pagerduty'));
  const f = finder([old, current], { [KEY]: ['inc_1', 'inc_2'], 'pagerduty:QOLD': ['inc_1'] });

  it('a learned provider-side id is exact, even for an older incident of the same key', async () => {
    expect((await findIncident(f, 'pagerduty', KEY, 'QOLD'))?.id).toBe('inc_1');
    expect((await findIncident(f, 'pagerduty', null, 'QOLD'))?.id).toBe('inc_1');
  });

  it('otherwise the newest incident of the key whose holds are not bound to another provider-side id', async () => {
    expect((await findIncident(f, 'pagerduty', KEY, 'QNEW'))?.id).toBe('inc_2');
    expect((await findIncident(f, 'pagerduty', KEY, null))?.id).toBe('inc_2');
    const bound = withHolds('inc_3', hold('pd-us', 'pagerduty', 'QTHIRD'));
    const g = finder([old, bound], { [KEY]: ['inc_1', 'inc_3'], 'pagerduty:QOLD': ['inc_1'] });
    // Neither fits the unknown id: the newest stands.
    expect((await findIncident(g, 'pagerduty', KEY, 'QUNKNOWN'))?.id).toBe('inc_3');
  });

  it('an incident with no hold of the type is taken last, unless the event created the provider incident', async () => {
    // inc_2's trigger never reached PagerDuty (it waited behind inc_1's resolve); inc_1's hold has
    // not learnt its PagerDuty id (no event of it seen yet).
    const paged = withHolds('inc_1', hold('pd-us', 'pagerduty'));
    const waiting = withHolds('inc_2', hold('opsgenie', 'opsgenie', 'og-2'));
    const g = finder([paged, waiting], { [KEY]: ['inc_1', 'inc_2'] });
    expect((await findIncident(g, 'pagerduty', KEY, 'QACK'))?.id).toBe('inc_1');
    // A creation event can overtake our record of the trigger that caused it: the newest.
    expect((await findIncident(g, 'pagerduty', KEY, 'QNEW', { creates: true }))?.id).toBe('inc_2');
    // Only incidents without a hold of the type: the newest of them, as before.
    const never = withHolds('inc_1', hold('opsgenie', 'opsgenie', 'og-1'));
    const h = finder([never, waiting], { [KEY]: ['inc_1', 'inc_2'] });
    expect((await findIncident(h, 'pagerduty', KEY, 'QACK'))?.id).toBe('inc_2');
    // Holds bound elsewhere rank below one without a hold.
    const bound = withHolds('inc_3', hold('pd-us', 'pagerduty', 'QTHIRD'));
    const k = finder([waiting, bound], { [KEY]: ['inc_2', 'inc_3'] });
    expect((await findIncident(k, 'pagerduty', KEY, 'QACK'))?.id).toBe('inc_2');
  });

  it('an incident that opened after the event happened is taken only when none open by then fits', async () => {
    // The key resolved and opened again: both PagerDuty holds unbound, inc_2 opened at 12:00:05.
    const first = {
      ...withHolds('inc_1', hold('pd-us', 'pagerduty')),
      opened_at: '2026-01-01T12:00:00.000Z',
    };
    const second = {
      ...withHolds('inc_2', hold('pd-us', 'pagerduty')),
      opened_at: '2026-01-01T12:00:05.000Z',
    };
    const g = finder([first, second], { [KEY]: ['inc_1', 'inc_2'] });
    const at = (iso: string) => ({ creates: true, occurredAtMs: Date.parse(iso) });
    // Created at 12:00:01 by PagerDuty's clock: inc_1's, though inc_2 is newer and fits.
    expect((await findIncident(g, 'pagerduty', KEY, 'QA', at('2026-01-01T12:00:01.000Z')))?.id).toBe('inc_1');
    // Within the clock tolerance of inc_2's opening, or after it: inc_2's.
    const edge = new Date(Date.parse(second.opened_at) - OPENED_AFTER_TOLERANCE_MS).toISOString();
    expect((await findIncident(g, 'pagerduty', KEY, 'QB', at(edge)))?.id).toBe('inc_2');
    expect((await findIncident(g, 'pagerduty', KEY, 'QB', at('2026-01-01T12:00:06.000Z')))?.id).toBe('inc_2');
    // No time: the newest, as before.
    expect((await findIncident(g, 'pagerduty', KEY, 'QB', { creates: true }))?.id).toBe('inc_2');
    // Dated before every incident of the key (a clock far behind ours): still the newest that fits.
    const bound = { ...first, holds: { 'pd-us': hold('pd-us', 'pagerduty', 'QOLD') } };
    const k = finder([bound, second], { [KEY]: ['inc_1', 'inc_2'] });
    expect((await findIncident(k, 'pagerduty', KEY, 'QB', at('2026-01-01T11:00:00.000Z')))?.id).toBe('inc_2');
  });

  it("a creation event asks for the key's newest incident as the state holds it now, anything else may take a replica's view", async () => {
    const asked: boolean[] = [];
    const recording: IncidentFinder = {
      incidentIdsByRef: async (ref, limit = 20, fresh = false) => {
        if (ref === KEY) asked.push(fresh);
        return f.incidentIdsByRef(ref, limit);
      },
      get: f.get,
    };
    await findIncident(recording, 'pagerduty', KEY, 'QNEW', { creates: true });
    expect(asked[0]).toBe(true);
    asked.length = 0;
    await findIncident(recording, 'pagerduty', KEY, 'QNEW');
    expect(asked[0]).toBe(false);
  });

  it('nothing by key or id: no incident', async () => {
    expect(await findIncident(f, 'pagerduty', 'ir-other', 'QX')).toBeNull();
    expect(await findIncident(f, 'opsgenie', null, null)).toBeNull();
  });
});

describe('webhooks - which provider instance', () => {
  it.each([
    ['the path names it', withHolds('i', hold('pd-us', 'pagerduty')), 'QA', 'pd-eu', 'pd-eu'],
    [
      'the hold that learned this id',
      withHolds('i', hold('pd-eu', 'pagerduty'), hold('pd-us', 'pagerduty', 'QA')),
      'QA',
      null,
      'pd-us',
    ],
    [
      'the first hold that has not learned one',
      withHolds('i', hold('pd-eu', 'pagerduty', 'QB'), hold('pd-us', 'pagerduty')),
      'QA',
      null,
      'pd-us',
    ],
    [
      'the first hold by name',
      withHolds('i', hold('pd-us', 'pagerduty', 'QC'), hold('pd-eu', 'pagerduty', 'QB')),
      'QA',
      null,
      'pd-eu',
    ],
    [
      'only holds of the type count',
      withHolds('i', hold('opsgenie', 'opsgenie'), hold('pd-us', 'pagerduty')),
      null,
      null,
      'pd-us',
    ],
  ])('%s', (_name, inc, externalId, explicit, expected) => {
    expect(pickInstance(inc, 'pagerduty', externalId, explicit, POLICY)).toBe(expected);
  });

  it('no hold of the type yet: the routes, then the policy, then the type name', () => {
    const routed = incident({
      id: 'i',
      routes: [{ name: 'r', mode: 'all', providers: ['opsgenie', 'pd-eu'] }],
    });
    expect(pickInstance(routed, 'pagerduty', null, null, POLICY)).toBe('pd-eu');
    const unrouted = incident({ id: 'i', routes: [] });
    expect(pickInstance(unrouted, 'pagerduty', null, null, POLICY)).toBe('pd-us');
    expect(pickInstance(unrouted, 'pagerduty', null, null, {})).toBe('pagerduty');
  });
});
