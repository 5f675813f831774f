// An open that never completed (docs/architecture.md, "Cluster mode"): a replica killed between the
// writes of JetStreamState.create leaves its deliveries' outbox messages and a decision with no
// record, or a `triggered` record that no provider key names (listed as open for ever, never taken by
// retention, which keeps to resolved incidents). The outbox worker that finds such a message old
// enough acks it without sending, and deletes what the open left. A resolved record outside its key's
// chain (an old incident whose key moved on) is left to retention, and a complete open is delivered.
import { jetstream } from '@nats-io/jetstream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AuditEntry, Incident } from '../../src/domain/incident.js';
import { systemClock } from '../../src/domain/clock.js';
import { openBuckets, type Buckets } from '../../src/state/jetstream/buckets.js';
import type { OutboxWorker } from '../../src/state/jetstream/outbox-worker.js';
import { newRecord } from '../../src/state/jetstream/record.js';
import { JetStreamState } from '../../src/state/jetstream/state.js';
import { IdGenerator } from '../../src/store/ids.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { waitFor } from '../helpers/app.js';
import { NatsServer } from '../helpers/nats-server.js';
import { makeIncident } from '../providers/support.js';
import { openedEntry, pdTrigger, recordingWorker } from './support.js';

let nats: NatsServer;
let buckets: Buckets;
let state: JetStreamState;
let worker: OutboxWorker;
const sent: string[] = [];

beforeAll(async () => {
  nats = await NatsServer.start();
  buckets = await openBuckets([nats.url], { name: 'unopened', replicas: 1, replica: 'a' });
  const metrics = new Metrics();
  state = new JetStreamState(buckets, silentLogger(), metrics);
  await state.start();
  worker = recordingWorker(state, sent, { orphanAfterMs: 500 });
}, 60_000);
afterAll(async () => {
  await worker?.stop(1_000);
  await state?.close();
  await nats?.dispose();
});

const decision = { fingerprint: 'payment-service:db-connection', trace: [] };
const opened = (id: string): Omit<AuditEntry, 'seq'> => openedEntry(id, { decision });

/** What `create` writes, in its order, stopping after `writes` of: outbox and decision, record. */
async function halfOpen(incident: Incident, writes: 1 | 2): Promise<void> {
  const d = pdTrigger(incident);
  const { record, decision: apart } = newRecord(incident, [d], [opened(incident.id)], null);
  await jetstream(buckets.nc).publish(
    buckets.outbox.subject(d.id),
    JSON.stringify({ incident: incident.id, delivery: d.id }),
    { msgID: d.id },
  );
  await buckets.decisions.put(incident.id, JSON.stringify(apart));
  if (writes === 2) await buckets.incidents.put(incident.id, JSON.stringify(record));
}

const present = async (kv: Buckets['incidents'], key: string): Promise<boolean> =>
  (await kv.get(key))?.operation === 'PUT';

it('deletes what an open that never completed left, sends nothing for it, and delivers a complete open', async () => {
  const ghost = makeIncident({ fingerprint: 'ghost:record' });
  const noRecord = makeIncident({ fingerprint: 'ghost:decision' });
  const old = makeIncident({
    fingerprint: 'old:resolved',
    state: 'resolved',
    resolved_at: '2026-11-23T10:05:00.000Z',
  });
  const complete = makeIncident({ fingerprint: 'complete:open' });
  await halfOpen(ghost, 2);
  await halfOpen(noRecord, 1);
  await halfOpen(old, 2);
  expect(await state.create(complete, [pdTrigger(complete)], [opened(complete.id)])).toEqual({
    created: true,
  });
  expect(await present(buckets.incidents, ghost.id)).toBe(true);

  await waitFor(async () => !(await present(buckets.incidents, ghost.id)), 20_000);
  await waitFor(async () => !(await present(buckets.decisions, noRecord.id)), 20_000);
  expect(await present(buckets.decisions, ghost.id)).toBe(false);
  // Neither an incident of the list any more, nor ever sent; the old incident and the complete one stay.
  await waitFor(async () => (await state.list({})).incidents.every((i) => i.id !== ghost.id), 5_000);
  expect(await present(buckets.incidents, old.id)).toBe(true);
  expect(await present(buckets.incidents, complete.id)).toBe(true);
  await worker.idle();
  expect(sent).toEqual([complete.id]);
}, 60_000);

it('finds a record whose outbox messages never landed (an open writes them at once) once its open is a minute old', async () => {
  // Ids of now: a replica checks the incidents created from 10 minutes before it started.
  const ids = new IdGenerator(systemClock);
  const fresh = (fingerprint: string, more: Partial<Incident> = {}) =>
    makeIncident({ fingerprint, ...more, id: ids.incidentId() });
  const ghost = fresh('ghost:no-messages');
  const resolved = fresh('moved-on:resolved', { state: 'resolved', resolved_at: new Date().toISOString() });
  const complete = fresh('complete:named');
  for (const incident of [ghost, resolved]) {
    const { record, decision: apart } = newRecord(
      incident,
      [pdTrigger(incident)],
      [opened(incident.id)],
      null,
    );
    await buckets.decisions.put(incident.id, JSON.stringify(apart));
    await buckets.incidents.put(incident.id, JSON.stringify(record));
  }
  expect(await state.create(complete, [pdTrigger(complete)], [opened(complete.id)])).toEqual({
    created: true,
  });
  await waitFor(async () => (await state.list({})).incidents.some((i) => i.id === ghost.id), 5_000);

  // Not yet a minute old: an open may still be writing its key.
  expect(await state.checkOpens(Date.now())).toBe(0);
  expect(await present(buckets.incidents, ghost.id)).toBe(true);
  expect(await state.checkOpens(Date.now() + 61_000)).toBe(1);
  expect(await present(buckets.incidents, ghost.id)).toBe(false);
  expect(await present(buckets.decisions, ghost.id)).toBe(false);
  expect(await present(buckets.incidents, resolved.id)).toBe(true);
  expect(await present(buckets.incidents, complete.id)).toBe(true);
  // Each id is checked once.
  expect(await state.checkOpens(Date.now() + 120_000)).toBe(0);
}, 60_000);
