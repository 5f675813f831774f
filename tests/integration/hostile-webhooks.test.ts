// Issue 11, finding 5: PagerDuty webhook replay. Dedup used the X-Webhook-Id header, which the
// signature does not cover: a captured signed acknowledge sent again under a fresh header id
// re-acknowledged an incident that had been un-acknowledged in OpsGenie since.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
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
  h = await startHarness(sandbox, { wireSimulators: false });
});
afterEach(async () => h.stop());

describe('webhooks - replayed bodies', () => {
  it('a signed PagerDuty event sent again under a fresh X-Webhook-Id is a replay, not a second change', async () => {
    const incident = await h.openEverywhere({ title: 'Disk full', service_name: 'payment-service' });
    const pdId = sandbox.pagerduty.incident(incident.provider_key)!.id;
    const ack = pagerDutyEvent(
      'incident.acknowledged',
      { id: pdId, incident_key: incident.provider_key },
      { id: 'EVT-CAPTURED' },
    );
    expect(await postPagerDuty(h.url, ack, { webhookId: 'delivery-1' })).toMatchObject({
      body: { result: 'applied', state: 'acknowledged' },
    });
    const unack = await postOpsGenie(
      h.url,
      opsGenieEvent('UnAcknowledge', { alias: incident.provider_key, alertId: 'og-1' }),
    );
    expect(unack.body).toMatchObject({ result: 'applied', state: 'triggered' });
    for (const webhookId of ['delivery-2', 'delivery-3', undefined]) {
      const replay = await postPagerDuty(h.url, ack, webhookId === undefined ? {} : { webhookId });
      expect(replay).toMatchObject({ status: 200, body: { result: 'replay' } });
    }
    expect((await h.incidents.get(incident.id))!.state).toBe('triggered');
  });

  it('an event older than the replay window is refused as stale, whatever its ids', async () => {
    const incident = await h.openEverywhere({ title: 'Disk full', service_name: 'order-service' });
    const pdId = sandbox.pagerduty.incident(incident.provider_key)!.id;
    const old = pagerDutyEvent(
      'incident.acknowledged',
      { id: pdId, incident_key: incident.provider_key },
      { id: 'EVT-OLD', occurredAt: new Date(Date.now() - 4 * 24 * 3_600_000).toISOString() },
    );
    const res = await postPagerDuty(h.url, old, { webhookId: 'delivery-old' });
    expect(res).toMatchObject({ status: 200, body: { result: 'stale' } });
    expect(res.body.reason).toMatch(/beyond the 72 h replay window/);
    expect((await h.incidents.get(incident.id))!.state).toBe('triggered');
  });
});
