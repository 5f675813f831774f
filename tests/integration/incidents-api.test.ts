// The incidents API: filters, detail, manual actions and their errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { get, post, startTestApp, waitFor, type TestApp, exposition } from '../helpers/app.js';

let sandbox: Sandbox;
let t: TestApp;
beforeAll(async () => {
  sandbox = await startSandbox();
  t = await startTestApp({}, { sandbox });
});
afterAll(async () => {
  await t.stop();
  await sandbox.stop();
});

describe('incidents API', () => {
  it('lists with filters, shows one with timeline and deliveries, and refuses what does not apply', async () => {
    const a = await post(`${t.url}/api/v1/alerts`, {
      title: 'DB down',
      source: 'database',
      severity: 'critical',
      service_name: 'payment-service',
    });
    const b = await post(`${t.url}/api/v1/alerts`, {
      title: 'Search slow',
      source: 'http',
      severity: 'high',
      service_name: 'search',
    });
    await waitFor(async () => (await get(`${t.url}/api/v1/health`)).body.deliveries_pending === 0);

    expect((await get(`${t.url}/api/v1/incidents`)).body.incidents).toHaveLength(2);
    expect(
      (await get(`${t.url}/api/v1/incidents?team=payments`)).body.incidents.map((i: { id: string }) => i.id),
    ).toEqual([a.body.incident_id]);
    expect(
      (await get(`${t.url}/api/v1/incidents?service=search`)).body.incidents.map((i: { id: string }) => i.id),
    ).toEqual([b.body.incident_id]);
    expect((await get(`${t.url}/api/v1/incidents?state=resolved`)).body.incidents).toEqual([]);
    expect((await get(`${t.url}/api/v1/incidents?state=sleeping`)).status).toBe(400);
    const ids = async (query: string): Promise<string[]> =>
      (await get(`${t.url}/api/v1/incidents?${query}`)).body.incidents.map((i: { id: string }) => i.id);
    expect(await ids('severity=high')).toEqual([b.body.incident_id]);
    expect(await ids('q=DB%20PAYMENT')).toEqual([a.body.incident_id]); // every word, any case
    // Every word must match. Not short ones like "db": ids are in the haystack, and a random one may hold it.
    expect(await ids('q=payment-service%20search')).toEqual([]);
    expect(await ids('provider=opsgenie')).toEqual([a.body.incident_id]);
    expect((await ids('provider=pagerduty')).sort()).toEqual([a.body.incident_id, b.body.incident_id].sort());
    expect((await get(`${t.url}/api/v1/incidents?severity=loud`)).status).toBe(400);
    expect((await get(`${t.url}/api/v1/incidents?limit=1`)).body).toMatchObject({
      incidents: [expect.anything()],
      next: expect.any(String),
    });

    const detail = (await get(`${t.url}/api/v1/incidents/${a.body.incident_id}`)).body;
    expect(detail).toMatchObject({
      state: 'triggered',
      severity: 'critical',
      team: 'payments',
      correlation_id: a.body.correlation_id,
    });
    expect(detail.deliveries.map((d: { status: string }) => d.status)).toEqual(['done', 'done']);

    const ack = await post(`${t.url}/api/v1/incidents/${a.body.incident_id}/acknowledge`, {
      note: 'looking',
      actor: 'alice',
    });
    expect(ack.body).toMatchObject({ changed: true, incident: { state: 'acknowledged' } });
    expect(
      ack.body.deliveries.map((d: { providers?: string[]; candidates: string[] }) => d.candidates[0]).sort(),
    ).toEqual(['opsgenie', 'pagerduty']);
    // Found by key: the two incidents reach PagerDuty in either order (in cluster mode the outbox
    // consumer sends them concurrently).
    await waitFor(
      async () =>
        sandbox.pagerduty.incidents().find((x) => x.dedupKey === detail.provider_key)?.status ===
          'acknowledged' &&
        sandbox.opsgenie.alerts().find((x) => x.alias === detail.provider_key)?.status === 'acked',
    );
    const again = await post(`${t.url}/api/v1/incidents/${a.body.incident_id}/acknowledge`, {});
    expect(again.body).toMatchObject({ changed: false, deliveries: [] });
    await post(`${t.url}/api/v1/incidents/${a.body.incident_id}/resolve`, {});
    const refused = await post(`${t.url}/api/v1/incidents/${a.body.incident_id}/acknowledge`, {});
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    const missing = await post(`${t.url}/api/v1/incidents/inc_nope/resolve`, {});
    expect(missing.status).toBe(404);
    const timeline = (await get(`${t.url}/api/v1/incidents/${a.body.incident_id}`)).body.timeline;
    expect(timeline.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(['opened', 'delivered', 'acknowledged', 'resolved', 'transition_refused']),
    );
    expect(timeline.find((e: { type: string }) => e.type === 'acknowledged').actor).toBe('alice');
  });

  it('rejects malformed alerts and events with 400 and reasons, and counts them', async () => {
    const bad = await post(`${t.url}/api/v1/alerts`, { title: '', severity: 'loud' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.errors.length).toBeGreaterThanOrEqual(3);
    const now = new Date().toISOString();
    // Raw JSON: an object literal's __proto__ would set a prototype instead of sending the key.
    const raw = `[{"timestamp":"${now}","service":"search","level":"info","message":"fine"},{"service":"search"},{"timestamp":"${now}","service":"search","level":"info","message":"x","attributes":{"__proto__":{"polluted":true}}}]`;
    const batch = await post(`${t.url}/api/v1/events`, raw);
    expect(batch.status).toBe(202);
    expect(batch.body.accepted).toBe(1);
    expect(batch.body.rejected).toEqual([
      { index: 1, errors: expect.arrayContaining(["must have required property 'timestamp'"]) },
      { index: 2, errors: ['forbidden key "attributes.__proto__"'] },
    ]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    // Nothing accepted: the error shape every endpoint uses, with the reasons in details.
    const none = await post(`${t.url}/api/v1/events`, [{ service: 'search' }]);
    expect(none.status).toBe(400);
    expect(none.body.error).toMatchObject({
      code: 'validation_failed',
      details: { accepted: 0, rejected: [{ index: 0, errors: expect.any(Array) }] },
    });
    const metrics = await exposition(t.url);
    expect(metrics).toMatch(/incident_router_events_invalid_total\{source="http"\} 3/);
    expect(metrics).toMatch(/incident_router_events_invalid_total\{source="alerts"\} 1/);
  });

  it('a resolve before the trigger could be sent withdraws it, and the timeline says nobody was paged', async () => {
    const wait = { kind: 'status', status: 429, retryAfterSec: 60 } as const;
    sandbox.pagerduty.injectFault(wait);
    sandbox.opsgenie.injectFault(wait);
    try {
      const a = await post(`${t.url}/api/v1/alerts`, {
        title: 'Ledger stuck',
        source: 'database',
        severity: 'critical',
        service_name: 'ledger',
      });
      const id = a.body.incident_id as string;
      await waitFor(
        async () => sandbox.pagerduty.requests().length > 0 && sandbox.opsgenie.requests().length > 0,
      );
      expect((await post(`${t.url}/api/v1/incidents/${id}/resolve`, { actor: 'alice' })).status).toBe(200);
      const detail = (await get(`${t.url}/api/v1/incidents/${id}`)).body;
      const resolved = detail.timeline.find((e: { type: string }) => e.type === 'resolved');
      expect(resolved.message).toBe(
        'resolve by alice; not paged (trigger withdrawn before it was sent): pagerduty, opsgenie',
      );
      expect(
        detail.deliveries.map((d: { action: string; status: string }) => `${d.action} ${d.status}`),
      ).toEqual(['trigger superseded', 'trigger superseded']);
    } finally {
      sandbox.pagerduty.clearFaults();
      sandbox.opsgenie.clearFaults();
    }
  });
});
