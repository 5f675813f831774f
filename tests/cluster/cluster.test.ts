// Cluster mode end to end (issue 12): three sidecar processes sharing their state in JetStream on a
// 3-node nats-server cluster (R3 buckets and streams). 20,000 events over 200 services, through core
// NATS (a queue group) and through JetStream (a shared durable consumer), with a sidecar and a NATS
// node killed mid-stream in the second run. Each time: every incident exists once, with the same id
// on every replica; each reached each provider once, triggered once and resolved once; nothing waits.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { get, waitFor } from '../helpers/app.js';
import { NatsCluster } from '../helpers/nats-cluster.js';
import { natsClient, publishLines } from '../ingest/support.js';
import {
  allIncidents,
  clusterFixture,
  drained,
  phases,
  SERVICES,
  settled,
  startReplica,
  stopReplica,
  type ClusterFixture,
  type Listed,
  type Replica,
} from './support.js';

let nats: NatsCluster;
let sandbox: Sandbox;
let nc: NatsConnection;

beforeAll(async () => {
  nats = await NatsCluster.start();
  sandbox = await startSandbox();
  nc = await natsClient(nats.url);
}, 90_000);
afterAll(async () => {
  await nc?.close();
  await sandbox?.stop();
  await nats?.dispose();
});

/** Events the replicas counted, all together. */
async function received(replicas: Replica[]): Promise<number> {
  let total = 0;
  for (const r of replicas)
    total += ((await get(`${r.url}/api/v1/metrics`)).body.events.received.nats as number) ?? 0;
  return total;
}

