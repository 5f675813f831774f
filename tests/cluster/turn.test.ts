// The cluster outbox's order per provider key and provider across incidents (docs/architecture.md,
// "Cluster mode", Delivery): a trigger waits while an older delivery of its key is pending at its
// provider, in the incidents that held the key before it. Found by the soak in cluster mode: A's
// resolve was with the replica that was SIGKILLed (back 30 s later), B's trigger was withdrawn by a
// quick resolve, and C's trigger, which looked only at B, went first and folded into A's PagerDuty
// incident, which A's resolve then closed.
import { describe, expect, it } from 'vitest';
import type { Delivery, DeliveryAction, DeliveryStatus, Incident } from '../../src/domain/incident.js';
import { isTurn, memoized, turnFrom } from '../../src/state/jetstream/outbox-worker.js';
import type { IncidentRecord } from '../../src/state/jetstream/record.js';
import { delivery as fixtureDelivery } from '../store/fixtures.js';

const KEY = 'ir-0123456789abcdef';
const NOW = Date.parse('2026-12-07T08:15:03Z');
const LONG_AGO = '2026-12-07T08:14:00Z';
/** `ms` from NOW, as the records write times. */
const at = (ms: number) => new Date(NOW + ms).toISOString();

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
  return isTurn(
    own,
    d,
    NOW,
    memoized(async (other) => records.get(other) ?? null),
  );
}

describe('isTurn: a trigger and the older deliveries of its key', () => {
  const cTrigger = delivery('C', 'trigger', 'pending');
  const dTrigger = delivery('D', 'trigger', 'pending');
  /** A with `deliveries`, then B whose trigger a quick resolve withdrew long ago, then C. */
  const behindWithdrawn = (deliveries: Delivery[]) =>
    chain(['A', deliveries], ['B', [delivery('B', 'trigger', 'superseded')]], ['C', [cTrigger]]);

  it('waits for a resolve two incidents back when the incident between never reached the provider', async () => {
    const records = behindWithdrawn([delivery('A', 'trigger', 'done'), delivery('A', 'resolve', 'pending')]);
    expect(await turnOf(records, 'C', cTrigger)).toBe(false);
  });

  it('waits for it behind twenty incidents that never reached the provider (a flapping key in an outage)', async () => {
    // Found by the three-replica soak: 16 withdrawn incidents between, and the walk stopped at 16.
    const between = Array.from({ length: 20 }, (_, i): [string, Delivery[]] => [
      `B${i}`,
      [delivery(`B${i}`, 'trigger', 'superseded')],
    ]);
    const records = chain(
      ['A', [delivery('A', 'trigger', 'done'), delivery('A', 'resolve', 'pending')]],
      ...between,
      ['C', [cTrigger]],
    );
    expect(await turnOf(records, 'C', cTrigger)).toBe(false);
    records.set('A', record('A', null, [delivery('A', 'trigger', 'done'), delivery('A', 'resolve', 'done')]));
    expect(await turnOf(records, 'C', cTrigger)).toBe(true);
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

  it('still counts a withdrawn trigger that was tried as in flight', async () => {
    const tried = { ...delivery('B', 'trigger', 'superseded'), attempts: 1, updated_at: at(-2_000) };
    const records = chain(
      // By these times its turn came after it was withdrawn: only the attempt says it went.
      ['A', [delivery('A', 'trigger', 'done'), { ...delivery('A', 'resolve', 'done'), done_at: at(0) }]],
      ['B', [tried]],
      ['C', [cTrigger]],
    );
    expect(await turnOf(records, 'C', cTrigger)).toBe(false);
  });

  it('does not wait for a trigger withdrawn before its turn could come (a resolve before it pending)', async () => {
    // A's resolve was with a replica that died; B's trigger waited behind it and was withdrawn;
    // A's resolve has gone since: B's trigger never went, so C need not wait for it.
    const records = chain(
      ['A', [delivery('A', 'trigger', 'done'), { ...delivery('A', 'resolve', 'done'), done_at: at(-500) }]],
      ['B', [{ ...delivery('B', 'trigger', 'superseded'), created_at: at(-5_000), updated_at: at(-2_000) }]],
      ['C', [cTrigger]],
    );
    expect(await turnOf(records, 'C', cTrigger)).toBe(true);
  });

  it('pages a key that flaps faster than the in-flight window: a withdrawal does not hold the next one in turn', async () => {
    // B's trigger may have gone (its turn came at once) and was withdrawn 11 s ago; C's waited out
    // B's in-flight window and was withdrawn before that window closed: it never went, so D goes.
    const records = chain(
      ['A', [delivery('A', 'trigger', 'done'), delivery('A', 'resolve', 'done')]],
      [
        'B',
        [{ ...delivery('B', 'trigger', 'superseded'), created_at: at(-11_500), updated_at: at(-11_000) }],
      ],
      ['C', [{ ...delivery('C', 'trigger', 'superseded'), created_at: at(-10_500), updated_at: at(-3_000) }]],
      ['D', [dTrigger]],
    );
    expect(await turnOf(records, 'D', dTrigger)).toBe(true);
    // Had C's window opened before its withdrawal, D would wait out C's ten seconds.
    records.set('C', {
      ...(records.get('C') as IncidentRecord),
      deliveries: [
        { ...delivery('C', 'trigger', 'superseded'), created_at: at(-10_500), updated_at: at(-500) },
      ],
    });
    expect(await turnOf(records, 'D', dTrigger)).toBe(false);
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

describe('turnFrom: when a trigger could first go (a later one is read again before it is sent)', () => {
  const made = at(-5_000);
  const trigger = { ...delivery('B', 'trigger', 'pending'), created_at: made };
  const from = (records: Map<string, IncidentRecord>) =>
    turnFrom(records.get('B') as IncidentRecord, trigger, async (id) => records.get(id) ?? null, 0);

  it('is when it was made when nothing older was pending then', async () => {
    const records = chain(
      ['A', [delivery('A', 'trigger', 'done'), delivery('A', 'resolve', 'done')]],
      ['B', [trigger]],
    );
    expect(await from(records)).toBe(Date.parse(made));
  });

  it('is when the resolve before it was done, and never while that is pending', async () => {
    const records = chain(
      ['A', [delivery('A', 'trigger', 'done'), { ...delivery('A', 'resolve', 'done'), done_at: at(-1_000) }]],
      ['B', [trigger]],
    );
    expect(await from(records)).toBe(NOW - 1_000);
    records.set(
      'A',
      record('A', null, [delivery('A', 'trigger', 'done'), delivery('A', 'resolve', 'pending')]),
    );
    expect(await from(records)).toBe(Infinity);
  });

  it('leaves out what was added after it was made (it errs early)', async () => {
    const later = { ...delivery('A', 'resolve', 'pending'), created_at: at(-1_000) };
    const records = chain(['A', [delivery('A', 'trigger', 'done'), later]], ['B', [trigger]]);
    expect(await from(records)).toBe(Date.parse(made));
  });
});
