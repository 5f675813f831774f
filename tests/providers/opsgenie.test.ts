import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpsGenieSimulator } from '../../src/sandbox/index.js';
import { OpsGenieProvider } from '../../src/providers/opsgenie/opsgenie.js';
import { alertActionUrl, alertsUrl, OpsGenieConfig } from '../../src/providers/opsgenie/config.js';
import { OPSGENIE_LIMITS } from '../../src/providers/opsgenie/payload.js';
import { detailsSize } from '../../src/providers/truncate.js';
import type { OpsgenieResponder } from '../../src/policy/types.js';
import {
  expectValidOutbound,
  hasLoneSurrogate,
  makeIncident,
  OG_KEY,
  OG_PAYMENTS_KEY,
  opsGenieSpec,
  requestFor,
} from './support.js';

let sim: OpsGenieSimulator;
let og: OpsGenieProvider;

const PAYMENTS_RESPONDERS: OpsgenieResponder[] = [{ type: 'team', name: 'payments' }];

beforeAll(async () => {
  sim = await OpsGenieSimulator.start({ port: 0 });
  const overrides = { payments: { api_key: OG_PAYMENTS_KEY, responders: PAYMENTS_RESPONDERS } };
  og = new OpsGenieProvider('opsgenie', new OpsGenieConfig(opsGenieSpec(sim.url), overrides));
});
afterAll(async () => {
  await og.close();
  await sim.stop();
});
beforeEach(() => sim.reset());

const signal = (): AbortSignal => AbortSignal.timeout(5_000);

function lastRequest() {
  const last = sim.requests().at(-1);
  if (last === undefined) throw new Error('no request');
  return last;
}
function lastBody(): Record<string, unknown> {
  return lastRequest().body as Record<string, unknown>;
}

describe('opsgenie - lifecycle against the simulator', () => {
  it('creates, acknowledges, notes and closes one alert by alias', async () => {
    const incident = makeIncident();
    const alias = incident.provider_key;
    const created = await og.send(requestFor(og, 'trigger', incident), signal());
    expect(created.status).toBe(202);
    expect(created.ref).toBe((lastRequest().response as { requestId: string }).requestId);
    expect(sim.requestStatus(created.ref ?? '')).toMatchObject({ isSuccess: true, status: 'Created alert' });
    expect(sim.alert(alias)).toMatchObject({
      alias,
      status: 'open',
      message: incident.title,
      priority: 'P1',
      entity: 'payment-service',
      source: 'incident-router',
      responders: [{ type: 'team', name: 'sre' }],
    });

    await og.send(requestFor(og, 'acknowledge', incident), signal());
    expect(sim.alert(alias)?.status).toBe('acked');
    await og.send(requestFor(og, 'note', incident, 'Looking into it'), signal());
    expect(sim.alert(alias)?.notes.map((n) => n.note)).toContain('Looking into it');
    const closed = await og.send(requestFor(og, 'resolve', incident, 'Fixed upstream'), signal());
    expect(sim.requestStatus(closed.ref ?? '')).toMatchObject({ isSuccess: true, status: 'Closed alert' });
    expect(sim.alert(alias)?.status).toBe('closed');

    const paths = sim.requests().map((r) => `${r.path}?${r.query}`);
    expect(paths).toEqual([
      '/v2/alerts?',
      `/v2/alerts/${alias}/acknowledge?identifierType=alias`,
      `/v2/alerts/${alias}/notes?identifierType=alias`,
      `/v2/alerts/${alias}/close?identifierType=alias`,
    ]);
    expect(sim.requests().map((r) => r.headers['authorization'])).toEqual(
      Array(4).fill(`GenieKey ****${OG_KEY.slice(-4)}`),
    );
    expectValidOutbound(sim.requests());
  });

  it('sends the documented create fields', async () => {
    const incident = makeIncident({ occurrences: 3 });
    await og.send(requestFor(og, 'trigger', incident, 'first seen by the sidecar'), signal());
    const body = lastBody();
    expect(body).toMatchObject({
      message: incident.title,
      alias: incident.provider_key,
      tags: ['payment-service', 'platform', 'critical', 'db-connection-failure'],
      entity: 'payment-service',
      source: 'incident-router',
      priority: 'P1',
      note: 'first seen by the sidecar',
      details: {
        incident_id: incident.id,
        correlation_id: incident.correlation_id,
        fingerprint: incident.fingerprint,
        service: 'payment-service',
        team: 'platform',
        occurrences: '3',
        policy_version: '2026.11.23-1',
        source: 'database',
        host: 'db-1.example.com',
        trace_id: 'trace-1',
        'attributes.pool': 'primary',
        'attributes.waiting': '12',
      },
    });
    expect(body['description']).toBe(
      [
        'connection pool exhausted',
        '',
        'Service: payment-service',
        'Team: platform',
        `Fingerprint: ${incident.fingerprint}`,
        'Occurrences: 3',
        'Incident: http://127.0.0.1:8080/incidents/inc-1',
      ].join('\n'),
    );
  });

  it('acknowledges and closes with default notes and the actor fields', async () => {
    const incident = makeIncident();
    await og.send(requestFor(og, 'trigger', incident), signal());
    await og.send(requestFor(og, 'acknowledge', incident), signal());
    expect(lastBody()).toEqual({
      user: 'incident-router',
      source: 'incident-router',
      note: `Acknowledged through incident-router (incident ${incident.id})`,
    });
    await og.send(requestFor(og, 'note', incident, '   '), signal());
    expect(lastBody()['note']).toBe(`Note from incident-router (incident ${incident.id})`);
    expectValidOutbound(sim.requests());
  });

  it("uses a team's API key and responders for that team", async () => {
    const incident = makeIncident({ team: 'payments' });
    expect(og.target('payments')).toEqual({ url: sim.url, api_key: OG_PAYMENTS_KEY });
    expect(og.target('other')).toEqual({ url: sim.url, api_key: OG_KEY });
    await og.send(requestFor(og, 'trigger', incident), signal());
    expect(lastRequest().headers['authorization']).toBe(`GenieKey ****${OG_PAYMENTS_KEY.slice(-4)}`);
    expect(sim.alert(incident.provider_key)?.responders).toEqual(PAYMENTS_RESPONDERS);
  });

  it('URL-encodes an alias that needs it', async () => {
    const incident = { ...makeIncident(), provider_key: 'ir-odd/alias ?#' };
    await og.send(requestFor(og, 'trigger', incident), signal());
    await og.send(requestFor(og, 'acknowledge', incident), signal());
    expect(sim.alert('ir-odd/alias ?#')?.status).toBe('acked');
  });
});

