// Bad input on the webhook endpoints: refused credentials (401, counted, a warning that says which
// endpoint and why, nothing changed), malformed bodies (400), unknown incidents (202, unmatched),
// replays (200), oversized bodies (413), pings and unknown types (2xx, ignored).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signV1, type Sandbox } from '../../src/sandbox/index.js';
import { get } from '../helpers/app.js';
import { useSimulators } from '../helpers/sandbox.js';
import {
  OG_TOKEN,
  PD_SECRET,
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
afterEach(async () => h.stop());

const openIncident = (service = 'payment-service') =>
  h.openEverywhere({ title: `Timeouts on ${service}`, service_name: service });

const warnings = () =>
  h
    .logs()
    .split('\n')
    .filter((l) => l.includes('"level":"warn"'))
    .map((l) => JSON.parse(l) as { msg: string; endpoint?: string; reason?: string });

describe('webhooks - refused credentials', () => {
  beforeEach(async () => {
    h = await startHarness(sandbox, { wireSimulators: false });
  });

  it('PagerDuty: missing, wrong, malformed and unknown-version signatures are 401 and change nothing', async () => {
    const incident = await openIncident();
    const before = { ...(await h.incidents.get(incident.id))! };
    const timelineBefore = (await h.state.detail(incident.id))!.timeline;
    const body = pagerDutyEvent(
      'incident.acknowledged',
      { id: 'QPD1', incident_key: incident.provider_key },
      { id: 'EVT-SAME' },
    );
    const hex = signV1(body, [PD_SECRET]).slice(3);
    const attempts = [
      { secret: null },
      { secret: 'not-the-secret' },
      { signature: 'v1=zzzz' },
      { signature: `v2=${hex}` },
      { signature: signV1(`${body}\n`, [PD_SECRET]) }, // signed other bytes
    ];
    for (const options of attempts) {
      const res = await postPagerDuty(h.url, body, { ...options, webhookId: 'same-id' });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
    expect((await h.incidents.get(incident.id))!.state).toBe(before.state);
    expect((await h.state.detail(incident.id))!.timeline).toEqual(timelineBefore);
    expect(await h.state.seenWebhook('pagerduty:event:EVT-SAME')).toBe(false);
    expect(await h.webhookCount('pagerduty', 'unauthorized')).toBe(5);
    const warned = warnings().filter((w) => w.endpoint === '/api/v1/webhooks/pagerduty');
    expect(warned.map((w) => w.reason)).toEqual([
      'no X-PagerDuty-Signature header',
      'no v1= signature matches PAGERDUTY_WEBHOOK_SECRET',
      'X-PagerDuty-Signature has no well-formed v1=<64 hex> entry',
      'X-PagerDuty-Signature has no v1= entry',
      'no v1= signature matches PAGERDUTY_WEBHOOK_SECRET',
    ]);
    expect(warned[0]!.msg).toContain('POST /api/v1/webhooks/pagerduty with 401');
    expect(warned[0]!.msg).toContain('disables the subscription');
    // The same delivery, correctly signed, is then applied: refusals did not mark it.
    expect((await postPagerDuty(h.url, body, { webhookId: 'same-id' })).body).toMatchObject({
      result: 'applied',
    });
    expect(h.logs()).not.toContain(PD_SECRET);
  });

  it('PagerDuty: a rotation header (old and new secret) passes, and a sidecar configured with both accepts either', async () => {
    const incident = await openIncident();
    const body = pagerDutyEvent(
      'incident.annotated',
      { id: 'Q1', incident_key: null },
      {
        data: { type: 'incident_note', incident: { id: 'Q1' }, content: 'hello' },
      },
    );
    // Unknown PagerDuty incident id and no key: unmatched, but authenticated.
    const res = await postPagerDuty(h.url, body, { signature: signV1(body, ['retired-secret', PD_SECRET]) });
    expect(res.status).toBe(202);
    await h.stop();
    h = await startHarness(sandbox, { wireSimulators: false, pagerdutySecrets: ['new-secret', PD_SECRET] });
    const ack = pagerDutyEvent('incident.acknowledged', { id: 'Q2', incident_key: incident.provider_key });
    expect((await postPagerDuty(h.url, ack, { secret: 'new-secret' })).status).toBe(202); // other data dir: unmatched
    expect((await postPagerDuty(h.url, ack, { secret: 'other' })).status).toBe(401);
  });

  it('OpsGenie: a missing or wrong X-Webhook-Token is 401 and changes nothing', async () => {
    const incident = await openIncident();
    const body = opsGenieEvent('Close', { alias: incident.provider_key });
    expect((await postOpsGenie(h.url, body, { token: null })).status).toBe(401);
    expect((await postOpsGenie(h.url, body, { token: `${OG_TOKEN}x` })).status).toBe(401);
    expect((await h.incidents.get(incident.id))!.state).toBe('triggered');
    expect(await h.webhookCount('opsgenie', 'unauthorized')).toBe(2);
    const warned = warnings().filter((w) => w.endpoint === '/api/v1/webhooks/opsgenie');
    expect(warned.map((w) => w.reason)).toEqual([
      'no X-Webhook-Token header',
      'X-Webhook-Token does not match OPSGENIE_WEBHOOK_TOKEN',
    ]);
    expect(warned[0]!.msg).toContain('X-Webhook-Token');
    expect((await postOpsGenie(h.url, body)).body).toMatchObject({ result: 'applied', state: 'resolved' });
    expect(h.logs()).not.toContain(OG_TOKEN);
  });
});

describe('webhooks - an OpsGenie token rotation', () => {
  it('a sidecar configured with the old and the new token accepts either, and only those', async () => {
    const NEW_TOKEN = 'og-webhook-token-after-the-rotation';
    h = await startHarness(sandbox, { wireSimulators: false, opsgenieToken: `${NEW_TOKEN}, ${OG_TOKEN}` });
    const incident = await openIncident();
    const ack = opsGenieEvent('Acknowledge', { alias: incident.provider_key });
    expect((await postOpsGenie(h.url, ack, { token: `${NEW_TOKEN},${OG_TOKEN}` })).status).toBe(401);
    expect((await postOpsGenie(h.url, ack, { token: 'og-webhook-token-nobody-has-this' })).status).toBe(401);
    expect((await postOpsGenie(h.url, ack, { token: OG_TOKEN })).body).toMatchObject({ result: 'applied' });
    const close = opsGenieEvent('Close', { alias: incident.provider_key });
    expect((await postOpsGenie(h.url, close, { token: NEW_TOKEN })).body).toMatchObject({
      result: 'applied',
      state: 'resolved',
    });
    expect(await h.webhookCount('opsgenie', 'unauthorized')).toBe(2);
    expect(h.logs()).not.toContain(NEW_TOKEN);
    // Health says a rotation is under way (the old token is still to be dropped), never the tokens.
    const health = await get(`${h.url}/api/v1/health`);
    expect(health.body.webhooks).toMatchObject({
      opsgenie: { configured: true, rotating: true },
      pagerduty: { configured: true, rotating: false },
    });
    expect(JSON.stringify(health.body)).not.toContain(OG_TOKEN);
  });
});

describe('webhooks - not configured', () => {
  it('without OPSGENIE_WEBHOOK_TOKEN or PAGERDUTY_WEBHOOK_SECRET every webhook is refused, and the log says why', async () => {
    h = await startHarness(sandbox, { wireSimulators: false, opsgenieToken: null, pagerdutySecrets: [] });
    const og = await postOpsGenie(h.url, opsGenieEvent('Close', { alias: 'ir-x' }));
    const pd = await postPagerDuty(h.url, pagerDutyEvent('pagey.ping', { id: 'Q', incident_key: null }));
    expect([og.status, pd.status]).toEqual([401, 401]);
    expect((await get(`${h.url}/api/v1/health`)).body.webhooks).toMatchObject({
      opsgenie: { configured: false, rotating: false },
      pagerduty: { configured: false, rotating: false },
    });
    expect(warnings().map((w) => w.reason)).toEqual([
      'OPSGENIE_WEBHOOK_TOKEN is not configured, so every OpsGenie webhook is refused',
      'PAGERDUTY_WEBHOOK_SECRET is not configured, so every PagerDuty webhook is refused',
    ]);
    expect(await h.webhookCount('opsgenie', 'unauthorized')).toBe(1);
    expect(await h.webhookCount('pagerduty', 'unauthorized')).toBe(1);
  });
});

describe('webhooks - bodies, unknown incidents, replays', () => {
  beforeEach(async () => {
    h = await startHarness(sandbox, { wireSimulators: false });
  });

  it('malformed JSON after a valid signature is 400; so is a body that is not an envelope', async () => {
    const bad = '{"event": ';
    const res = await postPagerDuty(h.url, bad);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_json');
    expect((await postPagerDuty(h.url, '{"hello":1}')).body.error.code).toBe('validation_failed');
    expect((await postOpsGenie(h.url, '[1,2')).status).toBe(400);
    expect(await h.webhookCount('pagerduty', 'invalid')).toBe(2);
    expect(await h.webhookCount('opsgenie', 'invalid')).toBe(1);
  });

  it('an unknown incident is 202 and recorded as unmatched; its replay is 200', async () => {
    const body = pagerDutyEvent('incident.acknowledged', {
      id: 'QNOTOURS',
      incident_key: 'someone-elses-key',
    });
    const first = await postPagerDuty(h.url, body, { webhookId: 'wh-unknown' });
    expect(first).toMatchObject({ status: 202, body: { result: 'unmatched' } });
    expect(await postPagerDuty(h.url, body, { webhookId: 'wh-unknown' })).toMatchObject({
      status: 200,
      body: { result: 'replay' },
    });
    const og = await postOpsGenie(h.url, opsGenieEvent('Acknowledge', { alias: 'not-ours', alertId: 'a-9' }));
    expect(og.status).toBe(202);
    const list = (await (await fetch(`${h.url}/api/v1/webhooks/unmatched`)).json()) as any;
    expect(list.total).toBe(2);
    expect(list.recent.map((u: any) => [u.provider, u.event_type, u.provider_key, u.external_id])).toEqual([
      ['opsgenie', 'Acknowledge', 'not-ours', 'a-9'],
      ['pagerduty', 'incident.acknowledged', 'someone-elses-key', 'QNOTOURS'],
    ]);
    expect(h.unmatched.total).toBe(2);
    expect(await h.webhookCount('pagerduty', 'unmatched')).toBe(1);
    expect(h.logs()).toContain('matches no incident');
  });

  it('pings, unknown event types and unknown actions are 2xx and ignored', async () => {
    const ping = JSON.stringify({
      event: { id: 'p1', event_type: 'pagey.ping', resource_type: 'pagey', data: {} },
    });
    expect(await postPagerDuty(h.url, ping)).toMatchObject({ status: 200, body: { result: 'ignored' } });
    const future = pagerDutyEvent('incident.workflow.started', { id: 'Q', incident_key: 'k' });
    expect(await postPagerDuty(h.url, future)).toMatchObject({ status: 200, body: { result: 'ignored' } });
    const custom = opsGenieEvent('MyCustomAction', { alias: 'k' });
    expect(await postOpsGenie(h.url, custom)).toMatchObject({ status: 200, body: { result: 'ignored' } });
    expect(await h.webhookCount('pagerduty', 'ignored')).toBe(2);
  });

  it("a body over 256 KB is 413, counted; within PagerDuty's 55 KB guarantee is fine", async () => {
    const huge = pagerDutyEvent(
      'incident.annotated',
      { id: 'Q', incident_key: null },
      {
        data: { type: 'incident_note', incident: { id: 'Q' }, content: 'x'.repeat(300 * 1024) },
      },
    );
    const res = await postPagerDuty(h.url, huge);
    expect(res.status).toBe(413);
    expect(await h.webhookCount('pagerduty', 'too_large')).toBe(1);
    const big = pagerDutyEvent(
      'incident.annotated',
      { id: 'Q', incident_key: null },
      {
        data: { type: 'incident_note', incident: { id: 'Q' }, content: 'x'.repeat(55 * 1024) },
      },
    );
    expect((await postPagerDuty(h.url, big)).status).toBe(202);
  });

  it('a path may name the provider instance; an unknown one is 404', async () => {
    const incident = await openIncident();
    const body = pagerDutyEvent('incident.acknowledged', { id: 'QX', incident_key: incident.provider_key });
    expect((await postPagerDuty(h.url, body, { path: '/api/v1/webhooks/pagerduty/nope' })).status).toBe(404);
    expect((await postPagerDuty(h.url, body, { path: '/api/v1/webhooks/pagerduty/opsgenie' })).status).toBe(
      404,
    );
    const ok = await postPagerDuty(h.url, body, { path: '/api/v1/webhooks/pagerduty/pagerduty' });
    expect(ok.body).toMatchObject({ result: 'applied', state: 'acknowledged' });
  });
});