/** Incidents per fingerprint at each provider, and the requests each got per provider key. */
function atProviders() {
  const count = (keys: string[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
    return m;
  };
  const pdRequests = sandbox.pagerduty.requests().filter((r) => r.status === 202);
  const pdAction = (action: string) =>
    count(
      pdRequests
        .filter((r) => (r.body as { event_action?: string }).event_action === action)
        .map((r) => (r.body as { dedup_key: string }).dedup_key),
    );
  const ogRequests = sandbox.opsgenie.requests().filter((r) => r.status !== null && r.status < 300);
  return {
    pdIncidents: count(sandbox.pagerduty.incidents().map((i) => i.dedupKey)),
    pdOpen: sandbox.pagerduty.incidents().filter((i) => i.status !== 'resolved').length,
    pdTriggers: pdAction('trigger'),
    pdResolves: pdAction('resolve'),
    ogAlerts: count(sandbox.opsgenie.alerts().map((a) => a.alias)),
    ogOpen: sandbox.opsgenie.alerts().filter((a) => a.status !== 'closed').length,
    ogCreates: count(
      ogRequests
        .filter((r) => r.method === 'POST' && r.path === '/v2/alerts')
        .map((r) => (r.body as { alias: string }).alias),
    ),
    ogCloses: count(
      ogRequests
        .filter((r) => r.path.endsWith('/close'))
        .map((r) => decodeURIComponent(r.path.split('/')[3] as string)),
    ),
  };
}

/** After the four phases: 300 incidents (two for each even service), all resolved, one id everywhere. */
async function expectOutcome(replicas: Replica[], exactRequests: boolean): Promise<void> {
  const lists = await Promise.all(replicas.map((r) => allIncidents(r.url)));
  const ids = (l: Listed[]) => l.map((i) => i.id).sort();
  for (const l of lists.slice(1)) expect(ids(l)).toEqual(ids(lists[0] as Listed[]));
  const incidents = lists[0] as Listed[];
  // Fingerprints opened a wrong number of times (two incidents for each even service, one for each odd).
  const count = new Map<string, number>();
  for (const i of incidents) count.set(i.fingerprint, (count.get(i.fingerprint) ?? 0) + 1);
  const miscounted = incidents.filter(
    (i) => count.get(i.fingerprint) !== (Number(i.fingerprint.slice(4, 7)) % 2 === 0 ? 2 : 1),
  );
  expect(
    incidents,
    await described('opened a wrong number of times', replicas[0] as Replica, miscounted),
  ).toHaveLength(300);
  expect(incidents.every((i) => i.state === 'resolved')).toBe(true);
  const perKey = new Map<string, number>();
  for (const i of incidents) perKey.set(i.provider_key, (perKey.get(i.provider_key) ?? 0) + 1);
  const byFingerprint = new Map(incidents.map((i) => [i.fingerprint, i.provider_key]));
  SERVICES.forEach((s, n) =>
    expect(perKey.get(byFingerprint.get(`${s}:db-connection`) as string)).toBe(n % 2 === 0 ? 2 : 1),
  );
  const seen = atProviders();
  const wrong = (i: Listed) =>
    [seen.pdIncidents, seen.ogAlerts].some((m) => m.get(i.provider_key) !== perKey.get(i.provider_key));
  const why = await described('counted wrong by a provider', replicas[0] as Replica, incidents.filter(wrong));
  expect(seen.pdIncidents, why).toEqual(perKey);
  expect(seen.ogAlerts, why).toEqual(perKey);
  expect([seen.pdOpen, seen.ogOpen]).toEqual([0, 0]);
  if (exactRequests) {
    // Exactly one trigger and one resolve per incident and provider: nothing sent twice.
    expect(seen.pdTriggers).toEqual(perKey);
    expect(seen.pdResolves).toEqual(perKey);
    expect(seen.ogCreates).toEqual(perKey);
    expect(seen.ogCloses).toEqual(perKey);
  }
  for (const r of replicas) expect((await get(`${r.url}/api/v1/health`)).body.deliveries_pending).toBe(0);
}

/** For a failure's message: each incident's timeline and deliveries, as one replica has them. */
async function described(what: string, replica: Replica, incidents: Listed[]): Promise<string> {
  const lines: string[] = [];
  for (const i of incidents) {
    const d = (await get(`${replica.url}/api/v1/incidents/${i.id}`)).body;
    lines.push(
      `${i.fingerprint} ${i.provider_key} ${i.id}`,
      ...d.timeline.map(
        (e: { type: string; at: string; actor: string; message: string }) =>
          `  ${e.at} ${e.type} (${e.actor}): ${e.message}`,
      ),
      ...d.deliveries.map(
        (x: { action: string; status: string; candidates: string[]; updated_at: string }) =>
          `  delivery ${x.action} ${x.candidates.join('>')} ${x.status} ${x.updated_at}`,
      ),
    );
  }
  return lines.length === 0 ? '' : `incidents ${what}:\n${lines.join('\n')}`;
}

/** Runs the four phases, each published then awaited until every replica agrees on the state and the outbox is empty. */
async function runPhases(
  replicas: () => Replica[],
  publish: (lines: string[]) => Promise<void>,
  during: Partial<Record<number, () => Promise<void>>> = {},
  countReceived = true,
): Promise<void> {
  const expected = [
    ['triggered', 200],
    ['resolved', 100],
    ['triggered', 200],
    ['triggered', 0],
  ] as const;
  let published = 0;
  for (const [i, lines] of phases().entries()) {
    const half = Math.floor(lines.length / 2);
    await publish(lines.slice(0, half));
    await during[i]?.();
    await publish(lines.slice(half));
    published += lines.length;
    if (countReceived) await waitFor(async () => (await received(replicas())) >= published, 120_000, 250);
    const [state, n] = expected[i] as readonly [string, number];
    await settled(replicas(), state, n);
    // Every delivery out before the next phase: a resolve that comes while its incident's trigger
    // still waits in the outbox withdraws it (nobody is paged for what is over), and a loaded
    // machine would then see fewer pages than the exact counts below expect.
    await drained(replicas()[0] as Replica);
  }
}

describe('cluster mode: three replicas, one truth', () => {
  it(
    'core NATS queue group: 20,000 events open every incident once, triggered and resolved once at each provider',
    { timeout: 300_000 },
    async () => {
      sandbox.pagerduty.reset();
      sandbox.opsgenie.reset();
      const fixture = await clusterFixture(sandbox, {
        NATS_URL: nats.url,
        CLUSTER_NAME: 'core',
        NATS_SUBJECT: 'core.>',
      });
      const replicas = await Promise.all(['a', 'b', 'c'].map((n) => startReplica(fixture, n)));
      try {
        await waitFor(async () => {
          for (const r of replicas)
            if ((await get(`${r.url}/api/v1/health`)).body.nats?.connected !== true) return false;
          return true;
        });
        await runPhases(
          () => replicas,
          (lines) => publishLines(nc, 'core.app', lines),
        );
        await expectOutcome(replicas, true);
        // Membership: every replica lists the three; metrics carry the replica label.
        const health = (await get(`${replicas[0]!.url}/api/v1/health`)).body;
        expect(health.cluster.replicas.map((m: { replica: string }) => m.replica)).toEqual(['a', 'b', 'c']);
        expect(health.state.backend).toBe('jetstream');
        // The gauge is what replica b saw at its last heartbeat (every 5 s): it may trail a little.
        const gauge = /incident_router_cluster_replicas\{replica="b"\} 3/;
        await waitFor(async () => gauge.test((await get(`${replicas[1]!.url}/metrics`)).body), 20_000, 250);
      } finally {
        await Promise.all(replicas.map((r) => stopReplica(r)));
        await fixture.dispose();
      }
    },
  );

  it(
    'JetStream input with a sidecar SIGKILLed and a NATS node SIGKILLed mid-stream: nothing lost, nothing doubled',
    { timeout: 420_000 },
    async () => {
      sandbox.pagerduty.reset();
      sandbox.opsgenie.reset();
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'CLU', subjects: ['clu.>'], num_replicas: 3 });
      const fixture: ClusterFixture = await clusterFixture(sandbox, {
        NATS_URL: nats.url,
        CLUSTER_NAME: 'js',
        NATS_STREAM: 'CLU',
        NATS_SUBJECT: 'clu.>',
        NATS_ACK_WAIT_MS: '5000',
      });
      let replicas = await Promise.all(['a', 'b', 'c'].map((n) => startReplica(fixture, n)));
      const js = jetstream(nc);
      let seq = 0;
      const publish = async (lines: string[]): Promise<void> => {
        for (const line of lines) {
          const id = `clu-${seq++}`;
          for (;;) {
            try {
              await js.publish('clu.app', line, { msgID: id, retries: 8 });
              break;
            } catch {
              await new Promise((r) => setTimeout(r, 200));
            }
          }
        }
      };
      try {
        await runPhases(
          () => replicas,
          publish,
          {
            0: async () => {
              await stopReplica(replicas[1] as Replica, 'SIGKILL');
              replicas = [replicas[0] as Replica, await startReplica(fixture, 'b'), replicas[2] as Replica];
            },
            2: async () => {
              await nats.killNode(1);
              await new Promise((r) => setTimeout(r, 2_000));
              await nats.startNode(1);
            },
          },
          false, // a killed sidecar's counters start again at zero; the state is what counts
        );
        await waitFor(async () => {
          const info = await jsm.consumers.info('CLU', 'incident-router');
          return info.num_pending === 0 && info.num_ack_pending === 0;
        }, 120_000);
        // A SIGKILL between a provider's 2xx and its record may send one request twice (the
        // provider dedups it by key): incidents at the providers are exact, requests at most that.
        await expectOutcome(replicas, false);
      } finally {
        await Promise.all(replicas.map((r) => stopReplica(r)));
        await fixture.dispose();
      }
    },
  );
});
