// A Transaction collects typed writes that Store.commit turns into one atomic LevelDB batch.
// Values are serialized here, when they are added: a value that cannot be stored (a BigInt, a
// cycle) throws at the call that added it, and the caller's later mutations do not leak in.
// Keys are validated here too, so a transaction that reaches commit cannot fail on its own data.
import type { AuditEntry, Delivery, Incident, IncidentState } from '../domain/incident.js';
import { traceOf } from '../domain/flap.js';
import { StoreError, errorMessage } from '../errors.js';
import {
  auditKey,
  idKey,
  incidentDeliveryKey,
  openEntryOf,
  plainKey,
  providerMarkKey,
  refKey,
  sameOpenEntry,
} from './layout.js';
import type { CountsAhead, ProviderMark } from './layout.js';

/** An audit entry before the store numbers it. */
export type NewAuditEntry = Omit<AuditEntry, 'seq'>;

/** @internal What the writer translates into LevelDB operations. */
export type TxOp =
  | {
      kind: 'incident';
      id: string;
      fingerprint: string;
      providerKey: string;
      state: IncidentState;
      /** Its first write (revision 1): nothing of it is on disk yet, so the writer need not look. */
      created: boolean;
      json: string;
      /** Its `open` index entry while open (layout.ts, `OpenEntry`), as JSON text. */
      openEntry: string;
      /**
       * The version this write replaces had the same entry: the index holds it already if the
       * incident held the fingerprint before this write (the writer decides).
       */
      openUnchanged: boolean;
      /** Resolved with flap damping: what it leaves its fingerprint (layout.ts, `flaps`), as JSON text. */
      flapTrace: string | null;
      /** Resolved by a recovery line: that line's time (layout.ts, `recoveries`), epoch ms. */
      recoveryLineMs: number | null;
    }
  | {
      kind: 'delivery';
      id: string;
      incidentId: string;
      pending: boolean;
      /** Attempted, so written before with its `by_incident` link: the link is not written again. */
      linked: boolean;
      json: string;
    }
  | { kind: 'audit'; entry: NewAuditEntry; json: string }
  | { kind: 'breaker'; name: string; json: string }
  | { kind: 'silence'; id: string; json: string }
  | { kind: 'forget_silence'; id: string }
  | { kind: 'webhook'; id: string }
  | { kind: 'forget_webhook'; id: string }
  | { kind: 'ref'; key: string; ref: string; incidentId: string }
  | { kind: 'provider_mark'; key: string; json: string }
  | { kind: 'counts'; id: string; json: string }
  | { kind: 'forget_counts'; id: string }
  /** A resolved incident past retention, and every key that belongs to it (gathered by the store). */
  | { kind: 'forget_incident'; id: string; keys: readonly ForgottenKey[] };

/** A key to delete, by sublevel name. */
export interface ForgottenKey {
  sublevel:
    | 'incidents'
    | 'deliveries'
    | 'pending'
    | 'byIncident'
    | 'audit'
    | 'refs'
    | 'providerEvents'
    | 'counts'
    | 'recoveries';
  key: string;
}

export class Transaction {
  readonly #ops: TxOp[] = [];

  /**
   * Stores the incident and keeps the `open` dedup index right for whatever state it moves to.
   * `replaces`: the version this one follows (the last one written), when the caller knows it; its
   * open entry is not written again when nothing in it changed (a delivery's outcome, a provider's
   * echo of our own trigger: most writes of an open incident).
   */
  putIncident(incident: Incident, replaces?: Incident): this {
    idKey('incident id', incident.id);
    plainKey('fingerprint', incident.fingerprint);
    const open = openEntryOf(incident);
    const unchanged =
      replaces !== undefined &&
      replaces.fingerprint === incident.fingerprint &&
      sameOpenEntry(openEntryOf(replaces), open);
    return this.add({
      kind: 'incident',
      id: incident.id,
      fingerprint: incident.fingerprint,
      providerKey: incident.provider_key,
      state: incident.state,
      created: incident.revision === 1,
      json: serialize(`incident ${incident.id}`, incident),
      openEntry: JSON.stringify(open),
      openUnchanged: unchanged,
      flapTrace: flapTraceJson(incident),
      recoveryLineMs: incident.recovery_line_at === undefined ? null : Date.parse(incident.recovery_line_at),
    });
  }

