import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebhookReceiver } from '../../src/sandbox/index.js';
import { WebhookConfig } from '../../src/providers/webhook/config.js';
import { WebhookProvider } from '../../src/providers/webhook/webhook.js';
import { ManualClock } from '../../src/domain/clock.js';
import { validateOutbound } from '../helpers/schemas.js';
import { failure, INCIDENT_URL, makeIncident, requestFor, WEBHOOK_SECRET, webhookSpec } from './support.js';

let receiver: WebhookReceiver;
let hook: WebhookProvider;
const clock = new ManualClock(Date.parse('2026-11-23T10:01:00.000Z'));
const HEADERS = { 'X-Team-Channel': '#payments-oncall', Authorization: 'Bearer chat-gateway-token-0004' };

beforeAll(async () => {
  receiver = await WebhookReceiver.start({ port: 0, secret: WEBHOOK_SECRET });
  const overrides = { payments: { url: `${receiver.url}/teams/payments` } };
  const spec = webhookSpec(`${receiver.url}/hooks/chat`, { secret: WEBHOOK_SECRET, headers: HEADERS });
  hook = new WebhookProvider('chatops', new WebhookConfig(spec, overrides), { clock });
});
afterAll(async () => {
  await hook.close();
  await receiver.stop();
});
beforeEach(() => receiver.reset());

const signal = (): AbortSignal => AbortSignal.timeout(5_000);

describe('webhook - signed JSON POSTs to the receiver', () => {
  it('posts the incident-router/v1 body, signed, with the configured headers', async () => {
    const incident = makeIncident();
    expect(await hook.send(requestFor(hook, 'trigger', incident), signal())).toEqual({
      status: 200,
      ref: null,
    });
    const [got] = await receiver.waitFor(1);
    expect(got?.signatureValid).toBe(true);
    expect(got?.headers['x-incident-router-signature']).toBe(
      `v1=${createHmac('sha256', WEBHOOK_SECRET)
        .update(got?.rawBody ?? '')
        .digest('hex')}`,
    );
    expect(got?.headers['x-team-channel']).toBe('#payments-oncall');
    expect(got?.headers['authorization']).toBe('Bearer chat-gateway-token-0004');
    expect(got?.headers['content-type']).toBe('application/json');
    expect(got?.path).toBe('/hooks/chat');
    expect(got?.body).toEqual({
      version: 'incident-router/v1',
      action: 'trigger',
      sent_at: '2026-11-23T10:01:00.000Z',
      incident: {
        id: incident.id,
        correlation_id: incident.correlation_id,
        fingerprint: incident.fingerprint,
        provider_key: incident.provider_key,
        state: 'triggered',
        severity: 'critical',
        title: incident.title,
        service: 'payment-service',
        team: 'platform',
        occurrences: 1,
        opened_at: incident.opened_at,
        last_seen: incident.last_seen,
        url: INCIDENT_URL,
      },
    });
    expect(validateOutbound('webhook-incident', got?.body)).toEqual([]);
  });

  it('sends acknowledge and resolve, each valid; an escalated, unacknowledged incident shows as escalated', async () => {
    const base = makeIncident();
    await hook.send(requestFor(hook, 'trigger', { ...base, escalated: true }), signal());
    await hook.send(
      requestFor(hook, 'acknowledge', { ...base, state: 'acknowledged', escalated: true }),
      signal(),
    );
    await hook.send(requestFor(hook, 'resolve', { ...base, state: 'resolved' }), signal());
    const got = await receiver.waitFor(3);
    expect(got.map((g) => (g.body as { action: string }).action)).toEqual([
      'trigger',
      'acknowledge',
      'resolve',
    ]);
    expect(got.map((g) => (g.body as { incident: { state: string } }).incident.state)).toEqual([
      'escalated',
      'acknowledged',
      'resolved',
    ]);
    for (const g of got) {
      expect(g.signatureValid).toBe(true);
      expect(validateOutbound('webhook-incident', g.body)).toEqual([]);
    }
  });

  it("posts to a team's own URL for that team", async () => {
    const incident = makeIncident({ team: 'payments' });
    expect(hook.target('payments').url).toBe(`${receiver.url}/teams/payments`);
    await hook.send(requestFor(hook, 'trigger', incident), signal());
    expect((await receiver.waitFor(1))[0]?.path).toBe('/teams/payments');
  });

  it('answers a note locally: the v1 body has no note action', async () => {
    expect(await hook.send(requestFor(hook, 'note', makeIncident(), 'hi'), signal())).toEqual({
      status: 204,
      ref: null,
    });
    expect(receiver.requests()).toEqual([]);
  });

  it('is refused (auth_error) by a receiver with another secret, and never names either secret', async () => {
    const wrong = new WebhookProvider(
      'chatops',
      new WebhookConfig(webhookSpec(receiver.url, { secret: 'another-secret-value-0005' }), {}),
    );
    try {
      const err = await failure(wrong.send(requestFor(wrong, 'trigger', makeIncident()), signal()));
      expect(err).toMatchObject({ reason: 'auth_error', retryable: false, status: 401 });
      expect(err.message).toContain('invalid signature');
      expect(err.message).not.toContain('another-secret-value-0005');
    } finally {
      await wrong.close();
    }
  });

  it('cuts a service name over the schema limit of 128', async () => {
    await hook.send(requestFor(hook, 'trigger', makeIncident({ service: 's'.repeat(300) })), signal());
    const [got] = await receiver.waitFor(1);
    expect(validateOutbound('webhook-incident', got?.body)).toEqual([]);
  });
});
