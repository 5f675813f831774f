import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpsGenieSimulator } from '../../src/sandbox/index.js';
import { get, send } from './support.js';

const KEY = 'eb243592-faa2-4ba2-a551q-1afdf565c889';
const auth = { authorization: `GenieKey ${KEY}` };

let sim: OpsGenieSimulator;
beforeAll(async () => {
  sim = await OpsGenieSimulator.start({ apiKey: KEY });
});
afterAll(() => sim.stop());
beforeEach(() => sim.reset());

const alerts = () => `${sim.url}/v2/alerts`;
const create = (body: unknown) => send(alerts(), body, { headers: auth });
const action = (alias: string, name: string, body: unknown = {}) =>
  send(`${alerts()}/${encodeURIComponent(alias)}/${name}?identifierType=alias`, body, { headers: auth });
const requestId = (res: { body: unknown }) => (res.body as { requestId: string }).requestId;

describe('opsgenie simulator - Alert API answers', () => {
  it('accepts a create with 202 and the documented body and headers', async () => {
    const res = await create({ message: 'Database down', alias: 'ir-1', priority: 'P1' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ result: 'Request will be processed', took: expect.any(Number) });
    expect(requestId(res)).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('x-request-id')).toBe(requestId(res));
    expect(res.headers.get('x-ratelimit-state')).toBe('OK');
    expect(res.headers.get('x-response-time')).not.toBeNull();
    expect(sim.alerts()).toMatchObject([
      { alias: 'ir-1', status: 'open', count: 1, priority: 'P1', message: 'Database down' },
    ]);
  });

  it('answers 401 "Could not authenticate" to a missing or wrong GenieKey', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'GenieKey wrong' },
      { authorization: `Bearer ${KEY}` },
    ];
    for (const headers of attempts) {
      const res = await send(alerts(), { message: 'm' }, { headers });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({
        message: 'Could not authenticate',
        took: expect.any(Number),
        requestId: expect.any(String),
      });
    }
    expect(sim.alerts()).toEqual([]);
  });

  it('answers 400 "Invalid JSON body" to a syntax error', async () => {
    const res = await create('{"message": ');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ message: 'Invalid JSON body' });
  });

  it.each([
    ['message #1', { message: 'x'.repeat(131) }, 'message', 'Message can not be longer than 130 characters'],
    ['message #2', { message: '' }, 'message', 'Message can not be empty'],
    [
      'alias #3',
      { message: 'm', alias: 'a'.repeat(513) },
      'alias',
      'Alias can not be longer than 512 characters',
    ],
    [
      'description #4',
      { message: 'm', description: 'd'.repeat(15_001) },
      'description',
      'Description can not be longer than 15000 characters',
    ],
    [
      'entity #5',
      { message: 'm', entity: 'e'.repeat(513) },
      'entity',
      'Entity can not be longer than 512 characters',
    ],
    [
      'source #6',
      { message: 'm', source: 's'.repeat(101) },
      'source',
      'Source can not be longer than 100 characters',
    ],
    [
      'user #7',
      { message: 'm', user: 'u'.repeat(101) },
      'user',
      'User can not be longer than 100 characters',
    ],
    [
      'note #8',
      { message: 'm', note: 'n'.repeat(25_001) },
      'note',
      'Note can not be longer than 25000 characters',
    ],
    [
      'tags #9',
      { message: 'm', tags: Array(21).fill('t') },
      'tags',
      'Tags can not contain more than 20 items',
    ],
    [
      'tags #10',
      { message: 'm', tags: ['t'.repeat(51)] },
      'tags',
      'Tags items can not be longer than 50 characters',
    ],
    [
      'actions #11',
      { message: 'm', actions: Array(11).fill('a') },
      'actions',
      'Actions can not contain more than 10 items',
    ],
    [
      'details #12',
      { message: 'm', details: { k: 'v'.repeat(8_000) } },
      'details',
      'Details can not be longer than 8000 characters in total',
    ],
    [
      'details #13',
      { message: 'm', details: { k: 1 } },
      'details',
      'Details must be an object of string values',
    ],
    [
      'priority #14',
      { message: 'm', priority: 'P0' },
      'priority',
      'Priority should be one of [P1, P2, P3, P4, P5]',
    ],
    [
      'responders #15',
      { message: 'm', responders: [{ type: 'team' }] },
      'responders',
      'id or name should be provided',
    ],
    [
      'responders #16',
      { message: 'm', responders: [{ type: 'user', name: 'x' }] },
      'responders',
      'id or username should be provided',
    ],
    [
      'responders #17',
      { message: 'm', responders: Array(51).fill({ type: 'team', name: 'x' }) },
      'responders',
      'Responders can not contain more than 50 items',
    ],
    [
      'visibleTo #18',
      { message: 'm', visibleTo: [{ type: 'schedule', id: 'x' }] },
      'visibleTo',
      'Recipient type should be one of [team, user]',
    ],
  ])('answers 422 with a per-field message: %s', async (_label, body, field, message) => {
    const res = await create(body);
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      message: 'Request body is not processable. Please check the errors.',
      errors: { [field]: message },
      took: expect.any(Number),
      requestId: expect.any(String),
    });
  });

  it('de-duplicates a create by open alias: count + 1, no new alert', async () => {
    await create({ message: 'first', alias: 'ir-1' });
    const second = await create({ message: 'second', alias: 'ir-1' });
    expect(second.status).toBe(202);
    expect(sim.alerts()).toMatchObject([
      { alias: 'ir-1', count: 2, message: 'first', lastPayload: { message: 'second' } },
    ]);
    expect((await get(`${alerts()}/requests/${requestId(second)}`, auth)).body).toMatchObject({
      data: { success: true, isSuccess: true, action: 'Create', status: 'Alert deduplicated' },
    });
  });

  it('opens a new alert for an alias whose alert is closed', async () => {
    await create({ message: 'first', alias: 'ir-1' });
    await action('ir-1', 'close');
    await create({ message: 'again', alias: 'ir-1' });
    expect(sim.alerts().map((a) => [a.alias, a.status, a.tinyId])).toEqual([
      ['ir-1', 'closed', '1'],
      ['ir-1', 'open', '2'],
    ]);
  });

  it('acknowledges, unacknowledges, notes and closes by alias (URL-encoded)', async () => {
    const alias = 'payment-service:db/connection';
    await create({ message: 'm', alias });
    expect((await action(alias, 'acknowledge', { user: 'alert-router', note: 'on it' })).status).toBe(202);
    expect(sim.alert(alias)?.status).toBe('acked');
    await action(alias, 'unacknowledge');
    expect(sim.alert(alias)?.status).toBe('open');
    await action(alias, 'notes', { note: 'still broken' });
    await action(alias, 'close', { source: 'alert-router' });
    expect(sim.alert(alias)).toMatchObject({
      status: 'closed',
      notes: [{ note: 'on it' }, { note: 'still broken' }],
    });
  });

  it('adds a responder of any type by alias, once; refuses a missing or malformed one with 422', async () => {
    await create({ message: 'm', alias: 'ir-1', responders: [{ type: 'team', name: 'sre' }] });
    const lead = { type: 'user', username: 'lead@example.com' };
    const added = await action('ir-1', 'responders', { responder: lead, note: 'tier 2' });
    expect(added.status).toBe(202);
    await action('ir-1', 'responders', { responder: { type: 'schedule', name: 'primary' } });
    await action('ir-1', 'responders', { responder: lead }); // already there: no change
    expect(sim.alert('ir-1')).toMatchObject({
      count: 1,
      responders: [{ type: 'team', name: 'sre' }, lead, { type: 'schedule', name: 'primary' }],
    });
    expect((await get(`${alerts()}/requests/${requestId(added)}`, auth)).body).toMatchObject({
      data: { success: true, action: 'AddResponder', status: 'Added responder' },
    });
    expect((await action('ir-1', 'responders', {})).body).toMatchObject({
      errors: { responder: 'Responder can not be empty' },
    });
    expect(
      (await action('ir-1', 'responders', { responder: { type: 'user', name: 'x' } })).body,
    ).toMatchObject({
      errors: { responder: 'id or username should be provided' },
    });
  });

  it('addresses alerts by id (the default) and by tiny id', async () => {
    await create({ message: 'm', alias: 'ir-1' });
    const { id } = sim.alerts()[0] ?? { id: '' };
    await send(`${alerts()}/${id}/acknowledge`, {}, { headers: auth });
    expect(sim.alert(id)?.status).toBe('acked');
    await send(`${alerts()}/1/close?identifierType=tiny`, {}, { headers: auth });
    expect(sim.alert(id)?.status).toBe('closed');
  });

  it('answers 202 to an action on an unknown alias and records the failure in the request status', async () => {
    const res = await action('nope', 'close');
    expect(res.status).toBe(202);
    const status = await get(`${alerts()}/requests/${requestId(res)}`, auth);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      data: {
        success: false,
        isSuccess: false,
        action: 'Close',
        status: 'Alert does not exist',
        alertId: '',
        alias: '',
      },
      requestId: expect.any(String),
      took: expect.any(Number),
    });
  });

  it('reports a successful create in the request status', async () => {
    const res = await create({ message: 'm' });
    const { body } = await get(`${alerts()}/requests/${requestId(res)}`, auth);
    const alert = sim.alerts()[0];
    expect(body).toMatchObject({
      data: {
        success: true,
        isSuccess: true,
        action: 'Create',
        status: 'Created alert',
        alertId: alert?.id,
        alias: alert?.id,
      },
    });
    expect((await get(`${alerts()}/requests/unknown`, auth)).status).toBe(404);
  });

  it('refuses a note without text and over-long action fields with 422', async () => {
    await create({ message: 'm', alias: 'ir-1' });
    expect((await action('ir-1', 'notes', {})).body).toMatchObject({
      errors: { note: 'Note can not be empty' },
    });
    expect((await action('ir-1', 'acknowledge', { user: 'u'.repeat(101) })).status).toBe(422);
    expect((await send(`${alerts()}/ir-1/close?identifierType=name`, {}, { headers: auth })).status).toBe(
      422,
    );
  });

  it('returns an alert in the API shape (open + acknowledged flag)', async () => {
    await create({ message: 'm', alias: 'ir-1', tags: ['db'], details: { service: 'payments' } });
    await action('ir-1', 'acknowledge');
    const res = await get(`${alerts()}/ir-1?identifierType=alias`, auth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      data: {
        alias: 'ir-1',
        status: 'open',
        acknowledged: true,
        count: 1,
        tags: ['db'],
        details: { service: 'payments' },
      },
    });
    expect((await get(`${alerts()}/missing?identifierType=alias`, auth)).status).toBe(404);
  });
});

