// Cluster mode with provider webhooks and provider trouble (issue 12): webhooks sent round-robin to
// the replicas apply once; an acknowledgement through OpsGenie's webhook on one replica syncs
// PagerDuty once and shows on the others within a second; a provider outage loses nothing and sends
// nothing twice; a rate limit holds for the cluster as a whole.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signV1, startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { get, post, waitFor } from '../helpers/app.js';
import { NatsCluster } from '../helpers/nats-cluster.js';
import { opsGenieEvent, pagerDutyEvent } from '../webhooks/support.js';
import { allIncidents, clusterFixture, drained, startReplica, stopReplica, type Replica } from './support.js';

let nats: NatsCluster;
let sandbox: Sandbox;

beforeAll(async () => {
  nats = await NatsCluster.start();
  sandbox = await startSandbox();
}, 90_000);
afterAll(async () => {
  await sandbox?.stop();
  await nats?.dispose();
});

const alert = (service: string) => ({
  title: 'Disk full',
  source: 'database',
  severity: 'critical',
  service_name: service,
});
const PD_SECRET = 'cluster-test-pagerduty-secret';
const OG_TOKEN = 'cluster-test-opsgenie-token';

async function threeReplicas(cluster: string, edits: Record<string, (t: string) => string> = {}) {
  sandbox.pagerduty.reset();
  sandbox.opsgenie.reset();
  sandbox.pagerduty.clearFaults();
  const fixture = await clusterFixture(sandbox, { NATS_URL: nats.url, CLUSTER_NAME: cluster }, edits);
  const replicas = await Promise.all(['a', 'b', 'c'].map((n) => startReplica(fixture, n)));
  return {
    replicas,
    stop: async () => {
      await Promise.all(replicas.map((r) => stopReplica(r)));
      await fixture.dispose();
    },
  };
}

/** Accepted PagerDuty triggers per dedup key. */
function pdTriggers(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of sandbox.pagerduty.requests()) {
    const body = r.body as { event_action?: string; dedup_key?: string };
    if (r.status === 202 && body.event_action === 'trigger')
      m.set(body.dedup_key as string, (m.get(body.dedup_key as string) ?? 0) + 1);
  }
  return m;
}

describe('cluster mode - webhooks and providers', () => {
  it(
    'webhooks round-robin apply once; an OpsGenie acknowledge on one replica syncs PagerDuty once and shows on all within a second',
    { timeout: 120_000 },
    async () => {
      const { replicas, stop } = await threeReplicas('hooks');
      const [a, b, c] = replicas as [Replica, Replica, Replica];
      try {
        const opened = (await post(`${a.url}/api/v1/alerts`, alert('payment-service'))).body;
        const incident = await waitFor(async () => {
          const i = (await get(`${b.url}/api/v1/incidents/${opened.incident_id}`)).body;
          return i.holds?.pagerduty && i.holds?.opsgenie ? i : null;
        });
        const body = opsGenieEvent('Acknowledge', {
          alias: incident.provider_key,
          alertId: 'og-77',
          username: 'olga',
        });
        const headers = { 'x-webhook-token': OG_TOKEN };
        const first = await post(`${b.url}/api/v1/webhooks/opsgenie`, body, headers);
        expect(first.body).toMatchObject({ result: 'applied', state: 'acknowledged' });
        const seenAt = Date.now();
        for (const r of [a, c]) {
          await waitFor(
            async () => (await get(`${r.url}/api/v1/incidents/${incident.id}`)).body.state === 'acknowledged',
            1_000,
            50,
          );
        }
        expect(Date.now() - seenAt).toBeLessThan(2_000);
        // The same webhook again, at the other replicas: a replay each time, nothing applied twice.
        for (const r of [c, a])
          expect((await post(`${r.url}/api/v1/webhooks/opsgenie`, body, headers)).body.result).toBe('replay');
        await drained(a);
        const pd = sandbox.pagerduty.incident(incident.provider_key)!;
        expect(pd.status).toBe('acknowledged');
        const acks = sandbox.pagerduty
          .requests()
          .filter((r) => (r.body as { event_action?: string }).event_action === 'acknowledge');
        expect(acks).toHaveLength(1);
        // A signed PagerDuty resolve, to all three in turn: applied once, replays after.
        const pdBody = pagerDutyEvent(
          'incident.resolved',
          { id: pd.id, incident_key: incident.provider_key },
          { id: 'EVT-RR' },
        );
        const sig = { 'x-pagerduty-signature': signV1(pdBody, [PD_SECRET]) };
        const results = [];
        for (const r of [c, a, b])
          results.push((await post(`${r.url}/api/v1/webhooks/pagerduty`, pdBody, sig)).body.result);
        expect(results).toEqual(['applied', 'replay', 'replay']);
        await drained(a);
        expect(sandbox.opsgenie.alert(incident.provider_key)?.status).toBe('closed');
        const closes = sandbox.opsgenie.requests().filter((r) => r.path.endsWith('/close'));
        expect(closes).toHaveLength(1);
      } finally {
        await stop();
      }
    },
  );

  it(
    'a provider outage: deliveries wait, none is lost or sent twice when it returns',
    { timeout: 180_000 },
    async () => {
      const quick = (s: string) =>
        s
          .replace('outage_backoff_max: 1m', 'outage_backoff_max: 2s')
          .replace(/cooldown: \S+ \}/, 'cooldown: 2s }');
      const { replicas, stop } = await threeReplicas('outage', { '00-settings.yaml': quick });
      try {
        sandbox.pagerduty.injectFault({ kind: 'status', status: 503 });
        for (let i = 0; i < 18; i++) {
          const r = replicas[i % 3] as Replica;
          expect((await post(`${r.url}/api/v1/alerts`, alert(`svc-${i}`))).status).toBe(202);
        }
        await waitFor(
          async () => sandbox.pagerduty.requests().filter((r) => r.status === 503).length >= 18,
          60_000,
          200,
        );
        sandbox.pagerduty.clearFaults();
        await drained(replicas[0] as Replica, 120_000);
        const incidents = await allIncidents((replicas[1] as Replica).url);
        expect(incidents).toHaveLength(18);
        const triggers = pdTriggers();
        expect([...triggers.values()].every((n) => n === 1)).toBe(true);
        expect([...triggers.keys()].sort()).toEqual(incidents.map((i) => i.provider_key).sort());
      } finally {
        await stop();
      }
    },
  );

  it('a rate limit holds for the cluster as a whole, not per replica', { timeout: 120_000 }, async () => {
    const limited = (s: string) =>
      s.replace('rate_limit: { per_minute: 120 }', 'rate_limit: { per_minute: 12 }');
    const { replicas, stop } = await threeReplicas('rates', { 'providers.yaml': limited });
    try {
      for (let i = 0; i < 30; i++) {
        const r = replicas[i % 3] as Replica;
        expect((await post(`${r.url}/api/v1/alerts`, alert(`rl-${i}`))).status).toBe(202);
      }
      // OpsGenie has no limit: it takes all 30 at once; PagerDuty, 12 this minute whoever sends them.
      await waitFor(async () => sandbox.opsgenie.alerts().length === 30, 30_000, 200);
      await new Promise((r) => setTimeout(r, 3_000));
      expect([...pdTriggers().values()].reduce((a, n) => a + n, 0)).toBe(12);
      expect(sandbox.pagerduty.requests().filter((r) => r.status === 429)).toHaveLength(0);
    } finally {
      await stop();
    }
  });
});
