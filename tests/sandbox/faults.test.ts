import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpsGenieSimulator, PagerDutySimulator, WebhookReceiver } from '../../src/sandbox/index.js';
import { get, rejection, send, statusChange, trigger } from './support.js';

let pd: PagerDutySimulator;
let og: OpsGenieSimulator;
beforeAll(async () => {
  pd = await PagerDutySimulator.start();
  og = await OpsGenieSimulator.start();
});
afterAll(async () => {
  await pd.stop();
  await og.stop();
});
beforeEach(async () => {
  await pd.up();
  await og.up();
  pd.reset();
  og.reset();
});

const causeCode = (err: Error) => (err.cause as { code?: string } | undefined)?.code;

describe('fault injection - error statuses', () => {
  it('fails the next N requests with a 5xx in the provider error shape, then recovers', async () => {
    pd.injectFault({ kind: 'status', status: 503, times: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await send(pd.eventsUrl, trigger('k'))).status);
    expect(statuses).toEqual([503, 503, 202]);
    expect(pd.requests().map((r) => [r.outcome, r.fault ?? null])).toEqual([
      ['injected', 'status 503'],
      ['injected', 'status 503'],
      ['answered', null],
    ]);
    expect(pd.incidents()).toHaveLength(1);
    expect(pd.faults.list()).toEqual([]);
  });

  it('answers an injected 429 with Retry-After, in each provider style', async () => {
    pd.injectFault({ kind: 'status', status: 429, retryAfterSec: 7, times: 1 });
    const pdRes = await send(pd.eventsUrl, trigger('k'));
    expect(pdRes.status).toBe(429);
    expect(pdRes.headers.get('retry-after')).toBe('7');
    expect(pdRes.body).toMatchObject({ message: 'Request Limit Exceeded' });
    og.injectFault({ kind: 'status', status: 429, retryAfterSec: 3, times: 1 });
    const ogRes = await send(`${og.url}/v2/alerts`, { message: 'm' });
    expect(ogRes.status).toBe(429);
    expect(ogRes.headers.get('x-ratelimit-state')).toBe('THROTTLED');
    expect(ogRes.headers.get('retry-after')).toBe('3');
  });

  it('injects a 4xx with a custom body, and keeps going until cleared when no count is given', async () => {
    og.injectFault({ kind: 'status', status: 400, body: { message: 'nope' } });
    for (let i = 0; i < 3; i++)
      expect((await send(`${og.url}/v2/alerts`, { message: 'm' })).body).toEqual({ message: 'nope' });
    og.clearFaults();
    expect((await send(`${og.url}/v2/alerts`, { message: 'm' })).status).toBe(202);
  });

  it('scopes a fault to an action or a path', async () => {
    pd.injectFault({ kind: 'status', status: 500, scope: { action: 'trigger' } });
    await send(pd.eventsUrl, trigger('k'));
    expect((await send(pd.eventsUrl, statusChange('acknowledge', 'k'))).status).toBe(202);
    expect((await send(pd.eventsUrl, trigger('k'))).status).toBe(500);
    og.injectFault({ kind: 'status', status: 502, scope: { action: 'close' } });
    og.injectFault({ kind: 'status', status: 504, scope: { path: '/v2/alerts/requests' } });
    expect((await send(`${og.url}/v2/alerts`, { message: 'm', alias: 'a' })).status).toBe(202);
    expect((await send(`${og.url}/v2/alerts/a/acknowledge?identifierType=alias`, {})).status).toBe(202);
    expect((await send(`${og.url}/v2/alerts/a/close?identifierType=alias`, {})).status).toBe(502);
    expect((await get(`${og.url}/v2/alerts/requests/x`)).status).toBe(504);
  });
});

describe('fault injection - slowness, silence and cut connections', () => {
  it('adds latency: a client with a short timeout gives up, a patient one gets the answer', async () => {
    pd.injectFault({ kind: 'latency', ms: 400, times: 2 });
    const err = await rejection(send(pd.eventsUrl, trigger('k'), { signal: AbortSignal.timeout(50) }));
    expect(err.name).toBe('TimeoutError');
    expect((await send(pd.eventsUrl, trigger('k'))).status).toBe(202);
    expect(pd.requests().map((r) => r.fault)).toEqual(['latency 400ms', 'latency 400ms']);
  });

  it('hangs: accepts the request and never answers, seen as a client timeout', async () => {
    og.injectFault({ kind: 'hang', times: 1 });
    const err = await rejection(
      send(`${og.url}/v2/alerts`, { message: 'm' }, { signal: AbortSignal.timeout(200) }),
    );
    expect(err.name).toBe('TimeoutError');
    expect(og.requests()[0]).toMatchObject({ outcome: 'hung', status: null });
    expect(og.alerts()).toEqual([]);
    expect((await send(`${og.url}/v2/alerts`, { message: 'm' })).status).toBe(202);
  });

  it('drops the connection mid-request, seen as a network error', async () => {
    pd.injectFault({ kind: 'drop', times: 1 });
    const err = await rejection(send(pd.eventsUrl, trigger('k')));
    expect(err).toBeInstanceOf(TypeError);
    expect(pd.requests()[0]).toMatchObject({ outcome: 'dropped', status: null });
    expect(pd.incidents()).toEqual([]);
    expect((await send(pd.eventsUrl, trigger('k'))).status).toBe(202);
  });
});