describe('opsgenie simulator - emulated rate limit', () => {
  it('answers 429 with the X-RateLimit headers past the limit', async () => {
    const limited = await OpsGenieSimulator.start({ rateLimitPerMinute: 1 });
    try {
      expect((await send(`${limited.url}/v2/alerts`, { message: 'm' })).status).toBe(202);
      const res = await send(`${limited.url}/v2/alerts`, { message: 'm' });
      expect(res.status).toBe(429);
      expect(res.headers.get('x-ratelimit-state')).toBe('THROTTLED');
      expect(res.headers.get('x-ratelimit-reason')).not.toBeNull();
      expect(res.headers.get('x-ratelimit-period-in-sec')).toBe('60');
      expect(res.body).toMatchObject({ message: expect.any(String), requestId: expect.any(String) });
    } finally {
      await limited.stop();
    }
  });
});

describe('opsgenie simulator - a bounded book (the sandbox inside the sidecar)', () => {
  it('forgets the oldest closed alerts past keepClosed and keeps every open one', async () => {
    const bounded = await OpsGenieSimulator.start({ apiKey: KEY, keepClosed: 4 });
    const post = (path: string, body: unknown) =>
      send(`${bounded.url}/v2/alerts${path}`, body, { headers: auth });
    try {
      await post('', { message: 'stays open', alias: 'open-1' });
      for (let i = 0; i < 6; i++) {
        await post('', { message: `closed ${i}`, alias: `done-${i}` });
        await post(`/done-${i}/close?identifierType=alias`, {});
      }
      await post('', { message: 'stays open too', alias: 'open-2' });
      const kept = bounded.alerts().map((a) => [a.alias, a.status]);
      expect(kept).toContainEqual(['open-1', 'open']);
      expect(kept).toContainEqual(['open-2', 'open']);
      expect(kept.length).toBeLessThanOrEqual(6);
      expect(bounded.alerts().find((a) => a.alias === 'done-0')).toBeUndefined();
    } finally {
      await bounded.stop();
    }
  });
});
