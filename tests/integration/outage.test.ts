// Every provider down for a minute while alerts keep arriving (issue 3): nothing is lost, the
// health endpoint counts what waits, `delivery_failed` is recorded, and after recovery everything
// is delivered exactly once per fingerprint.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LifecycleEvent } from '../../src/incidents/lifecycle.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { get, post, startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { keysAtProviders } from '../helpers/sandbox.js';

let sandbox: Sandbox;
let t: TestApp;

beforeAll(async () => {
  sandbox = await startSandbox();
  // Recovery is noticed within 5 s instead of the default 1 min cap.
  t = await startTestApp(
    {},
    { sandbox, editSettings: (s) => s.replace(/outage_backoff_max: \S+/, 'outage_backoff_max: 5s') },
  );
});
afterAll(async () => {
  await t.stop();
  await sandbox.stop();
});

describe('total outage', () => {
  it(
    'every provider down for a minute: all delivered after recovery, none lost, none duplicated',
    { timeout: 180_000 },
    async () => {
      const failed: LifecycleEvent[] = [];
      t.app.parts.lifecycle.subscribe({ incident: (e) => e.kind === 'delivery_failed' && failed.push(e) });
      await sandbox.pagerduty.down({ mode: 'refuse' });
      await sandbox.opsgenie.down({ mode: 'refuse' });
      const services = [
        'order-service',
        'inventory-service',
        'search',
        'notification-service',
        'payment-service',
        'api-gateway',
      ];
      const incidents = new Set<string>();
      const outageEnds = Date.now() + 60_000;
      let sent = 0;
      while (Date.now() < outageEnds) {
        const service = services[sent % services.length] as string;
        const severity = sent % 4 === 0 ? 'critical' : 'high';
        const { status, body } = await post(`${t.url}/api/v1/alerts`, {
          title: `Outage probe ${sent}`,
          source: 'probe',
          severity,
          service_name: service,
        });
        expect(status).toBe(202);
        incidents.add(body.incident_id);
        sent++;
        await new Promise((r) => setTimeout(r, 1_000));
      }
      const health = (await get(`${t.url}/api/v1/health`)).body;
      expect(health.deliveries_pending).toBeGreaterThan(0);
      // The gauge a Prometheus alert would watch says so too, in both state backends.
      const scraped = await (await fetch(`${t.url}/metrics`)).text();
      const gauge = /^incident_router_deliveries_pending(?:\{[^}]*\})? (\d+)/m.exec(scraped);
      expect(Number(gauge?.[1])).toBeGreaterThan(0);
      expect(health.system_status).toBe('unhealthy');
      expect(failed.length).toBeGreaterThan(0);

      await sandbox.pagerduty.up();
      await sandbox.opsgenie.up();
      await waitFor(
        async () => (await get(`${t.url}/api/v1/health`)).body.deliveries_pending === 0,
        60_000,
        250,
      );
      const { pagerduty: pdKeys, opsgenie: ogKeys } = keysAtProviders(sandbox);
      expect(new Set(pdKeys).size).toBe(pdKeys.length);
      expect(new Set(ogKeys).size).toBe(ogKeys.length);
      for (const id of incidents) {
        const incident = (await get(`${t.url}/api/v1/incidents/${id}`)).body;
        const reached = [
          pdKeys.includes(incident.provider_key),
          ogKeys.includes(incident.provider_key),
        ].filter(Boolean).length;
        expect(reached).toBeGreaterThanOrEqual(1);
        expect(incident.timeline.some((e: { type: string }) => e.type === 'delivery_failed')).toBe(true);
      }
      expect(sent).toBeGreaterThanOrEqual(50);
    },
  );
});
