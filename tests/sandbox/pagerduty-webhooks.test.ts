import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  PagerDutySimulator,
  SimulatorError,
  WebhookReceiver,
  type ReceivedWebhook,
} from '../../src/sandbox/index.js';
import { send, statusChange, trigger } from './support.js';

const SECRET = 'lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK';
const FAST_RETRY = { attempts: 3, backoffMs: 10, timeoutMs: 500 };

let sidecar: WebhookReceiver;
let sim: PagerDutySimulator;

beforeEach(async () => {
  sidecar = await WebhookReceiver.start();
  sim = await PagerDutySimulator.start({
    webhook: { url: `${sidecar.url}/pd`, secret: SECRET },
    webhookRetry: FAST_RETRY,
  });
});
afterEach(async () => {
  await sim.stop();
  await sidecar.stop();
});

interface Envelope {
  event: {
    id: string;
    event_type: string;
    resource_type: string;
    occurred_at: string;
    agent: { type: string; summary: string } | null;
    client: unknown;
    data: Record<string, unknown>;
  };
}

const envelope = (w: ReceivedWebhook | undefined): Envelope => JSON.parse(w?.rawBody ?? '{}') as Envelope;
const hmac = (secret: string, body: string) =>
  `v1=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe('pagerduty simulator - V3 webhooks', () => {
  it('sends a signed incident.triggered when the API opens an incident, with the documented headers', async () => {
    await send(sim.eventsUrl, trigger('ir-abc'));
    const [hook] = await sidecar.waitFor(1);
    expect(hook?.headers['x-pagerduty-signature']).toBe(hmac(SECRET, hook?.rawBody ?? ''));
    expect(hook?.headers['content-type']).toBe('application/json');
    expect(hook?.headers['user-agent']).toBe('PagerDuty-Webhook/V3.0');
    expect(hook?.headers['x-webhook-id']).toMatch(/^[0-9a-f-]{36}$/);
    const { event } = envelope(hook);
    expect(event).toMatchObject({
      event_type: 'incident.triggered',
      resource_type: 'incident',
      client: null,
    });
    expect(event.data).toMatchObject({
      type: 'incident',
      status: 'triggered',
      incident_key: 'ir-abc',
      number: 1,
      title: 'Database connection failure on payment-service',
      urgency: 'high',
      service: { type: 'service_reference' },
    });
    expect(Date.parse(event.occurred_at)).not.toBeNaN();
  });

  it('describes the integration as agent when an acknowledge arrives through the Events API', async () => {
    await send(sim.eventsUrl, trigger('ir-abc'));
    await send(sim.eventsUrl, statusChange('acknowledge', 'ir-abc'));
    const hooks = await sidecar.waitFor(2);
    const ack = envelope(hooks[1]).event;
    expect(ack.event_type).toBe('incident.acknowledged');
    expect(ack.agent).toMatchObject({ type: 'inbound_integration_reference', summary: 'Events API v2' });
    expect(ack.data['status']).toBe('acknowledged');
  });

  it('sends no webhook for a folded trigger or a dropped event', async () => {
    await send(sim.eventsUrl, trigger('ir-abc'));
    await send(sim.eventsUrl, trigger('ir-abc'));
    await send(sim.eventsUrl, statusChange('resolve', 'ir-other'));
    await sim.webhooksIdle();
    expect(sidecar.received()).toHaveLength(1);
  });

  it('signs with every secret in force during a rotation', async () => {
    sim.configureWebhook({ url: `${sidecar.url}/pd`, secret: 'new-secret', additionalSecrets: [SECRET] });
    await send(sim.eventsUrl, trigger('ir-abc'));
    const [hook] = await sidecar.waitFor(1);
    const body = hook?.rawBody ?? '';
    expect(hook?.headers['x-pagerduty-signature']).toBe(`${hmac('new-secret', body)},${hmac(SECRET, body)}`);
  });

  it('sends a webhook for each human action in the UI, with a user as agent', async () => {
    await send(sim.eventsUrl, trigger('ir-abc'));
    const steps = [
      await sim.acknowledge('ir-abc'),
      await sim.unacknowledge('ir-abc'),
      await sim.escalate('ir-abc'),
      await sim.annotate('ir-abc', 'looking into it'),
      await sim.resolve('ir-abc'),
      await sim.reopen('ir-abc'),
    ];
    expect(steps.map((s) => s.delivery?.outcome)).toEqual(Array(6).fill('delivered'));
    const events = sidecar.received().map((w) => envelope(w).event);
    expect(events.map((e) => e.event_type)).toEqual([
      'incident.triggered',
      'incident.acknowledged',
      'incident.unacknowledged',
      'incident.escalated',
      'incident.annotated',
      'incident.resolved',
      'incident.reopened',
    ]);
    expect(events[1]?.agent).toMatchObject({ type: 'user_reference' });
    expect(events[4]?.data).toMatchObject({ type: 'incident_note', content: 'looking into it' });
    expect(events[6]?.data).toMatchObject({ status: 'triggered', incident_key: 'ir-abc' });
    expect(steps[5]?.incident.status).toBe('triggered');
  });

  it('refuses impossible UI moves and unknown incidents', async () => {
    await send(sim.eventsUrl, trigger('ir-abc'));
    await expect(sim.unacknowledge('ir-abc')).rejects.toMatchObject({ code: 'conflict' });
    await expect(sim.resolve('nope')).rejects.toBeInstanceOf(SimulatorError);
  });

  it('retries on 500 with the same X-Webhook-Id until the sidecar accepts', async () => {
    sidecar.injectFault({ kind: 'status', status: 500, times: 2 });
    await send(sim.eventsUrl, trigger('ir-abc'));
    await sim.webhooksIdle();
    const [delivery] = sim.webhooks();
    expect(delivery?.attempts.map((a) => a.status)).toEqual([500, 500, 200]);
    expect(delivery?.outcome).toBe('delivered');
    const ids = sidecar.requests().map((r) => r.headers['x-webhook-id']);
    expect(new Set(ids).size).toBe(1);
    expect(ids).toHaveLength(3);
  });

  it('retries a timeout and gives up after the last attempt; drops on a permanent 4xx', async () => {
    sidecar.injectFault({ kind: 'hang', times: 1 });
    sidecar.injectFault({ kind: 'status', status: 503 });
    await send(sim.eventsUrl, trigger('ir-abc'));
    await sim.webhooksIdle();
    const [failed] = sim.webhooks();
    expect(failed?.attempts.map((a) => a.status ?? a.error)).toEqual(['timeout', 503, 503]);
    expect(failed?.outcome).toBe('failed');
    sidecar.clearFaults();
    sidecar.injectFault({ kind: 'status', status: 401, times: 1 });
    await send(sim.eventsUrl, statusChange('acknowledge', 'ir-abc'));
    await sim.webhooksIdle();
    expect(sim.webhooks()[1]).toMatchObject({ outcome: 'dropped', attempts: [{ status: 401 }] });
  });

  it('names a refused connection by its code', async () => {
    const closed = await WebhookReceiver.start();
    const url = `${closed.url}/pd`;
    await closed.stop();
    sim.configureWebhook({ url, secret: SECRET });
    await send(sim.eventsUrl, trigger('ir-abc'));
    await sim.webhooksIdle();
    expect(sim.webhooks()[0]?.attempts.map((a) => a.error)).toEqual([
      'ECONNREFUSED',
      'ECONNREFUSED',
      'ECONNREFUSED',
    ]);
    expect(sim.webhooks()[0]?.outcome).toBe('failed');
  });

  it('sends API-driven webhooks only when webhooksForApiActions is on', async () => {
    const quiet = await PagerDutySimulator.start({
      webhook: { url: sidecar.url, secret: SECRET },
      webhooksForApiActions: false,
    });
    try {
      await send(quiet.eventsUrl, trigger('ir-q'));
      await send(quiet.eventsUrl, statusChange('acknowledge', 'ir-q'));
      await quiet.resolve('ir-q');
      await quiet.webhooksIdle();
      expect(quiet.webhooks().map((d) => d.eventType)).toEqual(['incident.resolved']);
    } finally {
      await quiet.stop();
    }
  });
});
