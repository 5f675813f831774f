// Reads on a NATS cluster (docs/architecture.md, "Cluster mode", Reads): a replica connected to one
// node reads what another replica wrote through another node, at once. With direct gets (nats.js's
// default on nats-server 2.9) about 1% of such reads answered an older revision or nothing, and a
// resolve's delivery that read the incident before its triggers' holds was refused for good.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openBuckets, type Buckets } from '../../src/state/jetstream/buckets.js';
import { NatsCluster } from '../helpers/nats-cluster.js';

let nats: NatsCluster;
let writer: Buckets;
let reader: Buckets;
beforeAll(async () => {
  nats = await NatsCluster.start();
  const config = (replica: string) => ({ name: 'reads', replicas: 3, replica });
  // Each replica talks to its own node, as replicas spread over a cluster's servers do.
  writer = await openBuckets([nats.urls[0] as string], config('writer'));
  reader = await openBuckets([nats.urls[1] as string], config('reader'));
}, 120_000);
afterAll(async () => {
  await writer?.nc.close();
  await reader?.nc.close();
  await nats?.dispose();
});

it('a record written through one node is read, at once and as written, through another', async () => {
  const stale: string[] = [];
  for (let i = 0; i < 1_500; i++) {
    const id = `inc_${i % 50}`;
    const revision = await writer.incidents.put(id, JSON.stringify({ i }));
    const read = await reader.incidents.get(id);
    if (read?.revision !== revision)
      stale.push(`${id}: wrote revision ${revision}, read ${read?.revision ?? 'nothing'}`);
  }
  expect(stale).toEqual([]);
}, 120_000);
