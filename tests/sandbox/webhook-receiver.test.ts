import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebhookReceiver } from '../../src/sandbox/index.js';
import { get, send } from './support.js';

const SECRET = 'chatops-secret';
const sign = (body: string) => `v1=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

let receiver: WebhookReceiver;
beforeEach(async () => {
  receiver = await WebhookReceiver.start({ secret: SECRET });
});
afterEach(() => receiver.stop());

describe('webhook receiver', () => {
  it('accepts a POST signed with X-Incident-Router-Signature and records it raw and parsed', async () => {
    const body = JSON.stringify({ version: 'incident-router/v1', action: 'trigger' });
    const res = await send(`${receiver.url}/hooks/chat`, body, {
      headers: { 'x-incident-router-signature': sign(body) },
    });
    expect(res.status).toBe(200);
    expect(receiver.received()).toMatchObject([
      { seq: 1, path: '/hooks/chat', rawBody: body, body: { action: 'trigger' }, signatureValid: true },
    ]);
  });

  it('answers 401 to a missing or wrong signature and records nothing', async () => {
    const body = '{"a":1}';
    expect((await send(receiver.url, body)).status).toBe(401);
    expect(
      (await send(receiver.url, body, { headers: { 'x-incident-router-signature': sign('{"a":2}') } }))
        .status,
    ).toBe(401);
    expect(receiver.received()).toEqual([]);
    expect(receiver.requests().map((r) => r.status)).toEqual([401, 401]);
  });

  it('records anything unsigned when it has no secret, and lists it over /__sim/received', async () => {
    const open = await WebhookReceiver.start();
    try {
      await send(open.url, 'not json');
      const listed = await get(`${open.url}/__sim/received`);
      expect(listed.body).toMatchObject({
        received: [{ rawBody: 'not json', body: null, signatureValid: null }],
      });
      expect((await get(open.url)).status).toBe(405);
    } finally {
      await open.stop();
    }
  });
});
