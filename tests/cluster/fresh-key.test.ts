// A replica's view of the provider keys trails the bucket by a watch message (docs/architecture.md,
// "Webhooks and cross-provider sync"). The event that created a provider's incident can reach a
// replica in that moment: the replica that sent the trigger waited for the key to name the new
// incident, this one did not. Such a webhook asks for the key as the bucket holds it (`fresh`);
// everything else may take the view's answer (no round trip per webhook).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openBuckets, type Buckets } from '../../src/state/jetstream/buckets.js';
import { keyEntryOf } from '../../src/state/jetstream/record.js';
import { JetStreamState } from '../../src/state/jetstream/state.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { waitFor } from '../helpers/app.js';
import { NatsServer } from '../helpers/nats-server.js';
import { makeIncident } from '../providers/support.js';
import { openedEntry } from './support.js';

let nats: NatsServer;
let buckets: Buckets;
let state: JetStreamState;

beforeAll(async () => {
  nats = await NatsServer.start();
  buckets = await openBuckets([nats.url], { name: 'freshkey', replicas: 1, replica: 'a' });
  state = new JetStreamState(buckets, silentLogger(), new Metrics());
  await state.start();
}, 60_000);
afterAll(async () => {
  await state?.close();
  await nats?.dispose();
});

it('the newest incident of a key, read fresh, is the one the bucket names even before the view has it', async () => {
  const a = makeIncident({ fingerprint: 'fresh:key' });
  expect(await state.create(a, [], [openedEntry(a.id, {})])).toEqual({ created: true });
  const key = a.provider_key;
  await waitFor(async () => state.keys.entries.get(key)?.id === a.id);
  const seenA = state.keys.entries.get(key)!;
  // Another replica resolved A and opened B on the key; this replica's view has not caught up.
  const b = makeIncident({ fingerprint: 'fresh:key' });
  await buckets.keys.put(key, JSON.stringify(keyEntryOf(b)));
  await waitFor(async () => state.keys.entries.get(key)?.id === b.id);
  state.keys.entries.set(key, seenA);

  expect(await state.findByRef(key, 1)).toEqual([a.id]);
  expect(await state.findByRef(key, 1, true)).toEqual([b.id]);
});
