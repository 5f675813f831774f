// The webhooks as wired into the app (src/app.ts): in sandbox mode the simulators' webhooks point at
// the sidecar and are signed with PAGERDUTY_WEBHOOK_SECRET / OPSGENIE_WEBHOOK_TOKEN, or with fresh
// random ones when those are unset.
import { afterEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { get, post, startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { useSimulators } from '../helpers/sandbox.js';
import { pagerDutyEvent, postOpsGenie, postPagerDuty } from '../webhooks/support.js';

const SECRET = 'app-test-pagerduty-secret+/=';
const TOKEN = 'app-test-opsgenie-token-0123';

let sandbox: Sandbox;
let t: TestApp;

useSimulators((s) => (sandbox = s));
afterEach(async () => t.stop());

async function openCritical(service: string) {
  const { body } = await post(`${t.url}/api/v1/alerts`, {
    title: `Disk full on ${service}`,
    source: 'disk',
    severity: 'critical',
    service_name: service,
  });
  const detail = await waitFor(async () => {
    const d = (await get(`${t.url}/api/v1/incidents/${body.incident_id}`)).body;
    return d.holds?.pagerduty?.state === 'open' && d.holds?.opsgenie?.state === 'open' ? d : null;
  });
  await t.app.parts.engine.idle();
  await Promise.all([sandbox.pagerduty.webhooksIdle(), sandbox.opsgenie.webhooksIdle()]);
  return detail as { id: string; provider_key: string };
}

describe('webhooks - wired into the app', () => {
  it('sandbox without configured credentials: the simulators sign with generated ones and acknowledgements sync', async () => {
    t = await startTestApp({}, { sandbox, captureLogs: true });
    const incident = await openCritical('payment-service');
    const { delivery } = await sandbox.pagerduty.acknowledge(incident.provider_key);
    expect(delivery?.outcome).toBe('delivered');
    await waitFor(async () => sandbox.opsgenie.alert(incident.provider_key)?.status === 'acked');
    const detail = (await get(`${t.url}/api/v1/incidents/${incident.id}`)).body;
    expect(detail.state).toBe('acknowledged');
    expect(sandbox.pagerduty.requests().map((r) => (r.body as any).event_action)).toEqual(['trigger']);
    // Without the generated secret nobody else gets in.
    const forged = await postPagerDuty(
      t.url,
      pagerDutyEvent('incident.resolved', { id: 'Q', incident_key: incident.provider_key }),
      {
        secret: 'guess',
      },
    );
    expect(forged.status).toBe(401);
    const metrics = (await get(`${t.url}/api/v1/metrics`)).body;
    expect(metrics.webhooks.applied).toBeGreaterThanOrEqual(1);
    expect(metrics.webhooks.unauthorized).toBe(1);
    expect(t.logs()).toContain('disables the subscription');
  });

  it('configured credentials are the ones the simulators use and the endpoints require', async () => {
    t = await startTestApp(
      { PAGERDUTY_WEBHOOK_SECRET: SECRET, OPSGENIE_WEBHOOK_TOKEN: TOKEN },
      { sandbox, captureLogs: true },
    );
    const incident = await openCritical('auth-service');
    await sandbox.opsgenie.close(incident.provider_key);
    await waitFor(async () => sandbox.pagerduty.incident(incident.provider_key)?.status === 'resolved');
    const body = pagerDutyEvent(
      'incident.annotated',
      { id: 'Q', incident_key: null },
      {
        data: {
          type: 'incident_note',
          incident: { id: sandbox.pagerduty.incident(incident.provider_key)!.id },
          content: 'postmortem Tuesday',
        },
      },
    );
    expect((await postPagerDuty(t.url, body, { secret: SECRET })).body).toMatchObject({ result: 'noted' });
    expect((await postOpsGenie(t.url, '{}', { token: TOKEN })).status).toBe(400);
    expect((await postOpsGenie(t.url, '{}', { token: 'wrong' })).status).toBe(401);
    const detail = (await get(`${t.url}/api/v1/incidents/${incident.id}`)).body;
    expect(detail.state).toBe('resolved');
    expect(detail.timeline.map((e: { type: string }) => e.type)).toContain('note');
    expect(t.logs()).not.toContain(SECRET);
    expect(t.logs()).not.toContain(TOKEN);
  });
});
