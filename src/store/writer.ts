import type { AbstractBatchOperation } from 'abstract-level';
// The single writer. Commits are queued and flushed one group at a time, and each group is ONE
// LevelDB batch: atomic, so a crash keeps all of it or none of it.
//
// Why a queue: classic-level runs each batch() on the libuv thread pool, so two batches issued
// back to back may reach LevelDB in either order; an older incident revision could land last. The
// in-memory indexes (IncidentIndex, AuditSeqs) also need flushes to happen one after another.
// Why groups: while one batch (say a `sync` fsync) is in flight, later commits collect and go out
// together in the next batch, so high-rate occurrence counters cost one batch per group, not each.
import type { AuditEntry } from '../domain/incident.js';
import type { Clock } from '../domain/clock.js';
import type { AuditSeqs, SeqDraft } from './audit-seq.js';
import type { IncidentIndex, IndexDraft, IndexedIncident } from './incident-index.js';

/** What a committed batch wrote that the store's in-memory lookups follow (ref cache, key filters). */
export interface CommitListener {
  refAdded(ref: string, incidentId: string): void;
  refRemoved(ref: string, incidentId: string): void;
  webhookMarked(id: string): void;
  /** A provider mark's key (`<incident id>!<provider>`). */
  markWritten(key: string): void;
  committed?: CommitObserver;
}

/** Told of each batch: `seconds` from its write until its writers could go on; `sync`: fsync'd. */
export type CommitObserver = (seconds: number, sync: boolean) => void;
import { META_INCIDENT_COUNTS, auditKey, auditRange, incidentDeliveryKey, seqOfAuditKey } from './layout.js';
import type { Db, Sublevels } from './layout.js';
import { numberedAuditJson } from './transaction.js';
import type { Transaction, TxOp } from './transaction.js';

/** What a commit wrote that the caller could not know before: the audit entries with their seq. */
export interface Committed {
  audit: AuditEntry[];
}

/** One LevelDB operation with its key prefixed by its sublevel and its value JSON text already. */
type BatchOp = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

/**
 * abstract-level's private write: what its public `batch` calls once it has copied each operation,
 * looked up its encodings and prefixed its key (about 5 µs per operation, 10% of the sidecar's CPU
 * while opening incidents: docs/performance.md, "Delivery path"). Our keys are prefixed and our
 * values encoded already, so the writer calls it directly when nothing else would see the batch
 * (no prewrite hook, no `write` listener) and the database is open; else the public one.
 */
interface RawBatch {
  status: string;
  hooks: { prewrite: { noop: boolean } };
  listenerCount(event: string): number;
  _batch(ops: BatchOp[], options: { sync: boolean }): Promise<void>;
}

interface Queued {
  tx: Transaction;
  sync: boolean;
  resolve: (committed: Committed) => void;
  reject: (err: unknown) => void;
}

// A bound on one batch's size, so one flush cannot hold the event loop for long.
const MAX_GROUP = 512;

