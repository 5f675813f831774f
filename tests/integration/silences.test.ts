// Silences over HTTP (docs/http-api.md, "Silences"): the real app with the provider simulators, a
// clock the test moves, one sidecar for the file; runs against both state backends
// (vitest.config.ts). Each scenario uses its own service, so they share the app without meeting.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { RecordedAlert } from '../../src/incidents/lifecycle.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { exposition, get, post, startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { useSimulators } from '../helpers/sandbox.js';

const TOKEN = 'silence-test-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const MIN = 60_000;

let sandbox: Sandbox;
let t: TestApp;
let clock: ManualClock;
const recorded: RecordedAlert[] = [];
useSimulators((s) => (sandbox = s));

beforeAll(async () => {
  clock = new ManualClock(Date.now());
  t = await startTestApp({ API_TOKEN: TOKEN }, { sandbox, clock });
  t.app.parts.lifecycle.subscribe({ recorded: (a) => recorded.push(a) });
});
afterAll(async () => t?.stop());

async function send(method: string, path: string, body?: unknown, headers: Record<string, string> = AUTH) {
  const res = await fetch(`${t.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const silence = (body: Record<string, unknown>) =>
  send('POST', '/api/v1/silences', { created_by: 'alice', comment: 'known issue, fix in an hour', ...body });

/** A failure of `service` (classify: db-connection-failure, critical): `{service}:db-connection`. */
const fail = (service: string) =>
  post(
    `${t.url}/api/v1/alerts`,
    { title: 'connection refused', source: 'http', severity: 'high', service_name: service },
    AUTH,
  );
const recover = (service: string) =>
  post(
    `${t.url}/api/v1/alerts`,
    { title: 'connection pool recovered', source: 'http', severity: 'low', service_name: service },
    AUTH,
  );

async function settle(): Promise<void> {
  await t.app.parts.engine.idle();
  await t.app.parts.state.idle();
}

const pdStatus = (service: string): string | undefined => {
  const key = sandbox.pagerduty.incidents().find((i) => i.title.includes(service));
  return key?.status;
};

describe('silences - the suppress stage', () => {
  it('a silence made over HTTP stops the next matching alert from paging and names itself in the trace', async () => {
    const made = await silence({ matchers: [{ fact: 'service', value: 'sil-a' }], duration: '1h' });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ state: 'active', created_by: 'alice', version: 1 });
    const id = made.body.id as string;

    const quiet = await fail('sil-a');
    expect(quiet.status).toBe(202);
    expect(quiet.body).toMatchObject({ outcome: 'suppressed', paged: false, incident_id: null });
    expect(quiet.body.suppressed_by).toEqual({
      rule: `silence:${id}`,
      reason: 'known issue, fix in an hour',
      silence: id,
    });
    expect(recorded.at(-1)).toMatchObject({ reason: 'suppressed', service: 'sil-a', silence_id: id });

    const dry = await post(`${t.url}/api/v1/policy/dry-run`, {
      alert: { title: 'connection refused', source: 'http', severity: 'high', service_name: 'sil-a' },
    });
    expect(dry.body.suppressed).toBe(true);
    const stage = (dry.body.trace as { stage: string; rules: { name: string; reason?: string }[] }[]).find(
      (s) => s.stage === 'suppress',
    );
    expect(stage?.rules.at(-1)).toMatchObject({ name: `silence:${id}`, matched: true });
    expect(stage?.rules.at(-1)?.reason).toContain('alice');

    // Another service still pages.
    const loud = await fail('sil-b');
    expect(loud.body).toMatchObject({ outcome: 'paged', paged: true });
    await settle();
    expect(sandbox.pagerduty.incidents().some((i) => i.title.includes('sil-b'))).toBe(true);
    expect(sandbox.pagerduty.incidents().some((i) => i.title.includes('sil-a'))).toBe(false);

    const metrics = await exposition(t.url);
    expect(metrics).toMatch(/incident_router_silenced_total [1-9]/);
    expect(metrics).toMatch(/incident_router_silences\{state="active"\} [1-9]/);
  });

  it('expiry restores paging: by the clock, and by DELETE', async () => {
    const start = clock.now();
    const timed = await silence({ matchers: [{ fact: 'service', value: 'sil-c' }], duration: '10m' });
    expect((await fail('sil-c')).body.outcome).toBe('suppressed');
    clock.set(start + 10 * MIN); // ends_at is exclusive
    expect((await get(`${t.url}/api/v1/silences/${timed.body.id}`)).body.state).toBe('expired');
    expect((await fail('sil-c')).body.outcome).toBe('paged');

    const manual = await silence({
      matchers: [{ fact: 'fingerprint', value: 'sil-d:db-connection' }],
      duration: '2h',
    });
    expect((await fail('sil-d')).body.outcome).toBe('suppressed');
    const expired = await send(
      'DELETE',
      `/api/v1/silences/${manual.body.id}?by=bob&comment=${encodeURIComponent('fixed')}`,
    );
    expect(expired.status).toBe(200);
    expect(expired.body).toMatchObject({ state: 'expired', changed: true, version: 2 });
    expect(expired.body.history.map((h: { action: string; by: string }) => [h.action, h.by])).toEqual([
      ['created', 'alice'],
      ['expired', 'bob'],
    ]);
    expect((await fail('sil-d')).body.outcome).toBe('paged');
    const listed = await get(`${t.url}/api/v1/silences?state=expired`);
    expect(listed.body.silences.map((s: { id: string }) => s.id)).toEqual(
      expect.arrayContaining([timed.body.id, manual.body.id]),
    );
  });

  it('a resolve during a silence reaches the providers; PUT extends', async () => {
    expect((await fail('sil-e')).body.outcome).toBe('paged');
    await settle();
    expect(pdStatus('sil-e')).toBe('triggered');
    const made = await silence({ matchers: [{ fact: 'service', value: 'sil-e' }], duration: '5m' });
    const extended = await send('PUT', `/api/v1/silences/${made.body.id}`, {
      duration: '3h',
      updated_by: 'carol',
      comment: 'the fix slipped',
    });
    expect(extended.status).toBe(200);
    expect(Date.parse(extended.body.ends_at)).toBe(clock.now() + 3 * 60 * MIN);
    expect(extended.body.history.at(-1)).toMatchObject({ action: 'updated', by: 'carol' });
    // A repeat of the open incident is still counted on it, not suppressed.
    expect((await recover('sil-e')).body.outcome).toBe('resolved');
    await settle();
    await waitFor(async () => pdStatus('sil-e') === 'resolved');
  });

  it('pending silences apply from starts_at', async () => {
    const at = new Date(clock.now() + 5 * MIN).toISOString();
    const made = await silence({
      matchers: [
        { fact: 'message', op: 'matches', value: 'connection (refused|reset)' },
        { fact: 'team', value: 'unowned' },
        { fact: 'service', op: 'matches', value: '^sil-f' },
      ],
      starts_at: at,
      duration: '1h',
    });
    expect(made.body.state).toBe('pending');
    expect((await fail('sil-f1')).body.outcome).toBe('paged');
    clock.advance(5 * MIN);
    expect((await fail('sil-f2')).body.outcome).toBe('suppressed');
  });
});

describe('silences - refused requests', () => {
  const field = async (body: Record<string, unknown>): Promise<string> => {
    const res = await silence(body);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain(res.body.error.details.field);
    return res.body.error.details.field as string;
  };
  const svc = { fact: 'service', value: 'x' };

  it('names the field: bad regex, catastrophic regex, unknown fact, dates, match-everything', async () => {
    expect(
      await field({ matchers: [svc, { fact: 'message', op: 'matches', value: '(' }], duration: '1h' }),
    ).toBe('matchers[1].value');
    expect(
      await field({ matchers: [{ fact: 'message', op: 'matches', value: '^(a+)+$' }], duration: '1h' }),
    ).toBe('matchers[0].value');
    expect(await field({ matchers: [{ fact: 'colour', value: 'red' }], duration: '1h' })).toBe(
      'matchers[0].fact',
    );
    const now = clock.now();
    expect(
      await field({
        matchers: [svc],
        starts_at: new Date(now + MIN).toISOString(),
        ends_at: new Date(now).toISOString(),
      }),
    ).toBe('ends_at');
    expect(await field({ matchers: [svc], ends_at: '2026-02-30T10:00:00Z' })).toBe('ends_at');
    expect(await field({ matchers: [svc], duration: 'soon' })).toBe('duration');
    expect(await field({ matchers: [], duration: '1h' })).toBe('matchers');
    expect(await field({ matchers: [{ fact: 'message', op: 'matches', value: '.*' }], duration: '1h' })).toBe(
      'matchers',
    );
    const forced = await silence({
      matchers: [{ fact: 'message', op: 'matches', value: '.*' }],
      duration: '1m',
      force: true,
    });
    expect(forced.status).toBe(201);
    await send('DELETE', `/api/v1/silences/${forced.body.id}`);
  });

  it('with API_TOKEN set, creating, extending or expiring without it is 401', async () => {
    const made = await silence({ matchers: [svc], duration: '1h' });
    const noAuth = { authorization: '' };
    const create = await send('POST', '/api/v1/silences', { matchers: [svc], duration: '1h' }, noAuth);
    expect(create.status).toBe(401);
    const put = await send(
      'PUT',
      `/api/v1/silences/${made.body.id}`,
      { duration: '2h', updated_by: 'x', comment: 'y' },
      noAuth,
    );
    expect(put.status).toBe(401);
    expect((await send('DELETE', `/api/v1/silences/${made.body.id}`, undefined, noAuth)).status).toBe(401);
    expect((await get(`${t.url}/api/v1/silences/${made.body.id}`)).body.state).toBe('active');
    expect((await get(`${t.url}/api/v1/silences/nope`)).status).toBe(404);
  });
});

describe('silences - retention', () => {
  it('silences that ended longer ago than RETENTION are deleted from the store', async () => {
    const made = await silence({ matchers: [{ fact: 'service', value: 'sil-old' }], duration: '1m' });
    const count = t.app.parts.silences.list(null).length;
    clock.advance(31 * 24 * 60 * MIN); // RETENTION defaults to 30 days
    const pruned = await t.app.parts.silences.prune();
    expect(pruned).toBeGreaterThan(0);
    expect(pruned).toBeLessThanOrEqual(count);
    expect((await get(`${t.url}/api/v1/silences/${made.body.id}`)).status).toBe(404);
    expect(await t.app.parts.state.loadSilences()).toEqual(
      expect.not.arrayContaining([expect.objectContaining({ id: made.body.id })]),
    );
  });
});
