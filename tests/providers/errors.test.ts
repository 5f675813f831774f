// Every failure the simulators can inject, for every provider, mapped to the closed set of reasons; and
// no error ever names a routing key, API key or webhook secret, even when the vendor echoes it back.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type FaultSpec, type Sandbox, type Simulator } from '../../src/sandbox/index.js';
import { createProviders, type ProviderRegistry } from '../../src/providers/registry.js';
import type { Provider, ProviderError, ProviderRequest } from '../../src/providers/provider.js';
import {
  failure,
  makeIncident,
  OG_KEY,
  OG_PAYMENTS_KEY,
  opsGenieSpec,
  pagerDutySpec,
  PD_KEY,
  PD_PAYMENTS_KEY,
  requestFor,
  WEBHOOK_SECRET,
  webhookSpec,
} from './support.js';

const SECRETS = [PD_KEY, PD_PAYMENTS_KEY, OG_KEY, OG_PAYMENTS_KEY, WEBHOOK_SECRET, 'chat-token-0006'];

let sandbox: Sandbox;
let registry: ProviderRegistry;

beforeAll(async () => {
  sandbox = await startSandbox({ opsgenie: { apiKey: OG_KEY }, webhook: { secret: WEBHOOK_SECRET } });
  registry = createProviders(
    {
      pagerduty: pagerDutySpec(sandbox.urls.pagerdutyEvents),
      opsgenie: opsGenieSpec(sandbox.urls.opsgenie),
      chatops: webhookSpec(sandbox.urls.webhook, {
        secret: WEBHOOK_SECRET,
        headers: { 'X-Api-Token': 'chat-token-0006' },
      }),
    },
    {},
  );
});
afterAll(async () => {
  await registry.close();
  await sandbox.stop();
});
beforeEach(async () => {
  for (const sim of sims()) {
    if (!sim.isUp) await sim.up();
    sim.reset();
  }
});

function sims(): Simulator[] {
  return [sandbox.pagerduty, sandbox.opsgenie, sandbox.webhook];
}

interface Case {
  name: 'pagerduty' | 'opsgenie' | 'chatops';
  sim: () => Simulator;
  /** What the provider's fault reply says for an injected 400 (its own error body). */
  badRequestText: string;
}

const CASES: Case[] = [
  { name: 'pagerduty', sim: () => sandbox.pagerduty, badRequestText: 'Injected fault (HTTP 400)' },
  { name: 'opsgenie', sim: () => sandbox.opsgenie, badRequestText: 'Bad Request' },
  { name: 'chatops', sim: () => sandbox.webhook, badRequestText: 'injected fault (HTTP 400)' },
];

function trigger(provider: Provider): ProviderRequest {
  return requestFor(provider, 'trigger', makeIncident());
}

async function sendFailing(c: Case, fault: FaultSpec | null, timeoutMs = 5_000): Promise<ProviderError> {
  if (fault !== null) c.sim().injectFault({ times: 1, ...fault });
  const provider = registry.get(c.name);
  const err = await failure(provider.send(trigger(provider), AbortSignal.timeout(timeoutMs)));
  expectNoSecret(err);
  return err;
}

function expectNoSecret(err: ProviderError): void {
  for (const secret of SECRETS) {
    expect(err.message).not.toContain(secret);
    expect(err.stack ?? '').not.toContain(secret);
  }
}

