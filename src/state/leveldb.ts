// The embedded state backend: one LevelDB directory in one process (src/store/, key layout in
// src/store/layout.ts). Changes of one incident are serialised by a per-incident queue in memory
// and each is one atomic LevelDB batch; recent incidents, and those with a delivery pending, are
// cached (record-cache.ts). The outbox is this process's dispatcher, fed from `pendingDeliveries`
// at start (docs/architecture.md, "State backends").
//
// Pipelined changes (docs/performance.md, "Delivery path"): an incident's next change may start
// as soon as the previous one is submitted to the store's single writer, not once it is durable;
// the caller of each change still waits for its own commit (fsync when durable). The writer keeps
// submission order, and fails everything queued behind a failed batch, so no change derived from
// a lost one is ever written. Two outcomes of one incident (PagerDuty and OpsGenie answering
// within a few ms of each other) then share one batch instead of waiting one fsync apiece.
//
// Counts apart (docs/architecture.md, "State backends"): the occurrences a write-back adds to an
// open incident are written as a small `counts` key (src/store/layout.ts), not by rewriting the
// ~1 KB record, and held in memory (`ahead`); every read adds them to the record, and the record's
// next write folds them in and deletes the key in the same batch. Until that write commits, a read
// of the older record on disk still adds what it folds (`folding`, by revision).
import type { Delivery, Incident, IncidentState } from '../domain/incident.js';
import { BoundedMap } from '../domain/bounded-map.js';
import { cloneJson } from '../domain/json-shape.js';
import { KeyedSerial } from '../incidents/serial.js';
import { RecordCache } from './record-cache.js';
import { Store } from '../store/index.js';
import type { Transaction } from '../store/transaction.js';
import type { Clock } from '../domain/clock.js';
import type { CommitObserver, CountsAhead, ProviderMark } from '../store/index.js';
import type { Silence } from '../silences/model.js';
import type { FlapTrace } from '../domain/flap.js';
import type { IncidentPage } from '../domain/incident-filter.js';
import type {
  Change,
  CreateOutcome,
  IncidentDetail,
  IncidentFilter,
  IncidentRef,
  Mutation,
  NewAuditEntry,
  StateBackend,
  UpdateNeeds,
} from './backend.js';

/** Records of recently written or read incidents kept at most (half of them at least). */
const CACHE_LIMIT = 5_000;
/** Incidents whose records stay cached while a delivery of theirs is pending. */
const HOLD_LIMIT = 20_000;
/** Provider marks of at most this many incidents are kept (most have none: one shared empty record). */
const MARKS_LIMIT = 50_000;
const NO_MARKS: Readonly<Record<string, ProviderMark>> = Object.freeze({});

/** Counts a record write folds in, and the revision of that record. */
type Fold = CountsAhead & { revision: number };

export class LevelDbState implements StateBackend {
  readonly kind = 'leveldb';
  private readonly serial = new KeyedSerial();
  private readonly cache = new RecordCache(CACHE_LIMIT, HOLD_LIMIT);
  /**
   * Incidents whose latest change is submitted but not yet committed: the version the next change
   * of that incident starts from. Only changes read it; `get` answers what is committed.
   */
  private readonly staged = new Map<string, { incident: Incident; committed: Promise<unknown> }>();
  /**
   * Committed provider marks by incident (every webhook reads them to refuse stale events): known
   * empty for an incident opened here, else read once. Only changes write marks.
   */
  private readonly marks = new BoundedMap<string, Readonly<Record<string, ProviderMark>>>(MARKS_LIMIT);
  /**
   * Folds submitted with a record write and not yet committed, by incident: a record older than
   * `revision` (on disk or cached) still lacks `added`.
   */
  private readonly folding = new Map<string, Fold[]>();
  /** This turn's counts, one transaction for all (`countApart`); submitted at the turn's end. */
  private countsBatch: {
    tx: Transaction;
    ids: string[];
    committed: Promise<void>;
    settle: (err?: unknown) => void;
  } | null = null;

  /** `ahead`: the `counts` keys as the store holds them (read at open), kept in step by every write. */
  constructor(
    readonly store: Store,
    private readonly ahead = new Map<string, CountsAhead>(),
  ) {}

  static async open(dir: string, clock: Clock, onCommit?: CommitObserver): Promise<LevelDbState> {
    const store = await Store.open(dir, { clock, ...(onCommit === undefined ? {} : { onCommit }) });
    return new LevelDbState(store, await store.countsAhead());
  }

  async openIncidents(): Promise<IncidentRef[]> {
    const open = await this.store.openSummaries();
    return open.map((ref) => {
      const counts = this.ahead.get(ref.id);
      return counts === undefined
        ? ref
        : {
            ...ref,
            occurrences: ref.occurrences + counts.added,
            lastSeenMs: Math.max(ref.lastSeenMs, counts.last_seen),
          };
    });
  }

