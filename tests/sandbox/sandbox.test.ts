import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SANDBOX_PAGERDUTY_ROUTING_KEY, startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { get, rejection, ROUTING_KEY, send, trigger } from './support.js';

let sandbox: Sandbox | null = null;
afterEach(async () => {
  await sandbox?.stop();
  sandbox = null;
});

function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });
}

function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.closed) resolve();
    socket.on('close', () => resolve());
    socket.on('error', () => undefined);
  });
}

describe('sandbox - startSandbox', () => {
  it('starts all three simulators on free loopback ports and gives their URLs', async () => {
    sandbox = await startSandbox();
    const { urls } = sandbox;
    expect(urls.pagerdutyEvents).toBe(`${urls.pagerduty}/v2/enqueue`);
    expect(new Set([urls.pagerduty, urls.opsgenie, urls.webhook]).size).toBe(3);
    for (const url of [urls.pagerduty, urls.opsgenie, urls.webhook])
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const pd = await send(urls.pagerdutyEvents, trigger('k', { routing_key: SANDBOX_PAGERDUTY_ROUTING_KEY }));
    expect(pd.status).toBe(202);
    expect(
      (
        await send(
          `${urls.opsgenie}/v2/alerts`,
          { message: 'm' },
          { headers: { authorization: 'GenieKey any' } },
        )
      ).status,
    ).toBe(202);
    expect((await send(urls.webhook, { hello: 'world' })).status).toBe(200);
  });

  it('uses the ports it is given', async () => {
    const first = await startSandbox();
    const ports = {
      pagerduty: first.pagerduty.port,
      opsgenie: first.opsgenie.port,
      webhook: first.webhook.port,
    };
    await first.stop();
    sandbox = await startSandbox({ ports });
    expect([sandbox.pagerduty.port, sandbox.opsgenie.port, sandbox.webhook.port]).toEqual([
      ports.pagerduty,
      ports.opsgenie,
      ports.webhook,
    ]);
  });

  it('wires PagerDuty and OpsGenie webhooks to a sidecar URL', async () => {
    sandbox = await startSandbox({
      pagerduty: { webhook: { url: 'http://127.0.0.1:9/unused', secret: 's' } },
      opsgenie: { webhook: { url: 'http://127.0.0.1:9/unused', token: 't' } },
    });
    sandbox.pagerduty.configureWebhook({ url: `${sandbox.urls.webhook}/pd`, secret: 's' });
    await send(
      `${sandbox.urls.opsgenie}/__sim/webhook`,
      { url: `${sandbox.urls.webhook}/og`, token: 't' },
      { method: 'PUT' },
    );
    await send(sandbox.urls.pagerdutyEvents, trigger('k'));
    await send(`${sandbox.urls.opsgenie}/v2/alerts`, { message: 'm' });
    const paths = (await sandbox.webhook.waitFor(2)).map((w) => w.path).sort();
    expect(paths).toEqual(['/og', '/pd']);
  });
});

const FOREIGN_KEY = 'R0123456789abcdefABCDEF012345678';

/** A sandbox whose PagerDuty has incident ir-1 open and dropped a resolve sent with another key; its URL. */
async function triggeredThenForeignResolve(): Promise<string> {
  sandbox = await startSandbox();
  await send(sandbox.urls.pagerdutyEvents, trigger('ir-1'));
  await send(sandbox.urls.pagerdutyEvents, {
    routing_key: FOREIGN_KEY,
    event_action: 'resolve',
    dedup_key: 'ir-1',
  });
  return sandbox.urls.pagerduty;
}

