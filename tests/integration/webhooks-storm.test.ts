// Duplicated, reordered and concurrent webhooks: state follows the newest real event of each
// provider; replays are answered 200 and change nothing; stale and illegal ones are on the timeline.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { waitFor } from '../helpers/app.js';
import { useSimulators } from '../helpers/sandbox.js';
import {
  opsGenieEvent,
  pagerDutyEvent,
  postOpsGenie,
  postPagerDuty,
  startHarness,
  type Harness,
} from '../webhooks/support.js';

let sandbox: Sandbox;
let h: Harness;

useSimulators((s) => (sandbox = s));
beforeEach(async () => {
  h = await startHarness(sandbox);
});
afterEach(async () => h.stop());

async function openEverywhere(service: string) {
  const incident = await h.openEverywhere({ title: `Queue stuck on ${service}`, service_name: service });
  const pd = sandbox.pagerduty.incident(incident.provider_key)!;
  return { incident, pd: { id: pd.id, incident_key: incident.provider_key } };
}

const at = (base: number, seconds: number) => new Date(base + seconds * 1000).toISOString();

async function timeline(id: string) {
  const detail = (await (await fetch(`${h.url}/api/v1/incidents/${id}`)).json()) as any;
  return detail.timeline as {
    type: string;
    message: string;
    provider: string | null;
    source_event_id: string | null;
  }[];
}

