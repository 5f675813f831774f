// Membership (docs/architecture.md, "Membership and housekeeping") on a real nats-server: replicas
// that start while others keep writing their beats all come up and see each other. Listing the
// bucket with `kv.keys()` at each beat once hung one of two replicas starting together.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openBuckets, type Buckets } from '../../src/state/jetstream/buckets.js';
import { Membership } from '../../src/state/jetstream/membership.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { waitFor } from '../helpers/app.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { NatsServer } from '../helpers/nats-server.js';

let nats: NatsServer;
let buckets: Buckets;
beforeAll(async () => {
  nats = await NatsServer.start();
  buckets = await openBuckets([nats.url], { name: 'members', replicas: 1, replica: 'test' });
});
afterAll(async () => {
  await buckets.nc.close();
  await nats.dispose();
});

const member = (replica: string) =>
  new Membership(
    buckets.members,
    { replica, version: 'test', started_at: new Date().toISOString() },
    silentLogger(),
    new Metrics(),
  );

it('replicas starting while others beat all start, and each lists every live one', async () => {
  // A busy neighbour: beats as fast as the server takes them for the whole test.
  let writing = true;
  const beat = { replica: 'busy', url: 'http://busy', version: 'test', started_at: new Date().toISOString() };
  const busy = (async () => {
    while (writing)
      await buckets.members.put('busy', JSON.stringify({ ...beat, heartbeat_at: new Date().toISOString() }));
  })();
  const started: Membership[] = [];
  try {
    for (let round = 0; round < 5; round++) {
      const pair = [member(`r${round}a`), member(`r${round}b`)];
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`round ${round}: a start did not finish in 10 s`)), 10_000);
      });
      await Promise.race([Promise.all(pair.map((m) => m.start(`http://${round}`))), deadline]).finally(() =>
        clearTimeout(timer),
      );
      started.push(...pair);
    }
    const expected = ['busy', ...Array.from({ length: 5 }, (_, r) => [`r${r}a`, `r${r}b`]).flat()].sort();
    const names = (): string[] =>
      started
        .at(-1)!
        .live()
        .map((m) => m.replica);
    // The other replica of the last pair beat while this one started: its watch carries that beat
    // moments later (seen within a second, as health promises), not necessarily before start ends.
    // Waited for without failing here: the assertion below names what is missing.
    await waitFor(async () => names().length >= expected.length, 5_000).catch(() => null);
    expect(names()).toEqual(expected);
  } finally {
    writing = false;
    await busy;
    await Promise.all(started.map((m) => m.stop()));
  }
}, 120_000);