describe('opsgenie - base URL and path prefix', () => {
  it('appends /v2/alerts to a bare host, a JSM Ops prefix, or a base that already has /v2', () => {
    expect(alertsUrl('https://api.opsgenie.com')).toBe('https://api.opsgenie.com/v2/alerts');
    expect(alertsUrl('https://api.eu.opsgenie.com/')).toBe('https://api.eu.opsgenie.com/v2/alerts');
    expect(alertsUrl('https://api.atlassian.com/jsm/ops/integration')).toBe(
      'https://api.atlassian.com/jsm/ops/integration/v2/alerts',
    );
    expect(alertsUrl('https://x.example/v2')).toBe('https://x.example/v2/alerts');
    expect(alertsUrl('https://x.example/v2/alerts/')).toBe('https://x.example/v2/alerts');
    expect(alertActionUrl('https://api.atlassian.com/jsm/ops/integration', 'ir-a/b', 'close')).toBe(
      'https://api.atlassian.com/jsm/ops/integration/v2/alerts/ir-a%2Fb/close?identifierType=alias',
    );
  });
});

describe('opsgenie - limits are met by truncation, never by a refused request', () => {
  it('cuts message, description, tags, details, entity and responders; the simulator answers 202', async () => {
    const long = (c: string, n: number) => c.repeat(n);
    const attributes = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`key${i}`, long('v', 200)]));
    const incident = makeIncident({
      title: long('t', 128) + '😀' + 'more',
      service: long('s', 600),
      team: long('e', 60),
      rule: long('r', 60),
      event: { message: long('m', 20_000), attributes },
    });
    const responders = Array.from({ length: 60 }, (_, i) => ({ type: 'team' as const, name: `team-${i}` }));
    const provider = new OpsGenieProvider(
      'opsgenie',
      new OpsGenieConfig(opsGenieSpec(sim.url, { responders }), {}),
    );
    try {
      expect(await provider.send(requestFor(provider, 'trigger', incident), signal())).toMatchObject({
        status: 202,
      });
    } finally {
      await provider.close();
    }
    const body = lastBody() as {
      message: string;
      description: string;
      tags: string[];
      details: Record<string, string>;
      entity: string;
      responders: unknown[];
    };
    expect(body.message.length).toBeLessThanOrEqual(OPSGENIE_LIMITS.message);
    expect(body.message).toBe(long('t', 128) + '…');
    expect(hasLoneSurrogate(body.message)).toBe(false);
    expect(body.description.length).toBeLessThanOrEqual(OPSGENIE_LIMITS.description);
    expect(body.description).toContain(`Fingerprint: ${incident.fingerprint}`);
    expect(body.description).toContain('Incident: http://127.0.0.1:8080/incidents/inc-1');
    expect(body.tags.length).toBeLessThanOrEqual(OPSGENIE_LIMITS.tags);
    for (const tag of body.tags) expect(tag.length).toBeLessThanOrEqual(OPSGENIE_LIMITS.tagChars);
    expect(detailsSize(body.details)).toBeLessThanOrEqual(OPSGENIE_LIMITS.detailsTotalChars);
    expect(body.details['incident_id']).toBe(incident.id);
    expect(body.details['fingerprint']).toBe(incident.fingerprint);
    expect(body.details).not.toHaveProperty('attributes.key99');
    expect(body.entity.length).toBe(OPSGENIE_LIMITS.entity);
    expect(body.responders).toHaveLength(OPSGENIE_LIMITS.responders);
    expect(sim.alert(incident.provider_key)?.status).toBe('open');
    expectValidOutbound(sim.requests());
  });

  it('keeps the message at exactly 130 characters, astral character last', async () => {
    const title = 'a'.repeat(128) + '😀';
    await og.send(requestFor(og, 'trigger', makeIncident({ title })), signal());
    expect(lastBody()['message']).toBe(title);
  });

  it('cuts an over-long note on acknowledge and on add note', async () => {
    const incident = makeIncident();
    await og.send(requestFor(og, 'trigger', incident), signal());
    const note = 'n'.repeat(30_000);
    expect((await og.send(requestFor(og, 'acknowledge', incident, note), signal())).status).toBe(202);
    expect((lastBody()['note'] as string).length).toBe(OPSGENIE_LIMITS.note);
    expect((await og.send(requestFor(og, 'note', incident, note), signal())).status).toBe(202);
    expect((lastBody()['note'] as string).length).toBe(OPSGENIE_LIMITS.note);
    expectValidOutbound(sim.requests());
  });

  it('deduplicates tags (severity and criticality are often the same word)', async () => {
    await og.send(requestFor(og, 'trigger', makeIncident({ team: 'payment-service' })), signal());
    expect(lastBody()['tags']).toEqual(['payment-service', 'critical', 'db-connection-failure']);
  });
});

