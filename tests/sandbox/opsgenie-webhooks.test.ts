import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OpsGenieSimulator, WebhookReceiver, type ReceivedWebhook } from '../../src/sandbox/index.js';
import { send } from './support.js';

const TOKEN = 'og-webhook-token-1234';

let sidecar: WebhookReceiver;
let sim: OpsGenieSimulator;

beforeEach(async () => {
  sidecar = await WebhookReceiver.start();
  sim = await OpsGenieSimulator.start({
    webhook: { url: `${sidecar.url}/og`, token: TOKEN },
    webhookRetry: { attempts: 3, backoffMs: 10, timeoutMs: 500 },
  });
});
afterEach(async () => {
  await sim.stop();
  await sidecar.stop();
});

interface OpsGenieHook {
  source: { name: string; type: string };
  alert: Record<string, unknown>;
  action: string;
  integrationId: string;
  integrationName: string;
}
const hook = (w: ReceivedWebhook | undefined): OpsGenieHook => w?.body as OpsGenieHook;
const createAlert = (body: Record<string, unknown>) => send(`${sim.url}/v2/alerts`, body);

describe('opsgenie simulator - outgoing webhooks', () => {
  it('posts Create with the documented body and the custom X-Webhook-Token header', async () => {
    await createAlert({
      message: 'Database down',
      alias: 'ir-1',
      tags: ['db'],
      source: 'incident-router',
      entity: 'payment-service',
      responders: [
        { type: 'team', name: 'payments' },
        { type: 'user', username: 'ann@example.com' },
      ],
    });
    const [received] = await sidecar.waitFor(1);
    expect(received?.headers['x-webhook-token']).toBe(TOKEN);
    expect(received?.headers['content-type']).toBe('application/json');
    const body = hook(received);
    expect(body).toMatchObject({
      action: 'Create',
      source: { type: 'API', name: 'incident-router' },
      integrationName: 'incident-router sandbox',
      alert: {
        alias: 'ir-1',
        message: 'Database down',
        tags: ['db'],
        teams: ['payments'],
        tinyId: '1',
        entity: 'payment-service',
      },
    });
    expect(body.alert['recipients']).toEqual(['payments', 'ann@example.com']);
    const createdAt = body.alert['createdAt'] as number;
    const updatedAt = body.alert['updatedAt'] as number;
    expect(Math.abs(Date.now() - createdAt)).toBeLessThan(60_000); // epoch milliseconds
    expect(updatedAt / 1_000_000).toBeCloseTo(createdAt, -1); // epoch nanoseconds
  });

  it('posts Acknowledge with source.type "API" when the acknowledge came through the API', async () => {
    await createAlert({ message: 'm', alias: 'ir-1' });
    await send(`${sim.url}/v2/alerts/ir-1/acknowledge?identifierType=alias`, {
      user: 'alert-router',
      source: 'alert-router',
    });
    const hooks = await sidecar.waitFor(2);
    expect(hook(hooks[1])).toMatchObject({
      action: 'Acknowledge',
      source: { type: 'API' },
      alert: { username: 'alert-router' },
    });
  });

  it('posts no webhook for a de-duplicated create or an action on an unknown alert', async () => {
    await createAlert({ message: 'm', alias: 'ir-1' });
    await createAlert({ message: 'm', alias: 'ir-1' });
    await send(`${sim.url}/v2/alerts/nope/close?identifierType=alias`, {});
    await sim.webhooksIdle();
    expect(sidecar.received().map((w) => hook(w).action)).toEqual(['Create']);
  });

  it('posts a webhook for each human action in the UI, with source.type "web"', async () => {
    await createAlert({ message: 'm', alias: 'ir-1' });
    const results = [
      await sim.acknowledge('ir-1'),
      await sim.unacknowledge('ir-1'),
      await sim.addNote('ir-1', 'checking the pool'),
      await sim.assignOwnership('ir-1', 'ann@example.com'),
      await sim.escalate('ir-1'),
      await sim.close('ir-1'),
    ];
    expect(results.map((r) => r.delivery?.outcome)).toEqual(Array(6).fill('delivered'));
    const hooks = sidecar.received().map(hook);
    expect(hooks.map((h) => h.action)).toEqual([
      'Create',
      'Acknowledge',
      'UnAcknowledge',
      'AddNote',
      'AssignOwnership',
      'Escalate',
      'Close',
    ]);
    expect(hooks[1]?.source.type).toBe('web');
    expect(hooks[3]?.alert['note']).toBe('checking the pool');
    expect(hooks[4]?.alert['owner']).toBe('ann@example.com');
    expect(results[5]?.alert.status).toBe('closed');
    await expect(sim.acknowledge('ir-1')).rejects.toMatchObject({ code: 'conflict' });
  });

  it('retries a webhook the sidecar answers with 500', async () => {
    sidecar.injectFault({ kind: 'status', status: 500, times: 1 });
    await createAlert({ message: 'm', alias: 'ir-1' });
    await sim.webhooksIdle();
    expect(sim.webhooks()[0]).toMatchObject({
      outcome: 'delivered',
      attempts: [{ status: 500 }, { status: 200 }],
    });
    expect(sidecar.received()).toHaveLength(1);
  });

  it('posts API-driven webhooks only when webhooksForApiActions is on', async () => {
    const quiet = await OpsGenieSimulator.start({
      webhook: { url: sidecar.url, token: TOKEN },
      webhooksForApiActions: false,
    });
    try {
      await send(`${quiet.url}/v2/alerts`, { message: 'm', alias: 'q' });
      await send(`${quiet.url}/v2/alerts/q/close?identifierType=alias`, {});
      expect(quiet.alert('q')?.status).toBe('closed');
      await quiet.webhooksIdle();
      expect(quiet.webhooks()).toEqual([]);
    } finally {
      await quiet.stop();
    }
  });
});