  /** Stores the outbox entry and keeps the `pending` index in step with its status. */
  putDelivery(delivery: Delivery): this {
    incidentDeliveryKey(delivery.incident_id, delivery.id);
    return this.add({
      kind: 'delivery',
      id: delivery.id,
      incidentId: delivery.incident_id,
      pending: delivery.status === 'pending',
      linked: delivery.attempts > 0,
      json: serialize(`delivery ${delivery.id}`, delivery),
    });
  }

  /** Appends to the incident's timeline; the store allocates the next seq at commit. */
  appendAudit(entry: NewAuditEntry): this {
    auditKey(entry.incident_id, 1);
    // A seq smuggled in at run time would fight the allocated one; drop it.
    const { seq: _ignored, ...rest } = entry as NewAuditEntry & { seq?: unknown };
    return this.add({
      kind: 'audit',
      entry: rest,
      json: serialize(`audit entry of ${entry.incident_id}`, rest),
    });
  }

  putBreaker(name: string, state: unknown): this {
    plainKey('breaker', name);
    return this.add({ kind: 'breaker', name, json: serialize(`breaker ${name}`, state) });
  }

  putSilence(silence: { id: string }): this {
    idKey('silence id', silence.id);
    return this.add({ kind: 'silence', id: silence.id, json: serialize(`silence ${silence.id}`, silence) });
  }

  forgetSilence(id: string): this {
    return this.add({ kind: 'forget_silence', id: idKey('silence id', id) });
  }

  /** Remembers a provider webhook delivery id (stamped with the store's clock) to refuse replays. */
  markWebhook(id: string): this {
    return this.add({ kind: 'webhook', id: plainKey('webhook id', id) });
  }

  /** Makes the incident findable by `ref`: its provider key, or `<provider type>:<their id>`. */
  indexIncidentRef(ref: string, incidentId: string): this {
    return this.add({ kind: 'ref', key: refKey(ref, incidentId), ref, incidentId });
  }

  /** Remembers the newest event applied to the incident from this provider instance. */
  putProviderMark(incidentId: string, provider: string, mark: ProviderMark): this {
    const key = providerMarkKey(incidentId, provider);
    return this.add({ kind: 'provider_mark', key, json: serialize(`provider mark ${key}`, mark) });
  }

  /** Occurrences of an open incident counted since its record was written (layout.ts, `counts`). */
  putCountsAhead(incidentId: string, counts: CountsAhead): this {
    const id = idKey('incident id', incidentId);
    return this.add({
      kind: 'counts',
      id,
      json: `{"added":${counts.added},"last_seen":${counts.last_seen}}`,
    });
  }

  /** With a write of the incident's record that folds its counts in. */
  forgetCountsAhead(incidentId: string): this {
    return this.add({ kind: 'forget_counts', id: idKey('incident id', incidentId) });
  }

  /** @internal Used by retention: a resolved incident and its keys go. */
  forgetIncident(id: string, keys: readonly ForgottenKey[]): this {
    return this.add({ kind: 'forget_incident', id: idKey('incident id', id), keys });
  }

  /** @internal Used by webhook pruning. */
  forgetWebhook(id: string): this {
    return this.add({ kind: 'forget_webhook', id: plainKey('webhook id', id) });
  }

  get size(): number {
    return this.#ops.length;
  }

  /** @internal */
  ops(): readonly TxOp[] {
    return this.#ops;
  }

  private add(op: TxOp): this {
    this.#ops.push(op);
    return this;
  }
}

function serialize(what: string, value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw new StoreError(`cannot store ${what}: ${errorMessage(err)}`, { cause: err });
  }
  if (json === undefined) throw new StoreError(`cannot store ${what}: not JSON-serializable`);
  return json;
}

/** The stored text of an audit entry once numbered: seq first, then the entry as added. */
export function numberedAuditJson(json: string, seq: number): string {
  return json === '{}' ? `{"seq":${seq}}` : `{"seq":${seq},${json.slice(1)}`;
}

function flapTraceJson(incident: Incident): string | null {
  const trace = traceOf(incident);
  return trace === null ? null : JSON.stringify(trace);
}
