// The cluster outbox's order per provider key and provider across incidents (docs/architecture.md,
// "Cluster mode", Delivery): a trigger waits while an older delivery of its key is pending at its
// provider, in the incidents that held the key before it. Found by the soak in cluster mode: A's
// resolve was with the replica that was SIGKILLed (back 30 s later), B's trigger was withdrawn by a
// quick resolve, and C's trigger, which looked only at B, went first and folded into A's PagerDuty
// incident, which A's resolve then closed.
import { describe, expect, it } from 'vitest';
import type { Delivery, DeliveryAction, DeliveryStatus, Incident } from '../../src/domain/incident.js';
import { isTurn } from '../../src/state/jetstream/outbox-worker.js';
import type { IncidentRecord } from '../../src/state/jetstream/record.js';
import { delivery as fixtureDelivery } from '../store/fixtures.js';

const KEY = 'ir-0123456789abcdef';
const NOW = Date.parse('2026-12-07T08:15:03Z');
const LONG_AGO = '2026-12-07T08:14:00Z';

function delivery(
  incident: string,
  action: DeliveryAction,
  status: DeliveryStatus,
  provider = 'pagerduty',
): Delivery {
  const done = status === 'done';
  return fixtureDelivery({
    id: `d-${incident}-${action}-${provider}`,
    incident_id: incident,
    provider_key: KEY,
    action,
    mode: 'all',
    candidates: [provider],
    status,
    attempts: done ? 1 : 0,
    attempts_on_current: done ? 1 : 0,
    created_at: LONG_AGO,
    updated_at: LONG_AGO,
    done_at: done ? LONG_AGO : null,
  });
}

function record(id: string, previous: string | null, deliveries: Delivery[]): IncidentRecord {
  const incident = { id, provider_key: KEY } as Incident;
  return { v: 1, incident, deliveries, audit: [], marks: {}, webhooks: [], previous };
}

/** The key's incidents, oldest first, each holding the key after the one before. */
function chain(...incidents: Array<[string, Delivery[]]>): Map<string, IncidentRecord> {
  const records = new Map<string, IncidentRecord>();
  let previous: string | null = null;
  for (const [id, deliveries] of incidents) {
    records.set(id, record(id, previous, deliveries));
    previous = id;
  }
  return records;
}

async function turnOf(records: Map<string, IncidentRecord>, id: string, d: Delivery): Promise<boolean> {
  const own = records.get(id) as IncidentRecord;
  return isTurn(own, d, NOW, async (other) => records.get(other) ?? null);
}

describe('isTurn: a trigger and the older deliveries of its key', () => {
  const cTrigger = delivery('C', 'trigger', 'pending');
  /** A with `deliveries`, then B whose trigger a quick resolve withdrew long ago, then C. */
  const behindWithdrawn = (deliveries: Delivery[]) =>
    chain(['A', deliveries], ['B', [delivery('B', 'trigger', 'superseded')]], ['C', [cTrigger]]);

  it('waits for a resolve two incidents back when the incident between never reached the provider', async () => {
    const records = behindWithdrawn([delivery('A', 'trigger', 'done'), delivery('A', 'resolve', 'pending')]);
    expect(await turnOf(records, 'C', cTrigger)).toBe(false);
  });

  it('goes once that resolve is done', async () => {
    const records = behindWithdrawn([delivery('A', 'trigger', 'done'), delivery('A', 'resolve', 'done')]);
    expect(await turnOf(records, 'C', cTrigger)).toBe(true);
  });

  it('stops at an incident that reached the provider: its own trigger waited for what was before it', async () => {
    const records = chain(
      // Cannot be pending once B's trigger was taken; here only to show the walk stops at B.
      ['A', [delivery('A', 'trigger', 'done'), delivery('A', 'resolve', 'pending')]],
      ['B', [delivery('B', 'trigger', 'done'), delivery('B', 'resolve', 'done')]],
      ['C', [cTrigger]],
    );
    expect(await turnOf(records, 'C', cTrigger)).toBe(true);
  });

  it('looks only at the same provider', async () => {
    const records = behindWithdrawn([
      delivery('A', 'trigger', 'done', 'opsgenie'),
      delivery('A', 'resolve', 'pending', 'opsgenie'),
    ]);
    expect(await turnOf(records, 'C', cTrigger)).toBe(true);
  });

  it('still counts a trigger withdrawn moments ago as in flight', async () => {
    const fresh = {
      ...delivery('B', 'trigger', 'superseded'),
      updated_at: new Date(NOW - 2_000).toISOString(),
    };
    const records = chain(
      ['A', [delivery('A', 'trigger', 'done'), delivery('A', 'resolve', 'done')]],
      ['B', [fresh]],
      ['C', [cTrigger]],
    );
    expect(await turnOf(records, 'C', cTrigger)).toBe(false);
  });

  it('waits for an older delivery of its own incident, and a resolve looks no further back', async () => {
    const resolve = delivery('C', 'resolve', 'pending');
    const records = chain(
      ['A', [delivery('A', 'trigger', 'done'), delivery('A', 'resolve', 'pending')]],
      ['C', [cTrigger, resolve]],
    );
    expect(await turnOf(records, 'C', resolve)).toBe(false);
    records.set('C', record('C', 'A', [{ ...cTrigger, status: 'done' }, resolve]));
    expect(await turnOf(records, 'C', resolve)).toBe(true);
  });
});
