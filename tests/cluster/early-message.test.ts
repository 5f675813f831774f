// An open publishes its deliveries with its record, before its key, and an outbox worker is often
// handed the message before the record and the key land. It waits for the open (this replica's own, or another's through the key view)
// and sends at once, instead of giving the message back for a while (docs/architecture.md,
// "Cluster mode"). Here that while is a minute: a worker that gave the message back would not send
// within the test.
import { jetstream } from '@nats-io/jetstream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Delivery, Incident } from '../../src/domain/incident.js';
import { openBuckets, type Buckets } from '../../src/state/jetstream/buckets.js';
import type { OutboxWorker } from '../../src/state/jetstream/outbox-worker.js';
import { JetStreamState } from '../../src/state/jetstream/state.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { waitFor } from '../helpers/app.js';
import { NatsServer } from '../helpers/nats-server.js';
import { makeIncident } from '../providers/support.js';
import { openedEntry, pdTrigger, recordingWorker } from './support.js';

let nats: NatsServer;
let opener: { buckets: Buckets; state: JetStreamState };
let sender: { buckets: Buckets; state: JetStreamState; worker: OutboxWorker };
const sent: string[] = [];

async function replica(name: string): Promise<{ buckets: Buckets; state: JetStreamState }> {
  const buckets = await openBuckets([nats.url], { name: 'early', replicas: 1, replica: name });
  const state = new JetStreamState(buckets, silentLogger(), new Metrics());
  await state.start();
  return { buckets, state };
}

beforeAll(async () => {
  nats = await NatsServer.start();
  opener = await replica('a');
  const b = await replica('b');
  const worker = recordingWorker(b.state, sent, { turnWaitMs: 60_000 });
  sender = { ...b, worker };
}, 60_000);
afterAll(async () => {
  await sender?.worker.stop(1_000);
  for (const r of [sender, opener]) await r?.state.close();
  await nats?.dispose();
});

/** The message alone, as an open's first write leaves it: the worker is handed it at once. */
async function messageFirst(d: Delivery): Promise<void> {
  await jetstream(opener.buckets.nc).publish(
    opener.buckets.outbox.subject(d.id),
    JSON.stringify({ incident: d.incident_id, delivery: d.id, key: d.provider_key }),
    { msgID: d.id },
  );
  await new Promise((r) => setTimeout(r, 150));
  expect(sent).not.toContain(d.incident_id);
}

/** The rest of an open, at `state` (its publish of a message already there is a duplicate the stream drops). */
async function open(state: JetStreamState, incident: Incident, d: Delivery): Promise<void> {
  const opened = openedEntry(incident.id, { decision: { fingerprint: incident.fingerprint, trace: [] } });
  expect(await state.create(incident, [d], [opened])).toEqual({ created: true });
}

it.each([
  ["another replica's open completes, which its key view brings", 'elsewhere', () => opener.state],
  ["this replica's own open completes", 'here', () => sender.state],
])('sends once %s', async (_, where, openedAt) => {
  const incident = makeIncident({ fingerprint: `early:${where}`, provider_key: `ir-early-${where}` });
  const d = pdTrigger(incident);
  await messageFirst(d);
  await open(openedAt(), incident, d);
  await waitFor(async () => sent.includes(incident.id), 5_000);
  expect(sent.filter((id) => id === incident.id)).toHaveLength(1);
});

it('stops waiting as soon as another incident is open on the key: that open lost the race', async () => {
  const winner = makeIncident({ fingerprint: 'early:race', provider_key: 'ir-early-race' });
  // Asked before anything is on the key, with a wait far longer than the test.
  const loser = sender.state.whenOpened('inc-lost-the-race', 'ir-early-race', 60_000);
  await open(opener.state, winner, pdTrigger(winner));
  await expect(loser).resolves.toBe(false);
  // Asked after: answered from the key view at once.
  await expect(sender.state.whenOpened('inc-lost-later', 'ir-early-race', 60_000)).resolves.toBe(false);
  await expect(sender.state.whenOpened(winner.id, 'ir-early-race', 60_000)).resolves.toBe(true);
  await waitFor(async () => sent.includes(winner.id), 5_000);
});
