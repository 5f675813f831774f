// Delivery end to end over real HTTP, a real LevelDB and the provider simulators (issue 3).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { fastBreaker, get, post, startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { useSimulators } from '../helpers/sandbox.js';
import { validateOutbound } from '../helpers/schemas.js';

const SEED = {
  title: 'Database Connection Failed',
  source: 'database',
  severity: 'critical',
  service_name: 'payment-service',
};
/**
 * A high alert of the applications team: routed `default`, failover PagerDuty → OpsGenie, at any
 * hour. Unclassified alerts are fingerprinted by service and level, so each n is its own incident.
 */
const FAILOVER_SERVICES = ['order-service', 'inventory-service', 'search', 'notification-service'];
const failoverAlert = (n: number) => ({
  title: `Export stuck #${n}`,
  source: 'export',
  severity: 'high',
  service_name: FAILOVER_SERVICES[n - 1] as string,
});

let sandbox: Sandbox;
let t: TestApp;

useSimulators((s) => (sandbox = s));
beforeEach(async () => {
  t = await startTestApp({}, { sandbox, editSettings: fastBreaker });
});
afterEach(async () => t.stop());

const incidentDetail = async (id: string) => (await get(`${t.url}/api/v1/incidents/${id}`)).body;

describe('delivery', () => {
  it("seed - the brief's alert is critical and reaches PagerDuty and OpsGenie with one correlation id", async () => {
    const { status, body } = await post(`${t.url}/api/v1/alerts`, SEED);
    expect(status).toBe(202);
    expect(body.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body).toMatchObject({ severity: 'critical', paged: true, route: { name: 'critical-everywhere' } });
    const pd = await waitFor(async () => sandbox.pagerduty.incidents()[0]);
    const og = await waitFor(async () => sandbox.opsgenie.alerts()[0]);
    expect((pd.lastEvent as any).payload.custom_details.correlation_id).toBe(body.correlation_id);
    expect(og.details['correlation_id']).toBe(body.correlation_id);
    expect(pd.dedupKey).toBe(og.alias);
    expect((pd.lastEvent as any).payload.severity).toBe('critical');
    expect(og.priority).toBe('P1');
    for (const r of sandbox.pagerduty.requests())
      expect(validateOutbound('pagerduty-event', r.body)).toEqual([]);
    for (const r of sandbox.opsgenie.requests())
      expect(validateOutbound('opsgenie-create-alert', r.body)).toEqual([]);
    const detail = await waitFor(async () => {
      const d = await incidentDetail(body.incident_id);
      return Object.keys(d.holds).length === 2 ? d : null;
    });
    expect(detail.timeline.map((e: { type: string }) => e.type)).toEqual([
      'opened',
      'delivered',
      'delivered',
    ]);
    expect(detail.timeline[0].policy_version).toBe('2026.11.23-1');
    expect(detail.timeline[0].details.decision.trace.length).toBe(4);
  });

  it('dedup - repeats are counted on the open incident and page nobody again', async () => {
    const first = await post(`${t.url}/api/v1/alerts`, SEED);
    const again = await Promise.all([1, 2, 3, 4].map(() => post(`${t.url}/api/v1/alerts`, SEED)));
    for (const r of again)
      expect(r.body).toMatchObject({
        outcome: 'deduplicated',
        incident_id: first.body.incident_id,
        correlation_id: first.body.correlation_id,
      });
    await waitFor(
      async () => sandbox.opsgenie.alerts().length === 1 && sandbox.pagerduty.incidents().length === 1,
    );
    await t.app.parts.engine.idle();
    expect(sandbox.pagerduty.requests()).toHaveLength(1);
    expect((await incidentDetail(first.body.incident_id)).occurrences).toBe(5);
  });

  it('failover - PagerDuty answering 500: OpsGenie has it within 2 s, the breaker opens, then half-opens and closes on recovery, and the acknowledge goes to OpsGenie', async () => {
    sandbox.pagerduty.injectFault({ kind: 'status', status: 500 });
    const started = Date.now();
    const first = await post(`${t.url}/api/v1/alerts`, failoverAlert(1));
    await waitFor(async () => sandbox.opsgenie.alerts().length === 1, 2_000, 20);
    expect(Date.now() - started).toBeLessThan(2_000);
    // A second alert spends two more failures: five in a row open the breaker.
    await post(`${t.url}/api/v1/alerts`, failoverAlert(2));
    await waitFor(
      async () => (await get(`${t.url}/api/v1/health`)).body.integrations.pagerduty.breaker === 'open',
    );
    const attemptsWhileOpen = sandbox.pagerduty.requests().length;
    await post(`${t.url}/api/v1/alerts`, failoverAlert(3));
    await waitFor(async () => sandbox.opsgenie.alerts().length === 3);
    expect(sandbox.pagerduty.requests().length).toBe(attemptsWhileOpen); // open: not even tried
    expect((await get(`${t.url}/api/v1/health`)).body.system_status).toBe('degraded');

    sandbox.pagerduty.clearFaults();
    await new Promise((r) => setTimeout(r, 2_100)); // the cool-down
    await post(`${t.url}/api/v1/alerts`, failoverAlert(4)); // the probe
    await waitFor(async () => sandbox.pagerduty.incidents().length === 1);
    await waitFor(
      async () => (await get(`${t.url}/api/v1/health`)).body.integrations.pagerduty.breaker === 'closed',
    );

    const ack = await post(`${t.url}/api/v1/incidents/${first.body.incident_id}/acknowledge`, {});
    expect(ack.status).toBe(200);
    await waitFor(
      async () => sandbox.opsgenie.alerts().find((a) => a.message.includes('#1'))?.status === 'acked',
    );
    await t.app.parts.engine.idle();
    expect(sandbox.pagerduty.requests().some((r) => (r.body as any)?.event_action === 'acknowledge')).toBe(
      false,
    );
    const timeline = (await incidentDetail(first.body.incident_id)).timeline.map(
      (e: { type: string }) => e.type,
    );
    expect(timeline).toEqual([
      'opened',
      'delivery_retry',
      'failover',
      'delivered',
      'acknowledged',
      'delivered',
    ]);
  });

  it('retry - a 429 with Retry-After is waited out before the next attempt', async () => {
    sandbox.pagerduty.injectFault({ kind: 'status', status: 429, retryAfterSec: 2, times: 1 });
    await post(`${t.url}/api/v1/alerts`, failoverAlert(1));
    await waitFor(async () => sandbox.pagerduty.incidents().length === 1, 6_000);
    const [throttled, accepted] = sandbox.pagerduty.requests();
    expect(throttled!.status).toBe(429);
    expect(accepted!.status).toBe(202);
    expect(Date.parse(accepted!.at) - Date.parse(throttled!.at)).toBeGreaterThanOrEqual(2_000);
    expect(sandbox.opsgenie.alerts()).toHaveLength(0); // retried in place, no failover
  });

  it("refusal - a 400 is not retried: failover instead, with the provider's error text on the timeline", async () => {
    sandbox.pagerduty.injectFault({
      kind: 'status',
      status: 400,
      times: 1,
      body: {
        status: 'invalid event',
        message: 'Event object is invalid',
        errors: ["'payload.summary' is missing or blank"],
      },
    });
    const { body } = await post(`${t.url}/api/v1/alerts`, failoverAlert(1));
    await waitFor(async () => sandbox.opsgenie.alerts().length === 1);
    await t.app.parts.engine.idle();
    expect(sandbox.pagerduty.requests()).toHaveLength(1);
    const detail = await incidentDetail(body.incident_id);
    const failover = detail.timeline.find((e: { type: string }) => e.type === 'failover');
    expect(failover.message).toContain('HTTP 400 (client_error)');
    expect(failover.message).toContain("'payload.summary' is missing or blank");
    expect(failover.message).toContain('failing over to opsgenie');
    expect(detail.holds.opsgenie.state).toBe('open');
  });

  it('resolve - a recovery line resolves the incident at every provider that holds it', async () => {
    const event = (message: string, level: string) => ({
      timestamp: new Date().toISOString(),
      service: 'payment-service',
      level,
      source: 'database',
      message,
    });
    await post(
      `${t.url}/api/v1/events`,
      event('database connection pool exhausted (max=50, waiting=9)', 'error'),
    );
    await waitFor(
      async () => sandbox.pagerduty.incidents().length === 1 && sandbox.opsgenie.alerts().length === 1,
    );
    await t.app.parts.engine.idle();
    const res = await post(`${t.url}/api/v1/events`, event('database connection pool recovered', 'info'));
    expect(res.body.outcomes).toEqual({ resolved: 1 });
    await waitFor(
      async () =>
        sandbox.pagerduty.incidents()[0]?.status === 'resolved' &&
        sandbox.opsgenie.alerts()[0]?.status === 'closed',
    );
    const list = (await get(`${t.url}/api/v1/incidents?state=resolved`)).body.incidents;
    expect(list).toHaveLength(1);
    // The next failure opens a new incident.
    await post(`${t.url}/api/v1/events`, event('connection refused to postgres', 'error'));
    await waitFor(async () => sandbox.pagerduty.incidents().length === 2);
  });
});