export class Writer {
  private queue: Queued[] = [];
  private running: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    private readonly subs: Sublevels,
    private readonly index: IncidentIndex,
    private readonly seqs: AuditSeqs,
    private readonly clock: Clock,
    private readonly listener: CommitListener,
  ) {}

  submit(tx: Transaction, sync: boolean): Promise<Committed> {
    return new Promise((resolve, reject) => {
      this.queue.push({ tx, sync, resolve, reject });
      this.running ??= this.drain();
    });
  }

  /** Resolves once every commit submitted so far has settled. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Forgets the remembered audit seqs unless a flush is in progress (seeds are read in flushes). */
  shed(): void {
    if (this.running === null) this.seqs.forget();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue.splice(0, MAX_GROUP);
      try {
        const results = await this.flush(group);
        group.forEach((queued, i) => queued.resolve(results[i] as Committed));
      } catch (err) {
        // Everything queued behind a failed batch fails with it: a caller may have derived a
        // change from one still in flight (LevelDbState hands an incident to its next change when
        // the write is submitted, not when it is durable: docs/performance.md, "Delivery path").
        for (const queued of group.concat(this.queue.splice(0))) queued.reject(err);
      }
    }
    this.running = null;
  }

  private async flush(group: Queued[]): Promise<Committed[]> {
    const prior = await this.prefetch(group);
    const draft = this.index.draft(prior);
    const seqDraft = this.seqs.draft();
    const ops: BatchOp[] = [];
    const results = group.map(({ tx }) => this.translate(tx, draft, seqDraft, ops));

    if (draft.countsChanged)
      ops.push(this.put(this.subs.meta, META_INCIDENT_COUNTS, JSON.stringify(draft.counts)));
    const sync = group.some((queued) => queued.sync);
    const started = performance.now();
    await this.write(ops, sync);
    this.listener.committed?.((performance.now() - started) / 1000, sync);
    draft.apply();
    seqDraft.apply();
    for (const { tx } of group) this.notify(tx);
    return results;
  }

  /** Tells the listener what a committed transaction wrote. */
  private notify(tx: Transaction): void {
    for (const op of tx.ops()) {
      if (op.kind === 'ref') this.listener.refAdded(op.ref, op.incidentId);
      else if (op.kind === 'webhook') this.listener.webhookMarked(op.id);
      else if (op.kind === 'provider_mark') this.listener.markWritten(op.key);
      else if (op.kind === 'forget_incident')
        for (const k of op.keys) {
          if (k.sublevel !== 'refs') continue;
          const at = k.key.lastIndexOf('!');
          this.listener.refRemoved(k.key.slice(0, at), k.key.slice(at + 1));
        }
    }
  }

  private write(ops: BatchOp[], sync: boolean): Promise<void> {
    const raw = this.db as unknown as RawBatch;
    if (raw.status === 'open' && raw.hooks.prewrite.noop && raw.listenerCount('write') === 0)
      return raw._batch(ops, { sync });
    const encoded = ops.map((op) => ({ ...op, keyEncoding: 'utf8', valueEncoding: 'utf8' }));
    return this.db.batch(encoded as AbstractBatchOperation<Db, string, unknown>[], { sync });
  }

  /**
   * Reads what the in-memory indexes do not know: non-open incidents' states, unseeded seqs. An
   * incident created in this group is known without a read: it has no state and no audit on disk.
   */
  private async prefetch(group: Queued[]): Promise<Map<string, IndexedIncident | null>> {
    const prior = new Map<string, IndexedIncident | null>();
    for (const { tx } of group) {
      for (const op of tx.ops()) {
        if (op.kind !== 'incident' || !op.created) continue;
        prior.set(op.id, null);
        if (!this.seqs.has(op.id)) this.seqs.seed(op.id, 0);
      }
    }
    const unknownIncidents = new Set<string>();
    const unseeded = new Set<string>();
    for (const { tx } of group) {
      for (const op of tx.ops()) {
        if (
          (op.kind === 'incident' || op.kind === 'forget_incident') &&
          !prior.has(op.id) &&
          !this.index.byId.has(op.id)
        )
          unknownIncidents.add(op.id);
        if (op.kind === 'audit' && !this.seqs.has(op.entry.incident_id)) unseeded.add(op.entry.incident_id);
      }
    }
    const ids = [...unknownIncidents];
    const [rows] = await Promise.all([
      ids.length > 0 ? this.subs.incidents.getMany(ids) : [],
      ...[...unseeded].map(async (id) => this.seqs.seed(id, await this.lastSeq(id))),
    ]);
    ids.forEach((id, i) => {
      const row = rows[i];
      prior.set(
        id,
        row ? { fingerprint: row.fingerprint, providerKey: row.provider_key, state: row.state } : null,
      );
    });
    return prior;
  }

  private async lastSeq(incidentId: string): Promise<number> {
    const [last] = await this.subs.audit.keys({ ...auditRange(incidentId), reverse: true, limit: 1 }).all();
    return last === undefined ? 0 : seqOfAuditKey(last);
  }

  private translate(tx: Transaction, draft: IndexDraft, seqs: SeqDraft, ops: BatchOp[]): Committed {
    const audit: AuditEntry[] = [];
    for (const op of tx.ops()) {
      const entry = this.translateOp(op, draft, seqs, ops);
      if (entry) audit.push(entry);
    }
    return { audit };
  }

  private translateOp(op: TxOp, draft: IndexDraft, seqs: SeqDraft, ops: BatchOp[]): AuditEntry | null {
    const { subs } = this;
    switch (op.kind) {
      case 'incident': {
        ops.push(this.put(subs.incidents, op.id, op.json));
        // Written when it resolves, not by later writes of it: a newer incident's trace stays.
        const resolves = op.state === 'resolved' && draft.stateOf(op.id) !== 'resolved';
        if (op.flapTrace !== null && resolves) ops.push(this.put(subs.flaps, op.fingerprint, op.flapTrace));
        if (op.recoveryLineMs !== null && Number.isFinite(op.recoveryLineMs) && resolves)
          ops.push(this.put(subs.recoveries, op.fingerprint, String(op.recoveryLineMs)));
        const indexed = { fingerprint: op.fingerprint, providerKey: op.providerKey, state: op.state };
        const heldBefore = draft.ownerOf(op.fingerprint) === op.id;
        for (const change of draft.put(op.id, indexed)) {
          if (change.type === 'del') ops.push(this.del(subs.open, change.fingerprint));
        }
        // Its open entry follows every write while it holds the fingerprint (counts, state); one
        // that did not change is there already if it held the fingerprint before this write.
        if (
          op.state !== 'resolved' &&
          draft.ownerOf(op.fingerprint) === op.id &&
          !(op.openUnchanged && heldBefore)
        )
          ops.push(this.put(subs.open, op.fingerprint, op.openEntry));
        return null;
      }
      case 'delivery':
        ops.push(this.put(subs.deliveries, op.id, op.json));
        ops.push(op.pending ? this.put(subs.pending, op.id, '""') : this.del(subs.pending, op.id));
        // An attempted delivery was written before it could be attempted, link included.
        if (!op.linked) ops.push(this.put(subs.byIncident, incidentDeliveryKey(op.incidentId, op.id), '""'));
        return null;
      case 'audit': {
        const seq = seqs.next(op.entry.incident_id);
        ops.push(this.put(subs.audit, auditKey(op.entry.incident_id, seq), numberedAuditJson(op.json, seq)));
        return { seq, ...op.entry };
      }
      case 'breaker':
        ops.push(this.put(subs.breakers, op.name, op.json));
        return null;
      case 'silence':
        ops.push(this.put(subs.silences, op.id, op.json));
        return null;
      case 'forget_silence':
        ops.push(this.del(subs.silences, op.id));
        return null;
      case 'webhook':
        ops.push(this.put(subs.webhooks, op.id, JSON.stringify({ at: this.clock.now() })));
        return null;
      case 'forget_webhook':
        ops.push(this.del(subs.webhooks, op.id));
        return null;
      case 'ref':
        ops.push(this.put(subs.refs, op.key, '""'));
        return null;
      case 'provider_mark':
        ops.push(this.put(subs.providerEvents, op.key, op.json));
        return null;
      case 'counts':
        ops.push(this.put(subs.counts, op.id, op.json));
        return null;
      case 'forget_counts':
        ops.push(this.del(subs.counts, op.id));
        return null;
      case 'forget_incident':
        draft.forget(op.id);
        for (const k of op.keys) ops.push(this.del(subs[k.sublevel], k.key));
        return null;
      default:
        return assertNever(op);
    }
  }

  /** Values arrive as JSON text already: written as they are, under the sublevel's prefix. */
  private put(sublevel: Sublevels[keyof Sublevels], key: string, json: string): BatchOp {
    return { type: 'put', key: sublevel.prefix + key, value: json };
  }

  private del(sublevel: Sublevels[keyof Sublevels], key: string): BatchOp {
    return { type: 'del', key: sublevel.prefix + key };
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled transaction op ${JSON.stringify(value)}`);
}
