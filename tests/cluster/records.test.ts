// The cluster's incident record (docs/architecture.md, "State backends"): the decision that opened an
// incident is written once to the decisions bucket, apart from the record every change rewrites; the
// timeline puts it back in the `opened` entry, and retention deletes it with the incident.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/domain/incident.js';
import { openBuckets, type Buckets } from '../../src/state/jetstream/buckets.js';
import { JetStreamState } from '../../src/state/jetstream/state.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { NatsServer } from '../helpers/nats-server.js';
import { makeIncident } from '../providers/support.js';
import { openedEntry } from './support.js';

let nats: NatsServer;
let buckets: Buckets;
let state: JetStreamState;
beforeAll(async () => {
  nats = await NatsServer.start();
  buckets = await openBuckets([nats.url], { name: 'records', replicas: 1, replica: 'a' });
  state = new JetStreamState(buckets, silentLogger(), {
    stateRecordsInvalid: { inc() {} },
    claimsLost: { inc() {} },
  } as never);
  await state.start();
}, 60_000);
afterAll(async () => {
  await state?.close();
  await nats?.dispose();
});

const decision = { fingerprint: 'payment-service:db-connection', trace: [{ stage: 'classify', rules: [] }] };
const opened = (incidentId: string): Omit<AuditEntry, 'seq'> =>
  openedEntry(incidentId, { decision, escalation: { tier: 1 } });

it('keeps the opening decision apart from the record and puts it back in the timeline', async () => {
  const incident = makeIncident();
  expect(await state.create(incident, [], [opened(incident.id)])).toEqual({ created: true });
  await state.addOccurrences(incident.id, 2, Date.parse(incident.last_seen));

  const stored = (await buckets.incidents.get(incident.id))?.json<{ audit: AuditEntry[] }>();
  expect(stored?.audit[0]?.details).toEqual({ escalation: { tier: 1 } });
  expect((await buckets.decisions.get(incident.id))?.json()).toEqual(decision);

  const detail = await state.detail(incident.id);
  expect(detail?.incident.occurrences).toBe(3);
  expect(detail?.timeline[0]?.details).toEqual({ decision, escalation: { tier: 1 } });
  expect(Object.keys(detail?.timeline[0]?.details ?? {})).toEqual(['decision', 'escalation']);
});

it('retention deletes the decision with its incident', async () => {
  const incident = makeIncident();
  await state.create(incident, [], [opened(incident.id)]);
  await state.update(incident.id, {}, ({ incident: i }) => {
    i.state = 'resolved';
    i.resolved_at = '2026-11-23T10:05:00.000Z';
    return { change: { incident: i, deliveries: [], audit: [], durable: true }, result: undefined };
  });
  // Every incident the ids index holds is older than this cutoff (ids are time-ordered).
  await state.prune({ resolvedBefore: Date.now() + 3_600_000, webhooksBefore: 0 });
  expect((await buckets.incidents.get(incident.id))?.operation).not.toBe('PUT');
  expect((await buckets.decisions.get(incident.id))?.operation).not.toBe('PUT');
});

it('writes changes of one incident that come a few milliseconds apart as one record revision', async () => {
  const incident = makeIncident();
  await state.create(incident, [], [opened(incident.id)]);
  const before = (await buckets.incidents.get(incident.id))?.revision ?? 0;
  // A delivery's outcome and the provider's webhook confirming it, as they come: moments apart.
  const bump = (n: number) =>
    state.update(incident.id, {}, ({ incident: i }) => {
      i.occurrences += n;
      return { change: { incident: i, deliveries: [], audit: [], durable: true }, result: i.occurrences };
    });
  const first = bump(1);
  await new Promise((r) => setTimeout(r, 3));
  const second = bump(10);
  // Each change is decided on the record as the one before it left it.
  expect(await Promise.all([first, second])).toEqual([incident.occurrences + 1, incident.occurrences + 11]);
  const after = await buckets.incidents.get(incident.id);
  expect(after?.revision).toBe(before + 1);
  expect(after?.json<{ incident: { occurrences: number } }>().incident.occurrences).toBe(
    incident.occurrences + 11,
  );
});
