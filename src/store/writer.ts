// The single writer. Commits are queued and flushed one group at a time, and each group is ONE
// LevelDB batch: atomic, so a crash keeps all of it or none of it.
//
// Why a queue: classic-level runs each batch() on the libuv thread pool, so two batches issued
// back to back may reach LevelDB in either order; an older incident revision could land last. The
// in-memory indexes (IncidentIndex, AuditSeqs) also need flushes to happen one after another.
// Why groups: while one batch (say a `sync` fsync) is in flight, later commits collect and go out
// together in the next batch, so high-rate occurrence counters cost one batch per group, not each.
import type { AbstractBatchOperation } from 'abstract-level';
import type { AuditEntry } from '../domain/incident.js';
import type { Clock } from '../domain/clock.js';
import type { AuditSeqs, SeqDraft } from './audit-seq.js';
import type { IncidentIndex, IndexDraft, IndexedIncident } from './incident-index.js';
import { META_INCIDENT_COUNTS, auditKey, auditRange, incidentDeliveryKey, seqOfAuditKey } from './layout.js';
import type { Db, Sublevels } from './layout.js';
import { numberedAuditJson } from './transaction.js';
import type { Transaction, TxOp } from './transaction.js';

/** What a commit wrote that the caller could not know before: the audit entries with their seq. */
export interface Committed {
  audit: AuditEntry[];
}

type BatchOp = AbstractBatchOperation<Db, string, unknown>;

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

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue.splice(0, MAX_GROUP);
      try {
        const results = await this.flush(group);
        group.forEach((queued, i) => queued.resolve(results[i] as Committed));
      } catch (err) {
        for (const queued of group) queued.reject(err);
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
    await this.db.batch(ops, { sync: group.some((queued) => queued.sync) });
    draft.apply();
    seqDraft.apply();
    return results;
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
      prior.set(id, row ? { fingerprint: row.fingerprint, state: row.state } : null);
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
      case 'incident':
        ops.push(this.put(subs.incidents, op.id, op.json));
        for (const change of draft.put(op.id, { fingerprint: op.fingerprint, state: op.state })) {
          if (change.type === 'del') ops.push({ type: 'del', sublevel: subs.open, key: change.fingerprint });
        }
        // Its open entry follows every write while it holds the fingerprint (counts, state).
        if (op.state !== 'resolved' && draft.ownerOf(op.fingerprint) === op.id)
          ops.push(this.put(subs.open, op.fingerprint, op.openEntry));
        return null;
      case 'delivery':
        ops.push(this.put(subs.deliveries, op.id, op.json));
        ops.push(
          op.pending
            ? this.put(subs.pending, op.id, '""')
            : { type: 'del', sublevel: subs.pending, key: op.id },
        );
        ops.push(this.put(subs.byIncident, incidentDeliveryKey(op.incidentId, op.id), '""'));
        return null;
      case 'audit': {
        const seq = seqs.next(op.entry.incident_id);
        ops.push(this.put(subs.audit, auditKey(op.entry.incident_id, seq), numberedAuditJson(op.json, seq)));
        return { seq, ...op.entry };
      }
      case 'breaker':
        ops.push(this.put(subs.breakers, op.name, op.json));
        return null;
      case 'webhook':
        ops.push(this.put(subs.webhooks, op.id, JSON.stringify({ at: this.clock.now() })));
        return null;
      case 'forget_webhook':
        ops.push({ type: 'del', sublevel: subs.webhooks, key: op.id });
        return null;
      case 'ref':
        ops.push(this.put(subs.refs, op.key, '""'));
        return null;
      case 'provider_mark':
        ops.push(this.put(subs.providerEvents, op.key, op.json));
        return null;
      case 'forget_incident':
        draft.forget(op.id);
        for (const k of op.keys) ops.push({ type: 'del', sublevel: subs[k.sublevel], key: k.key });
        return null;
      default:
        return assertNever(op);
    }
  }

  /** Values arrive as JSON text already; `utf8` stops the sublevel's json encoding running twice. */
  private put(sublevel: Sublevels[keyof Sublevels], key: string, json: string): BatchOp {
    return { type: 'put', sublevel, key, value: json, valueEncoding: 'utf8' };
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled transaction op ${JSON.stringify(value)}`);
}
