// Secrets never reach logs, API answers or the timeline; payloads at and over every provider limit
// are truncated, never rejected (issue 3).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { get, post, startTestApp, waitFor, type TestApp } from '../helpers/app.js';

const ROUTING_KEY = 'Q7wErTy9UiOp3AsDfGh5JkLzXcVbNm12';
const OPSGENIE_KEY = 'og-secret-0a1b2c3d4e5f60718293';
const API_TOKEN = 'api-token-that-is-long-enough-42';

let sandbox: Sandbox;
let t: TestApp;

beforeAll(async () => {
  sandbox = await startSandbox();
  t = await startTestApp(
    { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, OPSGENIE_API_KEY: OPSGENIE_KEY, API_TOKEN },
    { sandbox, captureLogs: true },
  );
});
afterAll(async () => {
  await t.stop();
  await sandbox.stop();
});

const auth = { authorization: `Bearer ${API_TOKEN}` };

describe('secrets', () => {
  it('never appear in logs, answers or timelines, even when a provider echoes one back', async () => {
    // A provider that quotes the key in its error text (some do): it must be scrubbed everywhere.
    sandbox.pagerduty.injectFault({
      kind: 'status',
      status: 400,
      times: 1,
      body: {
        status: 'invalid event',
        message: `routing key ${ROUTING_KEY} is disabled`,
        errors: [`key ${ROUTING_KEY}`],
      },
    });
    const high = await post(
      `${t.url}/api/v1/alerts`,
      { title: 'Export stuck', source: 'export', severity: 'high', service_name: 'order-service' },
      auth,
    );
    // The fault is for this alert's trigger: the critical one's may not overtake it.
    await waitFor(async () => sandbox.opsgenie.alerts().length === 1);
    const critical = await post(
      `${t.url}/api/v1/alerts`,
      {
        title: 'Database Connection Failed',
        source: 'database',
        severity: 'critical',
        service_name: 'payment-service',
      },
      auth,
    );
    await waitFor(
      async () => sandbox.opsgenie.alerts().length === 2 && sandbox.pagerduty.incidents().length === 1,
    );
    await post(`${t.url}/api/v1/incidents/${critical.body.incident_id}/resolve`, { note: 'fixed' }, auth);
    await waitFor(async () => sandbox.pagerduty.incidents()[0]?.status === 'resolved');
    // The keys really were used (the simulators saw them), so their absence below means something.
    expect(sandbox.pagerduty.incidents()[0]!.routingKey).toBe(ROUTING_KEY);
    expect(sandbox.opsgenie.requests()[0]!.headers['authorization']).toMatch(/^GenieKey \*\*\*\*/);

    const answers = [
      await get(`${t.url}/api/v1/incidents/${high.body.incident_id}`),
      await get(`${t.url}/api/v1/incidents/${critical.body.incident_id}`),
      await get(`${t.url}/api/v1/incidents`),
      await get(`${t.url}/api/v1/health`),
      await get(`${t.url}/api/v1/metrics`),
      await get(`${t.url}/api/v1/policy`),
      await get(`${t.url}/metrics`),
    ];
    for (const a of answers) {
      const text = typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
      expect(text).not.toContain(ROUTING_KEY);
      expect(text).not.toContain(OPSGENIE_KEY);
      expect(text).not.toContain(API_TOKEN);
    }
    const detail = answers[1]!.body;
    expect(detail.holds.pagerduty.routing_key).toBe('****Nm12');
    expect(JSON.stringify(answers[0]!.body.timeline)).toContain('[redacted]');
    const logs = t.logs();
    expect(logs.length).toBeGreaterThan(1000);
    expect(logs).not.toContain(ROUTING_KEY);
    expect(logs).not.toContain(OPSGENIE_KEY);
    expect(logs).not.toContain(API_TOKEN);
  });

  it('mutating endpoints want the API token', async () => {
    const alert = { title: 'x', source: 'y', severity: 'low', service_name: 'z' };
    expect((await post(`${t.url}/api/v1/alerts`, alert)).status).toBe(401);
    expect((await post(`${t.url}/api/v1/events`, {})).status).toBe(401);
    expect((await post(`${t.url}/api/v1/incidents/inc_x/acknowledge`, {})).status).toBe(401);
  });
});

describe('API_TOKEN while rotating', () => {
  it('with the old and the new token configured, either is accepted, and only those', async () => {
    const NEW_TOKEN = 'api-token-after-the-rotation-0042';
    const rotating = await startTestApp(
      { API_TOKEN: `${NEW_TOKEN},${API_TOKEN}` },
      { sandbox, captureLogs: true },
    );
    try {
      const alert = { title: 'x', source: 'y', severity: 'low', service_name: 'rotation' };
      const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
      expect((await post(`${rotating.url}/api/v1/alerts`, alert, bearer(API_TOKEN))).status).toBe(202);
      expect((await post(`${rotating.url}/api/v1/alerts`, alert, bearer(NEW_TOKEN))).status).toBe(202);
      expect(
        (await post(`${rotating.url}/api/v1/alerts`, alert, bearer(`${NEW_TOKEN},${API_TOKEN}`))).status,
      ).toBe(401);
      expect(
        (await post(`${rotating.url}/api/v1/alerts`, alert, bearer('api-token-nobody-has-00000'))).status,
      ).toBe(401);
      expect(rotating.logs()).not.toContain(NEW_TOKEN);
    } finally {
      await rotating.stop();
    }
  });
});

describe('payload limits', () => {
  it('a 64 KiB title, description and details are truncated to every provider limit and accepted', async () => {
    const huge = 'Ω'.repeat(65_536);
    const details = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`field_${i}`, `${i}:${'x'.repeat(1_500)}`]),
    );
    const { body } = await post(
      `${t.url}/api/v1/alerts`,
      {
        title: huge,
        source: 'database',
        severity: 'critical',
        service_name: 'user-auth',
        description: huge,
        details,
      },
      auth,
    );
    expect(body.paged).toBe(true);
    await waitFor(async () => {
      const d = (await get(`${t.url}/api/v1/incidents/${body.incident_id}`)).body;
      return d.holds.pagerduty?.state === 'open' && d.holds.opsgenie?.state === 'open';
    });
    const providerKey = (await get(`${t.url}/api/v1/incidents/${body.incident_id}`)).body.provider_key;
    const pd = sandbox.pagerduty.incident(providerKey)!;
    expect((pd.lastEvent as any).payload.summary.length).toBeLessThanOrEqual(1024);
    expect(Buffer.byteLength(JSON.stringify(pd.lastEvent))).toBeLessThan(512_000);
    const og = sandbox.opsgenie.alerts().find((a) => a.alias === pd.dedupKey)!;
    expect(og.message.length).toBeLessThanOrEqual(130);
    expect((og.description ?? '').length).toBeLessThanOrEqual(15_000);
    const total = Object.entries(og.details).reduce((n, [k, v]) => n + k.length + v.length, 0);
    expect(total).toBeLessThanOrEqual(8_000);
    for (const r of [...sandbox.pagerduty.requests(), ...sandbox.opsgenie.requests()]) {
      if (r.status !== null && r.status >= 400 && r.status !== 400)
        expect.fail(`a provider refused a request: ${r.status}`);
    }
  });
});