  /** Every delivery still to send, oldest first: the dispatcher's work at start. */
  pendingDeliveries(): Promise<Delivery[]> {
    return this.store.loadPendingDeliveries();
  }

  /** One process writes: the incident core's reservation already made the fingerprint ours. */
  create(
    incident: Incident,
    deliveries: readonly Delivery[],
    audit: readonly NewAuditEntry[],
    after?: Promise<unknown>,
  ): Promise<CreateOutcome> {
    return this.serial.run(incident.id, async () => {
      await after?.catch(() => undefined);
      const tx = this.store.transaction().putIncident(incident);
      // Providers name it by its provider key in their webhooks (PagerDuty incident_key, OpsGenie alias).
      tx.indexIncidentRef(incident.provider_key, incident.id);
      for (const d of deliveries) tx.putDelivery(d);
      for (const a of audit) tx.appendAudit(a);
      await this.store.commit(tx, { sync: true });
      this.cache.track(incident.id, deliveries);
      this.cache.set(incident);
      this.marks.set(incident.id, NO_MARKS);
      return { created: true as const };
    });
  }

  update<T>(id: string, needs: UpdateNeeds, mutate: Mutation<T>): Promise<T | null> {
    const reads = needs.deliveries === true || needs.marks === true || Boolean(needs.webhookId);
    return this.serial
      .run(id, async () => {
        // Deliveries, marks and replay marks are read from disk: the previous change must be there.
        if (reads) await this.settled(id);
        const record = await this.latest(id);
        if (!record) return { result: null, committed: null };
        const current = this.counted(record);
        const [deliveries, marks, seen] = reads
          ? await Promise.all([
              needs.deliveries ? this.store.listDeliveries(id) : [],
              needs.marks ? this.providerMarks(id) : {},
              needs.webhookId ? this.store.seenWebhook(needs.webhookId) : false,
            ])
          : [[], {}, false];
        const { change, result } = mutate({
          incident: cloneJson(current),
          deliveries,
          marks,
          seen: (webhookId) => seen && webhookId === needs.webhookId,
        });
        // Submitted before this task ends, so the next change of this incident starts from it.
        return { result, committed: change === null ? null : this.write(record, change) };
      })
      .then(async ({ result, committed }) => {
        await committed;
        return result;
      });
  }

  /**
   * Submits one change to the incident whose record (without its counts apart) is `record`; the
   * promise settles when it is committed (durable when asked).
   */
  private write(record: Incident, change: Change): Promise<unknown> {
    const id = record.id;
    const tx = this.store.transaction();
    let fold: Fold | null = null;
    if (change.incident !== null) {
      change.incident.revision = record.revision + 1;
      fold = this.putRecord(tx, change.incident, record);
    }
    for (const d of change.deliveries) tx.putDelivery(d);
    for (const a of change.audit) tx.appendAudit(a);
    for (const [provider, mark] of Object.entries(change.marks ?? {})) tx.putProviderMark(id, provider, mark);
    for (const ref of change.refs ?? []) tx.indexIncidentRef(ref, id);
    if (change.webhookId) tx.markWebhook(change.webhookId);
    const committed = this.submit(
      id,
      tx,
      change.incident ?? record,
      change.incident !== null,
      change.durable,
      change.deliveries,
    );
    if (fold !== null) this.settleFold(id, fold, committed);
    const marks = change.marks;
    if (marks !== undefined && Object.keys(marks).length > 0)
      committed.then(
        () => {
          const known = this.marks.get(id);
          if (known !== undefined) this.marks.set(id, { ...known, ...marks });
        },
        () => this.marks.delete(id),
      );
    return committed;
  }

  /** An incident's provider marks, from memory when known (read after its last change settled). */
  private async providerMarks(id: string): Promise<Readonly<Record<string, ProviderMark>>> {
    const known = this.marks.get(id);
    if (known !== undefined) return known;
    const read = await this.store.providerMarks(id);
    // Only changes (serialised with this read) write marks: what was read is still true.
    this.marks.set(id, Object.keys(read).length === 0 ? NO_MARKS : read);
    return read;
  }

  /**
   * Commits `tx`. `next` is what later changes of the incident start from at once (the new version,
   * or the one this change started from when only its deliveries or timeline changed), and what
   * `get` answers once `changed` is committed. A failed commit forgets it: the next change reads
   * the incident from disk again.
   */
  private submit(
    id: string,
    tx: Transaction,
    next: Incident,
    changed: boolean,
    sync: boolean,
    deliveries: readonly Delivery[] = [],
  ): Promise<unknown> {
    const committed = this.store.commit(tx, { sync });
    const entry = { incident: next, committed };
    this.staged.set(id, entry);
    const done = (ok: boolean): void => {
      if (this.staged.get(id) === entry) this.staged.delete(id);
      if (!ok) return this.cache.delete(id);
      this.cache.track(id, deliveries);
      if (changed) this.cache.set(next);
    };
    committed.then(
      () => done(true),
      () => done(false),
    );
    return committed;
  }

