// Claims on a NATS cluster (docs/architecture.md, "Claims"): nats-server 2.9 checks a
// compare-and-set's revision before its Raft proposal, so two replicas changing one record at the
// same moment could both "win" and one change would be lost (the first test fails without claims).
// Two replicas, each connected to its own node of a 3-node cluster (R3
// buckets), change the same incidents from the same revision at the same moments: none is lost.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openBuckets } from '../../src/state/jetstream/buckets.js';
import { CLAIM_TTL_MS } from '../../src/state/jetstream/claims.js';
import { JetStreamState } from '../../src/state/jetstream/state.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { NatsCluster } from '../helpers/nats-cluster.js';
import { makeIncident } from '../providers/support.js';

const INCIDENTS = 20;
const ROUNDS = 8;

/** Claims lost by either replica (`incident_router_cluster_claims_lost_total`). */
let lost = 0;
const metrics = { stateRecordsInvalid: { inc() {} }, claimsLost: { inc: () => lost++ } } as never;
let nats: NatsCluster;
let a: JetStreamState;
let b: JetStreamState;
beforeAll(async () => {
  nats = await NatsCluster.start();
  const replica = async (name: string, url: string): Promise<JetStreamState> => {
    const buckets = await openBuckets([url], { name: 'claims', replicas: 3, replica: name });
    const state = new JetStreamState(buckets, silentLogger(), metrics);
    await state.start();
    return state;
  };
  a = await replica('a', nats.urls[0] as string);
  b = await replica('b', nats.urls[1] as string);
}, 120_000);
afterAll(async () => {
  await a?.close();
  await b?.close();
  await nats?.dispose();
});

it('two replicas changing one incident at the same moments lose no change', async () => {
  const incidents = Array.from({ length: INCIDENTS }, () => makeIncident());
  for (const i of incidents) expect(await a.create(i, [], [])).toEqual({ created: true });
  for (let round = 0; round < ROUNDS; round++) {
    // Both start from the record as it is now (each keeps what it reads for its next change), so
    // both compare-and-set from the same revision.
    await Promise.all(incidents.flatMap((i) => [a.read(i.id), b.read(i.id)]));
    await Promise.all(
      incidents.flatMap((i) => [a, b].map((s) => s.addOccurrences(i.id, 1, Date.parse(i.last_seen)))),
    );
  }
  const counts = await Promise.all(incidents.map(async (i) => (await b.get(i.id))?.occurrences));
  expect(counts).toEqual(incidents.map(() => 1 + 2 * ROUNDS));
  // Each round one replica of each pair lost its claim and read again.
  expect(lost).toBeGreaterThanOrEqual(INCIDENTS * ROUNDS);
}, 120_000);

it('a revision is claimed once across nodes, and a write that claimed it may claim it again', async () => {
  const wins = await Promise.all(
    Array.from({ length: 100 }, async (_, k) => {
      const claimants = [a, b, a, b].map((s) => s.claims.claimant(`t.${k}`));
      const won = await Promise.all(claimants.map((c) => c.claim(7)));
      const winner = claimants[won.indexOf(true)];
      return [won.filter(Boolean).length, await winner?.claim(7), await winner?.claim(8)];
    }),
  );
  expect(wins).toEqual(wins.map(() => [1, true, true]));
}, 120_000);

it('a claim left by a replica that died holds its revision until the bucket drops it, then the change applies', async () => {
  const incident = makeIncident();
  await a.create(incident, [], []);
  const read = await b.read(incident.id);
  // What a replica killed between its claim and its compare-and-set leaves behind.
  await a.buckets.claims.create(`i.${incident.id}.${read?.revision}`, '');
  const started = Date.now();
  await b.addOccurrences(incident.id, 1, Date.parse(incident.last_seen));
  const waited = Date.now() - started;
  expect(waited).toBeGreaterThan(CLAIM_TTL_MS - 5_000);
  expect((await a.get(incident.id))?.occurrences).toBe(2);
}, 90_000);