describe.each(CASES)('$name - injected faults map to the closed set of reasons', (c) => {
  it('500 → server_error, retryable', async () => {
    const err = await sendFailing(c, { kind: 'status', status: 500 });
    expect(err).toMatchObject({ provider: c.name, reason: 'server_error', retryable: true, status: 500 });
    expect(err.retryAfterMs).toBeNull();
  });

  it('503 with Retry-After 3 → server_error, retryable, retryAfterMs 3000', async () => {
    const err = await sendFailing(c, { kind: 'status', status: 503, retryAfterSec: 3 });
    expect(err).toMatchObject({ reason: 'server_error', retryable: true, retryAfterMs: 3000 });
  });

  it('429 with Retry-After 7 → rate_limited, retryAfterMs 7000', async () => {
    const err = await sendFailing(c, { kind: 'status', status: 429, retryAfterSec: 7 });
    expect(err).toMatchObject({ reason: 'rate_limited', retryable: true, status: 429, retryAfterMs: 7000 });
  });

  it("400 → client_error, not retryable, with the provider's text", async () => {
    const err = await sendFailing(c, { kind: 'status', status: 400 });
    expect(err).toMatchObject({ reason: 'client_error', retryable: false, status: 400 });
    expect(err.message).toContain(c.badRequestText);
  });

  it('401 and 403 → auth_error, not retryable', async () => {
    expect(await sendFailing(c, { kind: 'status', status: 401 })).toMatchObject({
      reason: 'auth_error',
      retryable: false,
      status: 401,
    });
    expect(await sendFailing(c, { kind: 'status', status: 403 })).toMatchObject({
      reason: 'auth_error',
      retryable: false,
    });
  });

  it('404 → client_error', async () => {
    expect(await sendFailing(c, { kind: 'status', status: 404 })).toMatchObject({
      reason: 'client_error',
      retryable: false,
    });
  });

  it('hang + AbortSignal.timeout(200) → timeout, retryable', async () => {
    const started = Date.now();
    const err = await sendFailing(c, { kind: 'hang' }, 200);
    expect(err).toMatchObject({ reason: 'timeout', retryable: true, status: null });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('latency past the attempt timeout → timeout', async () => {
    const err = await sendFailing(c, { kind: 'latency', ms: 1_000 }, 200);
    expect(err).toMatchObject({ reason: 'timeout', retryable: true });
  });

  it('an already aborted signal → timeout, nothing sent', async () => {
    const provider = registry.get(c.name);
    const err = await failure(provider.send(trigger(provider), AbortSignal.abort()));
    expect(err).toMatchObject({ reason: 'timeout', retryable: true });
    expect(c.sim().requests()).toEqual([]);
  });

  it('drop (connection destroyed mid-request) → network, retryable', async () => {
    const err = await sendFailing(c, { kind: 'drop' });
    expect(err).toMatchObject({ reason: 'network', retryable: true, status: null });
  });

  it('server down (connection refused) → network, retryable; back up → delivered', async () => {
    await c.sim().down({ mode: 'close' });
    // The first attempt may still pick a pooled keep-alive socket the server just closed.
    expect(await sendFailing(c, null)).toMatchObject({ reason: 'network', retryable: true });
    const err = await sendFailing(c, null);
    expect(err).toMatchObject({ reason: 'network', retryable: true });
    expect(err.message).toContain('ECONNREFUSED');
    await c.sim().up();
    const provider = registry.get(c.name);
    expect((await provider.send(trigger(provider), AbortSignal.timeout(5_000))).status).toBeLessThan(300);
  });

  it('server refusing requests (socket destroyed) → network', async () => {
    await c.sim().down({ mode: 'refuse' });
    expect(await sendFailing(c, null)).toMatchObject({ reason: 'network', retryable: true });
  });

  it('the provider recovers after each fault: the pool is not poisoned', async () => {
    await sendFailing(c, { kind: 'drop' });
    await sendFailing(c, { kind: 'hang' }, 100);
    const provider = registry.get(c.name);
    expect((await provider.send(trigger(provider), AbortSignal.timeout(5_000))).status).toBeLessThan(300);
  });
});

describe('pagerduty - its own answers', () => {
  it('400 from the real validation names the problem, never the routing key', async () => {
    const badKey = 'e93facc04764012d7bfb002500d5d1a-';
    const pd = registry.get('pagerduty');
    const request = { ...trigger(pd), target: { url: sandbox.urls.pagerdutyEvents, routing_key: badKey } };
    const err = await failure(pd.send(request, AbortSignal.timeout(5_000)));
    expect(err).toMatchObject({ reason: 'client_error', retryable: false, status: 400 });
    expect(err.message).toContain('Event object is invalid');
    expect(err.message).toContain("'routing_key' cannot contain non-alphanumeric characters.");
    expect(err.message).not.toContain(badKey);
  });

  it('408 → timeout, retryable', async () => {
    const err = await sendFailing(CASES[0] as Case, { kind: 'status', status: 408 });
    expect(err).toMatchObject({ reason: 'timeout', retryable: true, status: 408 });
  });

  it('404 for a wrong URL → client_error', async () => {
    const pd = registry.get('pagerduty');
    const request = {
      ...trigger(pd),
      target: { url: `${sandbox.urls.pagerduty}/v2/nowhere`, routing_key: PD_KEY },
    };
    const err = await failure(pd.send(request, AbortSignal.timeout(5_000)));
    expect(err).toMatchObject({ reason: 'client_error', status: 404 });
    expect(err.message).toContain('No such endpoint');
  });

  it('an invalid URL → client_error, not retryable', async () => {
    const pd = registry.get('pagerduty');
    const request = { ...trigger(pd), target: { url: 'not a url', routing_key: PD_KEY } };
    expect(await failure(pd.send(request, AbortSignal.timeout(5_000)))).toMatchObject({
      reason: 'client_error',
      retryable: false,
    });
  });
});

describe('opsgenie - its own answers', () => {
  const og = (): Case => CASES[1] as Case;

  it('429 without Retry-After → retryAfterMs from X-RateLimit-Period-In-Sec', async () => {
    const err = await sendFailing(og(), { kind: 'status', status: 429 });
    expect(err).toMatchObject({ reason: 'rate_limited', retryable: true, retryAfterMs: 60_000 });
    expect(err.message).toContain('too many requests');
  });

  it("422 → client_error with OpsGenie's message and errors map", async () => {
    const body = {
      message: 'Request body is not processable. Please check the errors.',
      errors: { message: 'Message can not be empty' },
      took: 0.001,
      requestId: 'r-1',
    };
    const err = await sendFailing(og(), { kind: 'status', status: 422, body });
    expect(err).toMatchObject({ reason: 'client_error', retryable: false, status: 422 });
    expect(err.message).toContain('Request body is not processable');
    expect(err.message).toContain('message: Message can not be empty');
  });

  it('401 for a wrong key → auth_error with a region hint, never the key', async () => {
    const provider = registry.get('opsgenie');
    const request = {
      ...trigger(provider),
      target: { url: sandbox.urls.opsgenie, api_key: OG_PAYMENTS_KEY },
    };
    const err = await failure(provider.send(request, AbortSignal.timeout(5_000)));
    expect(err).toMatchObject({ reason: 'auth_error', retryable: false, status: 401 });
    expect(err.message).toContain('Could not authenticate');
    expect(err.message).toContain('wrong region (EU accounts use api.eu.opsgenie.com)?');
    expectNoSecret(err);
  });

  it('402 → auth_error', async () => {
    expect(await sendFailing(og(), { kind: 'status', status: 402 })).toMatchObject({ reason: 'auth_error' });
  });

  it('faults on acknowledge, close and add note map the same way', async () => {
    const provider = registry.get('opsgenie');
    const incident = makeIncident();
    for (const [action, scope] of [
      ['acknowledge', 'acknowledge'],
      ['resolve', 'close'],
      ['note', 'notes'],
    ] as const) {
      sandbox.opsgenie.injectFault({ kind: 'status', status: 503, times: 1, scope: { action: scope } });
      const err = await failure(
        provider.send(requestFor(provider, action, incident, 'n'), AbortSignal.timeout(5_000)),
      );
      expect(err).toMatchObject({ reason: 'server_error', retryable: true });
    }
  });
});

describe('no error names a secret, even when the vendor echoes it', () => {
  const echoes: Record<Case['name'], (secret: string) => unknown> = {
    pagerduty: (s) => ({ status: 'invalid event', message: `routing_key ${s} is invalid`, errors: [s] }),
    opsgenie: (s) => ({ message: `Key ${s} is not valid`, errors: { apiKey: s } }),
    chatops: (s) => ({ error: `secret ${s} and token chat-token-0006 rejected` }),
  };
  const secretOf: Record<Case['name'], string> = {
    pagerduty: PD_KEY,
    opsgenie: OG_KEY,
    chatops: WEBHOOK_SECRET,
  };

  for (const c of CASES) {
    for (const status of [400, 401, 403, 404, 409, 422, 429, 500, 503]) {
      it(`${c.name} ${status}`, async () => {
        const err = await sendFailing(c, { kind: 'status', status, body: echoes[c.name](secretOf[c.name]) });
        expect(err.message).toContain('[redacted]');
      });
    }
  }

  it('a team key is scrubbed too', async () => {
    const pd = registry.get('pagerduty');
    sandbox.pagerduty.injectFault({
      kind: 'status',
      status: 400,
      times: 1,
      body: { message: `bad ${PD_PAYMENTS_KEY}`, errors: [] },
    });
    const request = requestFor(pd, 'trigger', makeIncident());
    const err = await failure(
      pd.send(
        { ...request, target: { ...request.target, routing_key: PD_PAYMENTS_KEY } },
        AbortSignal.timeout(5_000),
      ),
    );
    expectNoSecret(err);
  });

  it('transport failures carry no secret either', async () => {
    for (const c of CASES) {
      await sendFailing(c, { kind: 'drop' });
      await sendFailing(c, { kind: 'hang' }, 100);
    }
  });
});
