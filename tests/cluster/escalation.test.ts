// Escalation timers in cluster mode (docs/architecture.md, "Escalation timers"): three sidecar
// processes on a 3-node nats-server cluster each keep every timer; when a tier falls due all three
// try to fire it, and exactly one compare-and-set of the incident's record wins: each tier is
// recorded once per incident and its trigger sent once. With R3 buckets, with R1 buckets on the
// same cluster (where claims are needed too: docs/architecture.md, "Claims"), and with three replicas
// on one nats-server (where the losers' withdrawn triggers once took winners' with them:
// docs/architecture.md, "Delivery").
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { get, post, waitFor } from '../helpers/app.js';
import { tiersOf } from '../helpers/escalation.js';
import { NatsCluster } from '../helpers/nats-cluster.js';
import { NatsServer } from '../helpers/nats-server.js';
import {
  clusterFixture,
  drained,
  startReplica,
  stopReplica,
  type ClusterFixture,
  type Replica,
} from './support.js';

const KEYS = ['C1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'C2bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'];
const POLICY = `apiVersion: incident-router/v1
escalations:
  cluster-test:
    tiers:
      - { after: 0m, targets: [{ pagerduty: { routing_key: ${KEYS[0]} } }], deliver: { mode: all, providers: [pagerduty] } }
      - { after: 6s, targets: [{ pagerduty: { routing_key: ${KEYS[1]} } }], deliver: { mode: all, providers: [pagerduty] } }
routes:
  - name: cluster-test-route
    priority: 10000
    when: { all: [{ fact: source, operator: equal, value: cluster-escalation }] }
    deliver: { mode: all, providers: [pagerduty] }
    escalation: cluster-test
`;
const INCIDENTS = 30;

/** Trigger requests PagerDuty received for a routing key, by dedup key. */
function triggersAt(sandbox: Sandbox, key: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of sandbox.pagerduty.requests()) {
    const body = r.body as { routing_key?: string; event_action?: string; dedup_key?: string } | null;
    if (body?.routing_key !== key || body.event_action !== 'trigger') continue;
    counts.set(body.dedup_key ?? '', (counts.get(body.dedup_key ?? '') ?? 0) + 1);
  }
  return counts;
}

const SETUPS = [
  { servers: 3, bucketReplicas: '3' },
  { servers: 3, bucketReplicas: '1' },
  { servers: 1, bucketReplicas: '1' },
];

describe.each(SETUPS)(
  'cluster - escalation timers, $servers nats-server(s), CLUSTER_REPLICAS=$bucketReplicas',
  ({ servers, bucketReplicas }) => {
    let nats: NatsCluster | NatsServer;
    let sandbox: Sandbox;
    let fixture: ClusterFixture;
    let replicas: Replica[] = [];

    beforeAll(async () => {
      nats = servers === 1 ? await NatsServer.start() : await NatsCluster.start();
      sandbox = await startSandbox();
      fixture = await clusterFixture(sandbox, {
        NATS_URL: nats.url,
        CLUSTER_NAME: `esc${Math.random().toString(36).slice(2, 8)}`,
        CLUSTER_REPLICAS: bucketReplicas,
      });
      await writeFile(join(fixture.root, 'policies', 'zz-escalation.yaml'), POLICY);
      replicas = await Promise.all(['a', 'b', 'c'].map((name) => startReplica(fixture, name)));
    }, 120_000);
    afterAll(async () => {
      await Promise.all(replicas.map((r) => stopReplica(r)));
      await fixture?.dispose();
      await sandbox?.stop();
      await nats?.dispose();
    });

    it('a due tier fires exactly once across three replicas', { timeout: 120_000 }, async () => {
      const ids: string[] = [];
      for (let i = 0; i < INCIDENTS; i++) {
        const replica = replicas[i % replicas.length] as Replica;
        const { status, body } = await post(`${replica.url}/api/v1/alerts`, {
          title: `Worker ${i} wedged`,
          source: 'cluster-escalation',
          severity: 'critical',
          service_name: `esc-cluster-${i}`,
        });
        expect(status).toBe(202);
        ids.push(body.incident_id);
      }
      await waitFor(async () => triggersAt(sandbox, KEYS[1] as string).size === INCIDENTS, 60_000, 200);
      await drained(replicas[0] as Replica);
      // Another few seconds: a replica that lost must not send anything late.
      await new Promise((r) => setTimeout(r, 3_000));
      expect([...triggersAt(sandbox, KEYS[0] as string).values()]).toEqual(Array(INCIDENTS).fill(1));
      expect([...triggersAt(sandbox, KEYS[1] as string).values()]).toEqual(Array(INCIDENTS).fill(1));
      for (const id of ids) {
        const incident = (await get(`${(replicas[1] as Replica).url}/api/v1/incidents/${id}`)).body;
        const tiers = tiersOf(incident);
        expect(tiers).toEqual([1, 2]);
        expect(incident.deliveries.filter((d: { tier?: number }) => d.tier === 2)).toHaveLength(1);
      }
    });
  },
);