  /**
   * The record the incident's next change starts from: its last submitted version, else the
   * committed one (without the counts apart: `counted` adds them).
   */
  private async latest(id: string): Promise<Incident | undefined> {
    return this.staged.get(id)?.incident ?? this.cache.get(id) ?? (await this.committed(id));
  }

  /**
   * Puts a new version of the incident's record, which holds every occurrence counted so far (it
   * was made from `counted`): its `counts` key goes in the same batch, and until that commits,
   * reads of the older record add what it folds. `replaces`: the version it follows, whose open
   * entry is kept when this one's is the same.
   */
  private putRecord(tx: Transaction, next: Incident, replaces?: Incident): Fold | null {
    tx.putIncident(next, replaces);
    const counts = this.ahead.get(next.id);
    if (counts === undefined) return null;
    this.submitCounts();
    tx.forgetCountsAhead(next.id);
    this.ahead.delete(next.id);
    const fold = { ...counts, revision: next.revision };
    this.folding.set(next.id, [...(this.folding.get(next.id) ?? []), fold]);
    return fold;
  }

  private settleFold(id: string, fold: Fold, committed: Promise<unknown>): void {
    const settle = (): void => {
      const left = (this.folding.get(id) ?? []).filter((f) => f !== fold);
      if (left.length === 0) this.folding.delete(id);
      else this.folding.set(id, left);
    };
    committed.then(settle, () => {
      settle();
      this.rereadCounts(id);
    });
  }

  /** The record with the occurrences counted apart from it added (see the file's head). */
  private counted(record: Incident): Incident {
    let added = 0;
    let lastSeen = 0;
    for (const f of this.folding.get(record.id) ?? [])
      if (record.revision < f.revision) {
        added += f.added;
        lastSeen = Math.max(lastSeen, f.last_seen);
      }
    const counts = this.ahead.get(record.id);
    if (counts !== undefined) {
      added += counts.added;
      lastSeen = Math.max(lastSeen, counts.last_seen);
    }
    if (added === 0) return record;
    const incident: Incident = { ...record, occurrences: record.occurrences + added };
    if (lastSeen > Date.parse(record.last_seen)) incident.last_seen = new Date(lastSeen).toISOString();
    if (record.storm) incident.storm = { ...record.storm, folded: record.storm.folded + added };
    return incident;
  }

  /** After a failed commit: the incident's counts as the store holds them (the caller counts again). */
  private rereadCounts(id: string): void {
    void this.serial.run(id, async () => {
      const counts = await this.store.getCountsAhead(id).catch(() => undefined);
      if (counts === undefined) this.ahead.delete(id);
      else this.ahead.set(id, counts);
    });
  }

  /** Resolves once the incident's last submitted change has settled (either way). */
  private async settled(id: string): Promise<void> {
    await this.staged.get(id)?.committed.catch(() => undefined);
  }

  /**
   * The hot write: every repeated incident, every write-back (unsynced: a crash may cost the count,
   * never the incident). An open incident's occurrences go to its `counts` key (see the file's
   * head), in one transaction with every other count of the same turn: 10,000 incidents repeating
   * at once cost one batch of small puts. One with a change queued waits for it; one no longer open
   * (resolved since they were counted) has its record rewritten.
   */
  addOccurrences(id: string, count: number, lastSeenMs: number): Promise<void> {
    if (!this.serial.busy(id)) {
      const counted = this.countApart(id, count, lastSeenMs);
      if (counted !== null) return counted;
    }
    return this.serial
      .run(id, async () => {
        const counted = this.countApart(id, count, lastSeenMs);
        if (counted !== null) return counted;
        const record = await this.latest(id);
        if (!record) return null;
        const current = this.counted(record);
        const next: Incident = {
          ...current,
          occurrences: current.occurrences + count,
          revision: record.revision + 1,
        };
        if (lastSeenMs > Date.parse(current.last_seen)) next.last_seen = new Date(lastSeenMs).toISOString();
        if (current.storm) next.storm = { ...current.storm, folded: current.storm.folded + count };
        const tx = this.store.transaction();
        const fold = this.putRecord(tx, next, record);
        const committed = this.submit(id, tx, next, true, false);
        if (fold !== null) this.settleFold(id, fold, committed);
        return committed;
      })
      .then(async (committed) => {
        await committed;
      });
  }