describe('webhooks - duplicated and out-of-order deliveries', () => {
  it('in sequence: replays answer 200, older events are stale, illegal ones refused, all on the timeline', async () => {
    const { incident, pd } = await openEverywhere('payment-service');
    const t0 = Date.now();
    const send = (type: string, seconds: number, webhookId: string, id = webhookId) =>
      postPagerDuty(h.url, pagerDutyEvent(type, pd, { occurredAt: at(t0, seconds), id }), { webhookId });

    expect((await send('incident.acknowledged', 1, 'w-ack-1')).body).toMatchObject({
      result: 'applied',
      state: 'acknowledged',
    });
    expect(await send('incident.acknowledged', 1, 'w-ack-1')).toMatchObject({
      status: 200,
      body: { result: 'replay' },
    });
    expect((await send('incident.unacknowledged', 0, 'w-unack-old')).body).toMatchObject({
      result: 'stale',
      state: 'acknowledged',
    });
    expect((await send('incident.resolved', 3, 'w-resolve')).body).toMatchObject({
      result: 'applied',
      state: 'resolved',
    });
    expect((await send('incident.acknowledged', 2, 'w-ack-late')).body).toMatchObject({
      result: 'stale',
      state: 'resolved',
    });
    expect((await send('incident.acknowledged', 4, 'w-ack-after')).body).toMatchObject({
      result: 'refused',
      state: 'resolved',
    });
    // OpsGenie: a replay of the same Close, and an unacknowledge older than it. Minutes ahead, so that
    // OpsGenie's own webhooks for our sync (stamped now) are older than both.
    const close = opsGenieEvent('Close', {
      alias: incident.provider_key,
      updatedAtMs: t0 + 300_000,
      username: 'olga',
    });
    expect((await postOpsGenie(h.url, close)).body).toMatchObject({ result: 'unchanged', state: 'resolved' });
    expect((await postOpsGenie(h.url, close)).body).toMatchObject({ result: 'replay' });
    const unack = opsGenieEvent('UnAcknowledge', { alias: incident.provider_key, updatedAtMs: t0 + 240_000 });
    expect((await postOpsGenie(h.url, unack)).body).toMatchObject({ result: 'stale', state: 'resolved' });

    await waitFor(async () => sandbox.opsgenie.alert(incident.provider_key)?.status === 'closed');
    await h.engine.idle();
    const entries = await timeline(incident.id);
    const mine = entries.filter((e) => e.source_event_id?.startsWith('w-'));
    expect(mine.map((e) => [e.source_event_id, e.type])).toEqual([
      ['w-ack-1', 'acknowledged'],
      ['w-unack-old', 'stale_event'],
      ['w-resolve', 'resolved'],
      ['w-ack-late', 'stale_event'],
      ['w-ack-after', 'transition_refused'],
    ]);
    expect(mine[3]!.message).toContain('before the last applied pagerduty event w-resolve');
    expect(mine[4]!.message).toBe(
      'acknowledge in pagerduty by Pat Responder refused: a resolved incident cannot be acknowledged',
    );
    expect(entries.filter((e) => e.type === 'stale_event' && e.provider === 'opsgenie')).toHaveLength(1);
    expect(h.events.map((e) => e.kind)).toEqual(['triggered', 'acknowledged', 'resolved']);
    expect(await h.webhookCount('pagerduty', 'replay')).toBe(1);
    expect(await h.webhookCount('opsgenie', 'replay')).toBe(1);
  });

  it('a concurrent storm of copies and reorderings ends in the newest real event, applied once', async () => {
    const { incident, pd } = await openEverywhere('inventory-service');
    const t0 = Date.now();
    const events = [
      { type: 'incident.acknowledged', s: 1, id: 's-ack-1' },
      { type: 'incident.acknowledged', s: 2, id: 's-ack-2' },
      { type: 'incident.unacknowledged', s: 0.5, id: 's-unack-old' },
      { type: 'incident.resolved', s: 3, id: 's-resolve' },
    ];
    const sends = [...events, events[0]!, events[0]!, events[3]!, events[3]!, events[1]!];
    // Shuffled deterministically enough to differ from the real order; all in flight at once.
    const order = [3, 7, 0, 2, 5, 1, 8, 4, 6];
    const answers = await Promise.all(
      order.map((i) => {
        const e = sends[i]!;
        const body = pagerDutyEvent(e.type, pd, { occurredAt: at(t0, e.s), id: e.id });
        return postPagerDuty(h.url, body, { webhookId: e.id });
      }),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const results = answers.map((a) => a.body.result as string);
    expect(results.filter((r) => r === 'replay')).toHaveLength(5);
    expect(results.filter((r) => r === 'applied').length).toBeGreaterThanOrEqual(1);

    const final = (await h.incidents.get(incident.id))!;
    expect(final.state).toBe('resolved');
    await waitFor(async () => sandbox.opsgenie.alert(incident.provider_key)?.status === 'closed');
    await h.engine.idle();
    const entries = await timeline(incident.id);
    // Every distinct event left at most one entry; none twice.
    for (const e of events)
      expect(entries.filter((x) => x.source_event_id === e.id).length).toBeLessThanOrEqual(1);
    expect(entries.filter((x) => x.source_event_id === 's-resolve').map((x) => x.type)).toEqual(['resolved']);
    const kinds = h.events.map((e) => e.kind);
    expect(kinds.filter((k) => k === 'resolved')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'acknowledged').length).toBeLessThanOrEqual(1);
    expect(kinds.at(-1)).toBe('resolved');
    // One resolve to OpsGenie, never one to PagerDuty.
    expect(sandbox.opsgenie.requests().filter((r) => r.path.endsWith('/close'))).toHaveLength(1);
    expect(sandbox.pagerduty.requests().map((r) => (r.body as any).event_action)).toEqual(['trigger']);
  });

  it('both providers at once: an OpsGenie acknowledge and a PagerDuty resolve racing end resolved everywhere', async () => {
    const { incident, pd } = await openEverywhere('search');
    const t0 = Date.now();
    await Promise.all([
      postOpsGenie(h.url, opsGenieEvent('Acknowledge', { alias: incident.provider_key, updatedAtMs: t0 })),
      postPagerDuty(
        h.url,
        pagerDutyEvent('incident.resolved', pd, { occurredAt: at(t0, 0.1), id: 'race-resolve' }),
        {
          webhookId: 'race-resolve',
        },
      ),
    ]);
    expect((await h.incidents.get(incident.id))!.state).toBe('resolved');
    await waitFor(async () => sandbox.opsgenie.alert(incident.provider_key)?.status === 'closed');
    await h.engine.idle();
    await Promise.all([sandbox.pagerduty.webhooksIdle(), sandbox.opsgenie.webhooksIdle()]);
    expect((await h.incidents.get(incident.id))!.state).toBe('resolved');
    expect(h.events.filter((e) => e.kind === 'resolved')).toHaveLength(1);
  });
});