describe('sandbox - /__sim control over HTTP', () => {
  it('never shows a routing key whole: incidents, requests and dropped events mask it', async () => {
    const base = await triggeredThenForeignResolve();
    const views = await Promise.all(
      ['incidents', 'requests', 'dropped', 'incidents/ir-1'].map(async (v) =>
        JSON.stringify((await get(`${base}/__sim/${v}`)).body),
      ),
    );
    for (const text of views) {
      expect(text).not.toContain(ROUTING_KEY);
      expect(text).not.toContain(FOREIGN_KEY);
    }
    expect(views[0]).toContain(`"routingKey":"****${ROUTING_KEY.slice(-4)}"`);
    expect(views[1]).toContain(`"routing_key":"****${ROUTING_KEY.slice(-4)}"`);
    expect(views[2]).toContain('"routingKey":"****5678"');
    // A human acting in the UI sees the incident masked too.
    expect(JSON.stringify((await send(`${base}/__sim/incidents/ir-1/acknowledge`, {})).body)).not.toContain(
      ROUTING_KEY,
    );
    // The in-process API keeps them: tests check what the sidecar sent.
    expect(sandbox?.pagerduty.requests()[0]?.body).toMatchObject({ routing_key: ROUTING_KEY });
  });

  it('shows incidents, requests and dropped events, and acts as a human on PagerDuty', async () => {
    const base = await triggeredThenForeignResolve();
    const incidents = (await get(`${base}/__sim/incidents`)).body as {
      incidents: { id: string; status: string }[];
    };
    expect(incidents.incidents.map((i) => i.status)).toEqual(['triggered']);
    const id = incidents.incidents[0]?.id ?? '';
    expect((await get(`${base}/__sim/incidents/${id}`)).body).toMatchObject({
      incident: { dedupKey: 'ir-1' },
    });
    expect((await get(`${base}/__sim/dropped`)).body).toMatchObject({
      dropped: [{ reason: 'routing_key_mismatch' }],
    });
    expect(((await get(`${base}/__sim/requests`)).body as { requests: unknown[] }).requests).toHaveLength(2);
    const acked = await send(`${base}/__sim/incidents/ir-1/acknowledge`, {});
    expect(acked.body).toMatchObject({ incident: { status: 'acknowledged' }, delivery: null });
    expect((await send(`${base}/__sim/incidents/ir-1/unacknowledge`, {})).status).toBe(200);
    expect((await send(`${base}/__sim/incidents/ir-1/annotate`, { content: 'note' })).body).toMatchObject({
      incident: { notes: [{ content: 'note' }] },
    });
    expect((await send(`${base}/__sim/incidents/ir-1/reopen`, {})).status).toBe(409);
    expect((await send(`${base}/__sim/incidents/nope/resolve`, {})).status).toBe(404);
    expect((await send(`${base}/__sim/incidents/ir-1/explode`, {})).status).toBe(404);
    expect((await send(`${base}/__sim/reset`, {})).status).toBe(200);
    expect((await get(`${base}/__sim/incidents`)).body).toEqual({ incidents: [] });
  });

  it('shows alerts and acts as a human on OpsGenie, with webhook configuration', async () => {
    sandbox = await startSandbox();
    const base = sandbox.urls.opsgenie;
    expect(
      (
        await send(
          `${base}/__sim/webhook`,
          { url: `${sandbox.urls.webhook}/og`, token: 'tok' },
          { method: 'PUT' },
        )
      ).status,
    ).toBe(200);
    expect((await send(`${base}/__sim/webhook`, { url: 1 }, { method: 'PUT' })).status).toBe(400);
    await send(`${base}/v2/alerts`, { message: 'm', alias: 'ir-1' });
    const closedAlert = await send(`${base}/__sim/alerts/ir-1/close`, { user: 'ann' });
    expect(closedAlert.body).toMatchObject({
      alert: { status: 'closed' },
      delivery: { outcome: 'delivered', eventType: 'Close' },
    });
    expect((await get(`${base}/__sim/alerts`)).body).toMatchObject({
      alerts: [{ alias: 'ir-1', status: 'closed' }],
    });
    expect(((await get(`${base}/__sim/webhooks`)).body as { deliveries: unknown[] }).deliveries).toHaveLength(
      2,
    );
    // Over HTTP the token is masked (as every credential in a /__sim view); in process it is whole.
    expect((await get(`${sandbox.urls.webhook}/__sim/received`)).body).toMatchObject({
      received: [
        { headers: { 'x-webhook-token': '****' } },
        { body: { action: 'Close', source: { type: 'web', name: 'ann' } } },
      ],
    });
    expect(sandbox.webhook.received()[0]).toMatchObject({ headers: { 'x-webhook-token': 'tok' } });
    expect((await get(`${base}/__sim/nothing`)).status).toBe(404);
  });
});

describe('sandbox - robustness', () => {
  it('survives garbage, binary and oversized bodies and malformed HTTP', async () => {
    sandbox = await startSandbox();
    const { urls } = sandbox;
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80]).toString('latin1');
    expect((await send(urls.pagerdutyEvents, binary)).status).toBe(400);
    expect((await send(`${urls.opsgenie}/v2/alerts`, binary)).status).toBe(400);
    const huge = 'x'.repeat(6 * 1024 * 1024);
    const outcome = await send(`${urls.opsgenie}/v2/alerts`, huge).then(
      (r) => r.status,
      () => 'network error',
    );
    expect([413, 'network error']).toContain(outcome);
    const socket = await rawSocket(sandbox.pagerduty.port);
    socket.write('THIS IS NOT HTTP\r\n\r\n');
    await closed(socket);
    expect((await send(urls.pagerdutyEvents, trigger('k'))).status).toBe(202);
  });

  it('stops cleanly with a hung request, a slow client and idle keep-alive connections open', async () => {
    sandbox = await startSandbox();
    const { pagerduty, opsgenie } = sandbox;
    await send(pagerduty.eventsUrl, trigger('k'));
    opsgenie.injectFault({ kind: 'hang' });
    const hung = rejection(send(`${opsgenie.url}/v2/alerts`, { message: 'm' }));
    await expect.poll(() => opsgenie.requests().length).toBe(1);
    const slow = await rawSocket(pagerduty.port);
    slow.write(
      'POST /v2/enqueue HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"rout',
    );
    const slowClosed = closed(slow);
    await sandbox.stop();
    sandbox = null;
    await slowClosed;
    expect(await hung).toBeInstanceOf(TypeError);
    const refused = await rawSocket(pagerduty.port).then(
      (s) => (s.destroy(), 'connected'),
      (err: NodeJS.ErrnoException) => err.code,
    );
    expect(refused).toBe('ECONNREFUSED');
  });
});