describe('opsgenie - a key rotated out', () => {
  const OLD_KEY = 'og0api0key0rotated0out0secret0003';
  const followUp = (action: 'acknowledge' | 'resolve', incident: ReturnType<typeof makeIncident>) => ({
    ...requestFor(og, action, incident),
    // What the hold keeps: the key the alert was opened with.
    target: { url: sim.url, api_key: OLD_KEY },
  });

  it('a follow-up refused with 401 is sent again with the key configured now, which the response names', async () => {
    const incident = makeIncident();
    await og.send(requestFor(og, 'trigger', incident), signal());
    sim.requireApiKey(OG_KEY);
    const closed = await og.send(followUp('resolve', incident), signal());
    expect(closed).toMatchObject({ status: 202, api_key: OG_KEY });
    const closes = sim.requests().filter((r) => r.path.endsWith('/close'));
    expect(closes.map((r) => r.status)).toEqual([401, 202]);
    expect(sim.alert(incident.provider_key)?.status).toBe('closed');
  });

  it('a 401 to a trigger, or to a follow-up already sent with the key configured now, is an auth error', async () => {
    sim.requireApiKey('og0api0key0nobody0has0this0000004');
    const incident = makeIncident();
    await expect(og.send(requestFor(og, 'trigger', incident), signal())).rejects.toMatchObject({
      reason: 'auth_error',
      status: 401,
    });
    await expect(og.send(requestFor(og, 'acknowledge', incident), signal())).rejects.toMatchObject({
      reason: 'auth_error',
      status: 401,
    });
    // The old key, then the current one: both refused; the error is the second's.
    await expect(og.send(followUp('acknowledge', incident), signal())).rejects.toMatchObject({ status: 401 });
    expect(sim.requests().map((r) => r.status)).toEqual([401, 401, 401, 401]);
  });
});