describe('fault injection - going down and coming back on the same port', () => {
  it('refuses API connections while down, keeps /__sim answering, and comes back', async () => {
    const port = pd.port;
    await pd.down({ mode: 'refuse' });
    expect(pd.isUp).toBe(false);
    expect(await rejection(send(pd.eventsUrl, trigger('k')))).toBeInstanceOf(TypeError);
    expect((await get(`${pd.url}/__sim`)).body).toMatchObject({ up: false });
    expect((await send(`${pd.url}/__sim/up`, {})).status).toBe(200);
    expect(pd.port).toBe(port);
    expect((await send(pd.eventsUrl, trigger('k'))).status).toBe(202);
    expect(pd.requests()[0]?.outcome).toBe('refused');
  });

  it('closes the listener (connection refused) and listens again on the same port', async () => {
    const url = og.url;
    await og.down({ mode: 'close' });
    // A pooled keep-alive socket may first fail as "other side closed"; a fresh connection is refused.
    expect(await rejection(send(`${url}/v2/alerts`, { message: 'm' }))).toBeInstanceOf(TypeError);
    expect(causeCode(await rejection(send(`${url}/v2/alerts`, { message: 'm' })))).toBe('ECONNREFUSED');
    await og.up();
    expect(og.url).toBe(url);
    expect((await send(`${url}/v2/alerts`, { message: 'm' })).status).toBe(202);
  });

  it('comes back by itself after forMs', async () => {
    const receiver = await WebhookReceiver.start();
    try {
      const res = await send(`${receiver.url}/__sim/faults`, { kind: 'down', mode: 'close', forMs: 100 });
      expect(res.status).toBe(201);
      expect(await rejection(send(receiver.url, {}))).toBeInstanceOf(TypeError);
      await expect.poll(() => receiver.isUp, { timeout: 2_000 }).toBe(true);
      expect((await send(receiver.url, {})).status).toBe(200);
    } finally {
      await receiver.stop();
    }
  });
});

describe('fault injection - over HTTP (/__sim/faults)', () => {
  it('arms, lists and clears faults given as JSON', async () => {
    const armed = await send(`${pd.url}/__sim/faults`, [
      { kind: 'status', status: 500, times: 1, scope: { path: '/v2/enqueue' } },
      { kind: 'latency', ms: 10 },
    ]);
    expect(armed.status).toBe(201);
    expect((armed.body as { faults: unknown[] }).faults).toHaveLength(2);
    expect(((await get(`${pd.url}/__sim/faults`)).body as { faults: unknown[] }).faults).toHaveLength(2);
    expect((await send(pd.eventsUrl, trigger('k'))).status).toBe(500);
    expect((await send(`${pd.url}/__sim/faults`, undefined, { method: 'DELETE' })).body).toEqual({
      faults: [],
    });
    expect((await send(pd.eventsUrl, trigger('k'))).status).toBe(202);
  });

  it('explains a bad fault command with 400', async () => {
    const res = await send(`${og.url}/__sim/faults`, { kind: 'status', status: 99, times: 0 });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error: { code: 'bad_request', details: expect.arrayContaining([expect.stringContaining('"status"')]) },
    });
    expect((await send(`${og.url}/__sim/faults`, '{oops')).status).toBe(400);
    expect((await send(`${og.url}/__sim/down`, { mode: 'close' })).status).toBe(400);
    expect(og.faults.list()).toEqual([]);
  });

  it('goes down and up with /__sim/down and /__sim/up', async () => {
    expect((await send(`${og.url}/__sim/down`, {})).status).toBe(202);
    expect(await rejection(send(`${og.url}/v2/alerts`, { message: 'm' }))).toBeInstanceOf(TypeError);
    await send(`${og.url}/__sim/up`, {});
    expect((await send(`${og.url}/v2/alerts`, { message: 'm' })).status).toBe(202);
  });
});