  /** Counts an open incident's occurrences apart from its record; null when it is not open. */
  private countApart(id: string, count: number, lastSeenMs: number): Promise<void> | null {
    const staged = this.staged.get(id)?.incident;
    if (!(staged ? staged.state !== 'resolved' : this.store.isOpen(id))) return null;
    const before = this.ahead.get(id);
    const counts: CountsAhead = {
      added: (before?.added ?? 0) + count,
      last_seen: Math.max(before?.last_seen ?? 0, lastSeenMs),
    };
    this.ahead.set(id, counts);
    let batch = this.countsBatch;
    if (batch === null) {
      let settle!: (err?: unknown) => void;
      const committed = new Promise<void>((resolve, reject) => {
        settle = (err) => (err === undefined ? resolve() : reject(err as Error));
      });
      batch = { tx: this.store.transaction(), ids: [], committed, settle };
      this.countsBatch = batch;
      queueMicrotask(() => this.submitCounts());
    }
    batch.tx.putCountsAhead(id, counts);
    batch.ids.push(id);
    return batch.committed;
  }

  /**
   * Submits the turn's counts to the store's writer now: at the turn's end, and before any record
   * write that folds counts in (a `counts` put must never land after the delete that folds it).
   */
  private submitCounts(): void {
    const batch = this.countsBatch;
    if (batch === null) return;
    this.countsBatch = null;
    this.store.commit(batch.tx).then(
      () => batch.settle(),
      (err: unknown) => {
        for (const id of new Set(batch.ids)) this.rereadCounts(id);
        batch.settle(err ?? new Error('counts not written'));
      },
    );
  }

  async get(id: string): Promise<Incident | undefined> {
    const record = await this.committed(id);
    return record && this.counted(record);
  }

  /** The incident's committed record, without the occurrences counted apart from it. */
  private async committed(id: string): Promise<Incident | undefined> {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const incident = await this.store.getIncident(id);
    if (incident) this.cache.set(incident);
    return incident;
  }

  async list(filter: IncidentFilter): Promise<IncidentPage> {
    const page = await this.store.listPage(filter);
    return { ...page, incidents: page.incidents.map((incident) => this.counted(incident)) };
  }

  /** The incident with its timeline and deliveries, read in turn with its own changes. */
  detail(id: string): Promise<IncidentDetail | null> {
    return this.serial.run(id, async () => {
      await this.settled(id);
      const incident = await this.get(id);
      if (!incident) return null;
      const [timeline, deliveries] = await Promise.all([
        this.store.timeline(id),
        this.store.listDeliveries(id),
      ]);
      return { incident, timeline, deliveries };
    });
  }

  findByRef(ref: string, limit: number): Promise<string[]> {
    return this.store.incidentIdsByRef(ref, limit);
  }

  countByState(): Promise<Record<IncidentState, number>> {
    return this.store.countIncidentsByState();
  }

  async markWebhook(id: string): Promise<boolean> {
    if (await this.store.seenWebhook(id)) return false;
    await this.store.markWebhook(id);
    return true;
  }

  seenWebhook(id: string): Promise<boolean> {
    return this.store.seenWebhook(id);
  }

  getBreaker(name: string): Promise<unknown | undefined> {
    return this.store.getBreaker(name);
  }

  putBreaker(name: string, state: unknown): Promise<void> {
    return this.store.putBreaker(name, state);
  }

  flapTraces(): Promise<Array<[string, FlapTrace]>> {
    return this.store.loadFlapTraces();
  }

  recoveries(): Promise<Array<[string, number]>> {
    return this.store.loadRecoveries();
  }

  loadSilences(): Promise<Silence[]> {
    return this.store.loadSilences();
  }

  putSilence(silence: Silence): Promise<void> {
    return this.store.putSilence(silence);
  }

  forgetSilence(id: string): Promise<void> {
    return this.store.forgetSilence(id);
  }

  async prune(cutoffs: { resolvedBefore: number; webhooksBefore: number }): Promise<number> {
    await this.store.pruneWebhookIds(cutoffs.webhooksBefore);
    let total = 0;
    for (;;) {
      const n = await this.store.pruneResolved(cutoffs.resolvedBefore);
      total += n;
      if (n === 0) break;
    }
    this.marks.clear(); // pruned incidents' marks went with them; the rest are read again
    this.cache.prune(
      (cached) =>
        cached.state === 'resolved' && Date.parse(cached.resolved_at ?? '') < cutoffs.resolvedBefore,
    );
    return total;
  }

  storageBytes(): Promise<number> {
    return this.store.storageBytes();
  }

  /** Waits for every queued change, then closes the store. */
  async close(): Promise<void> {
    await this.idle();
    await this.store.close();
  }

  shed(): void {
    this.cache.shed();
    this.marks.shed();
    this.store.shed();
  }

  /** Resolves when every change queued so far has been written. */
  async idle(): Promise<void> {
    this.submitCounts();
    await this.serial.idle();
    await this.store.idle();
  }
}
