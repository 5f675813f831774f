// The durable store: incidents, the outbox, the timeline, breaker state and webhook ids in one
// LevelDB directory (key layout: layout.ts). Reads go straight to LevelDB or to the in-memory
// indexes; every write is a Transaction committed as one atomic batch by the Writer.
import type { Clock } from '../domain/clock.js';
import { systemClock } from '../domain/clock.js';
import type { AuditEntry, Delivery, Incident, IncidentState } from '../domain/incident.js';
import type { Silence } from '../silences/model.js';
import type { FlapTrace } from '../domain/flap.js';
import { StoreError } from '../errors.js';
import { AuditSeqs } from './audit-seq.js';
import type { IncidentIndex } from './incident-index.js';
import type { OpenSummary } from './open-db.js';
import {
  auditRange,
  deliveryIdOfIncidentKey,
  incidentDeliveriesRange,
  incidentIdOfMarkKey,
  incidentIdOfRefKey,
  providerMarkKey,
  providerMarksRange,
  providerOfMarkKey,
  refKey,
  refRange,
} from './layout.js';
import type { CountsAhead, Db, ProviderMark, Sublevels } from './layout.js';
import { openDb } from './open-db.js';
import { Transaction, type ForgottenKey } from './transaction.js';
import { idAt } from './ids.js';
import { Writer } from './writer.js';
import {
  LIST_SKIP_AT_MOST,
  PageCollector,
  type IncidentFilter,
  type IncidentPage,
} from '../domain/incident-filter.js';
import { RefCache } from './ref-cache.js';
import { KeyFilter } from './key-filter.js';
import type { CommitObserver, Committed } from './writer.js';

export type { IncidentFilter };

export interface CommitOptions {
  /** fsync before resolving. Use it when the batch creates or changes outbox entries or opens or resolves incidents. */
  sync?: boolean;
}

const DEFAULT_LIST_LIMIT = 100;

export class Store {
  private readonly writer: Writer;
  private readonly refs: RefCache;
  /** Refs and webhook ids on disk (key-filter.ts): most lookups of either find nothing. */
  private readonly refFilter: KeyFilter;
  private readonly webhookFilter: KeyFilter;
  /** Incidents with provider marks: most never get one, and asking the disk is a range read. */
  private readonly marksFilter: KeyFilter;
  private closing: Promise<void> | null = null;
  /** The open incidents as read at open, until the first `openSummaries` takes them. */
  private openAtStart: OpenSummary[] | null;

  private constructor(
    readonly dir: string,
    private readonly db: Db,
    private readonly subs: Sublevels,
    private readonly index: IncidentIndex,
    private readonly clock: Clock,
    openAtStart: OpenSummary[],
    onCommit?: CommitObserver,
  ) {
    this.openAtStart = openAtStart;
    const openedAt = idAt(clock.now());
    this.refs = new RefCache((id) => id >= openedAt);
    const subsRefs = subs.refs;
    this.refFilter = new KeyFilter(async function* () {
      for await (const key of subsRefs.keys()) yield key.slice(0, key.lastIndexOf('!'));
    });
    this.webhookFilter = new KeyFilter(() => subs.webhooks.keys());
    const providerEvents = subs.providerEvents;
    this.marksFilter = new KeyFilter(async function* () {
      for await (const key of providerEvents.keys()) yield incidentIdOfMarkKey(key);
    });
    this.writer = new Writer(db, subs, index, new AuditSeqs(), clock, {
      refAdded: (ref, id) => {
        this.refs.added(ref, id);
        this.refFilter.add(ref);
      },
      refRemoved: (ref, id) => this.refs.removed(ref, id),
      webhookMarked: (id) => this.webhookFilter.add(id),
      markWritten: (key) => this.marksFilter.add(incidentIdOfMarkKey(key)),
      ...(onCommit === undefined ? {} : { committed: onCommit }),
    });
  }

  /**
   * Opens (creating if needed) the data directory; refuses a directory another process holds.
   * `onCommit` is told how long each batch took to commit (a metric: the disk's share of latency).
   */
  static async open(dir: string, options: { clock?: Clock; onCommit?: CommitObserver } = {}): Promise<Store> {
    const { db, subs, index, open } = await openDb(dir);
    return new Store(dir, db, subs, index, options.clock ?? systemClock, open, options.onCommit);
  }

  /** Waits for queued commits, then releases the LevelDB lock. */
  close(): Promise<void> {
    this.closing ??= this.writer.idle().then(() => this.db.close());
    return this.closing;
  }

  /** Resolves once every commit submitted so far has settled. */
  idle(): Promise<void> {
    return this.writer.idle();
  }

  /** Forgets what is only a cache of the disk: refs and audit seqs (the process is at rest). */
  shed(): void {
    this.refs.shed();
    this.writer.shed();
  }

  transaction(): Transaction {
    return new Transaction();
  }

  /** One atomic LevelDB batch; `sync: true` when it creates or changes outbox entries or opens/resolves incidents. */
  commit(tx: Transaction, options: CommitOptions = {}): Promise<Committed> {
    if (this.closing) return Promise.reject(new StoreError(`store ${this.dir} is closed`));
    if (tx.size === 0) return Promise.resolve({ audit: [] });
    return this.writer.submit(tx, options.sync === true);
  }

  // --- incidents -----------------------------------------------------------------------------
  getIncident(id: string): Promise<Incident | undefined> {
    return readNow(() => (id === '' ? undefined : this.subs.incidents.getSync(id)));
  }

  /** Whether the incident is open (not resolved) as committed, from the in-memory index. */
  isOpen(id: string): boolean {
    return this.index.byId.has(id);
  }

  /** Every incident's occurrences counted apart from its record (layout.ts, `counts`). */
  async countsAhead(): Promise<Map<string, CountsAhead>> {
    const all = new Map<string, CountsAhead>();
    for await (const [id, counts] of this.subs.counts.iterator()) all.set(id, counts);
    return all;
  }

  /** One incident's occurrences counted apart from its record, if any. */
  getCountsAhead(id: string): Promise<CountsAhead | undefined> {
    return readNow(() => this.subs.counts.getSync(id));
  }

  /** The open (not resolved) incident for a fingerprint, from the in-memory mirror of `open`. */
  openIncidentId(fingerprint: string): Promise<string | undefined> {
    return Promise.resolve(this.index.byFingerprint.get(fingerprint));
  }

  /**
   * The open incidents' small facts (the incident core's view at start): the first call takes what
   * the open read (no second pass over every open incident), later ones read them again.
   */
  async openSummaries(): Promise<OpenSummary[]> {
    const atStart = this.openAtStart;
    this.openAtStart = null;
    if (atStart !== null) return atStart;
    return (await this.loadOpenIncidents()).map(({ fingerprint, incident }) => ({
      id: incident.id,
      correlationId: incident.correlation_id,
      fingerprint,
      providerKey: incident.provider_key,
      service: incident.service,
      state: incident.state,
      occurrences: incident.occurrences,
      lastSeenMs: Date.parse(incident.last_seen),
    }));
  }

  /** Every open incident, whole. */
  async loadOpenIncidents(): Promise<Array<{ fingerprint: string; incident: Incident }>> {
    const entries = [...this.index.byFingerprint];
    const incidents = await this.getMany(entries.map(([, id]) => id));
    return entries.flatMap(([fingerprint], i) => {
      const incident = incidents[i];
      return incident ? [{ fingerprint, incident }] : [];
    });
  }

  /** Newest first, every match (tests and tools); the API pages with `listPage`. */
  async listIncidents(filter: IncidentFilter = {}): Promise<Incident[]> {
    return (await this.listPage(filter, Number.POSITIVE_INFINITY)).incidents;
  }

  /**
   * One page, newest first. Open states come from the index; `resolved` and no state read history.
   * Reading stops once `skipAtMost` incidents did not match (see `PageCollector`).
   */
  async listPage(filter: IncidentFilter = {}, skipAtMost = LIST_SKIP_AT_MOST): Promise<IncidentPage> {
    const limit = filter.limit ?? DEFAULT_LIST_LIMIT;
    if (limit <= 0) return { incidents: [], next: null };
    const page = new PageCollector(filter, limit, skipAtMost);
    if (filter.state === 'triggered' || filter.state === 'acknowledged') {
      const ids = [...this.index.byId]
        .filter(
          ([id, open]) => open.state === filter.state && (filter.before === undefined || id < filter.before),
        )
        .map(([id]) => id)
        .sort()
        .reverse();
      const batch = Math.max(limit, 256);
      for (let at = 0; at < ids.length; at += batch) {
        const incidents = await this.getMany(ids.slice(at, at + batch));
        for (const incident of incidents)
          if (incident !== undefined && page.add(incident)) return page.page();
      }
      return page.page();
    }
    const range = filter.before === undefined ? {} : { lt: filter.before };
    for await (const incident of this.subs.incidents.values({ ...range, reverse: true }))
      if (page.add(incident)) break;
    return page.page();
  }

  countIncidentsByState(): Promise<Record<IncidentState, number>> {
    return Promise.resolve({ ...this.index.counts });
  }

  // --- outbox --------------------------------------------------------------------------------
  getDelivery(id: string): Promise<Delivery | undefined> {
    return readNow(() => (id === '' ? undefined : this.subs.deliveries.getSync(id)));
  }

  /** An incident's deliveries, oldest first. */
  async listDeliveries(incidentId: string): Promise<Delivery[]> {
    const keys = await this.subs.byIncident.keys(incidentDeliveriesRange(incidentId)).all();
    const deliveries = await this.getManyDeliveries(keys.map(deliveryIdOfIncidentKey));
    return deliveries.filter((d): d is Delivery => d !== undefined);
  }

  /** Every delivery still to send, oldest first (ids sort by creation time). */
  async loadPendingDeliveries(): Promise<Delivery[]> {
    const ids = await this.subs.pending.keys().all();
    const deliveries = await this.getManyDeliveries(ids);
    return deliveries.filter((d): d is Delivery => d?.status === 'pending');
  }

  async countPendingDeliveries(): Promise<number> {
    return (await this.subs.pending.keys().all()).length;
  }

  // --- timeline, breakers, webhooks ------------------------------------------------------------
  /** The incident's audit entries in seq order. */
  timeline(incidentId: string): Promise<AuditEntry[]> {
    return this.subs.audit.values(auditRange(incidentId)).all();
  }

  getBreaker(name: string): Promise<unknown | undefined> {
    return name === '' ? Promise.resolve(undefined) : this.subs.breakers.get(name);
  }

  async putBreaker(name: string, state: unknown): Promise<void> {
    await this.commit(new Transaction().putBreaker(name, state));
  }

  /** Damped fingerprints' last resolves (layout.ts, `flaps`), for the incident core at start. */
  async loadFlapTraces(): Promise<Array<[string, FlapTrace]>> {
    return this.subs.flaps.iterator().all();
  }

  /** The recovery lines that resolved fingerprints' last incidents (layout.ts, `recoveries`), at start. */
  async loadRecoveries(): Promise<Array<[string, number]>> {
    return this.subs.recoveries.iterator().all();
  }

  /** Every stored silence (src/silences): a few hundred at most, read once at start. */
  loadSilences(): Promise<Silence[]> {
    return this.subs.silences.values().all();
  }

  /** Written with fsync: a silence made over the API survives a crash the moment it is answered. */
  async putSilence(silence: Silence): Promise<void> {
    await this.commit(new Transaction().putSilence(silence), { sync: true });
  }

  async forgetSilence(id: string): Promise<void> {
    await this.commit(new Transaction().forgetSilence(id));
  }

  /** Whether a provider webhook delivery id was already processed (replays are dropped). */
  seenWebhook(id: string): Promise<boolean> {
    if (id === '' || !this.webhookFilter.mayHave(id)) return Promise.resolve(false);
    return this.subs.webhooks.has(id);
  }

  /** Marks a webhook id on its own; prefer `tx.markWebhook` in the batch that applies the webhook. */
  async markWebhook(id: string): Promise<void> {
    await this.commit(new Transaction().markWebhook(id));
  }

  /** Forgets webhook ids marked before `cutoff` (epoch ms); returns how many. */
  async pruneWebhookIds(cutoff: number): Promise<number> {
    const tx = new Transaction();
    for await (const [id, { at }] of this.subs.webhooks.iterator()) if (at < cutoff) tx.forgetWebhook(id);
    await this.commit(tx);
    return tx.size;
  }

  // --- provider refs and marks (inbound webhooks) -------------------------------------------------
  /**
   * Incidents known to providers by `ref` (a provider key or `<type>:<their id>`), newest first:
   * from memory when the ref cache knows enough (ref-cache.ts), else read and remembered.
   */
  async incidentIdsByRef(ref: string, limit = 20): Promise<string[]> {
    let range: ReturnType<typeof refRange>;
    try {
      range = refRange(ref);
    } catch {
      return []; // not a ref we could have stored (empty, `!`, control characters): nothing has it
    }
    if (limit === 1) {
      const open = this.index.byProviderKey.get(ref);
      if (open !== undefined) return [open];
    }
    const cached = this.refs.lookup(ref, limit);
    if (cached !== null) return cached;
    if (!this.refFilter.mayHave(ref)) return [];
    const token = this.refs.mark();
    const keys = await this.subs.refs.keys({ ...range, reverse: true, limit }).all();
    const ids = keys.map(incidentIdOfRefKey);
    this.refs.loaded(ref, ids, limit, token);
    return ids;
  }

  /** The newest event applied to an incident from one provider instance, if any. */
  providerMark(incidentId: string, provider: string): Promise<ProviderMark | undefined> {
    return this.subs.providerEvents.get(providerMarkKey(incidentId, provider));
  }

  /**
   * Deletes incidents resolved before `cutoffMs` with their deliveries, timeline, refs and marks,
   * at most `max` per call; returns how many. Incident ids sort by creation time, so only ids
   * created before the cutoff are read.
   */
  async pruneResolved(cutoffMs: number, max = 1_000): Promise<number> {
    const tx = new Transaction();
    let count = 0;
    for await (const incident of this.subs.incidents.values({ lt: idAt(cutoffMs) })) {
      if (incident.state !== 'resolved' || Date.parse(incident.resolved_at ?? '') >= cutoffMs) continue;
      tx.forgetIncident(incident.id, await this.keysOf(incident));
      if (++count >= max) break;
    }
    if (count > 0) await this.commit(tx, { sync: true });
    return count;
  }

  private async keysOf(incident: Incident): Promise<ForgottenKey[]> {
    const id = incident.id;
    const [links, audit, marks, deliveries] = await Promise.all([
      this.subs.byIncident.keys(incidentDeliveriesRange(id)).all(),
      this.subs.audit.keys(auditRange(id)).all(),
      this.subs.providerEvents.keys(providerMarksRange(id)).all(),
      this.listDeliveries(id),
    ]);
    // The fingerprint's recovery goes with the incident it resolved, not with an older one.
    const recoveryMs = incident.recovery_line_at === undefined ? NaN : Date.parse(incident.recovery_line_at);
    const recovery =
      Number.isFinite(recoveryMs) && (await this.subs.recoveries.get(incident.fingerprint)) === recoveryMs
        ? [{ sublevel: 'recoveries' as const, key: incident.fingerprint }]
        : [];
    const refs = [
      incident.provider_key,
      ...Object.values(incident.holds).flatMap((h) => (h.external_id ? [`${h.type}:${h.external_id}`] : [])),
    ];
    return [
      { sublevel: 'incidents', key: id },
      // Folded in by the resolve; deleted here too so that nothing of it can outlive it.
      { sublevel: 'counts', key: id },
      ...links.map((key) => ({ sublevel: 'byIncident' as const, key })),
      ...deliveries.flatMap((d) => [
        { sublevel: 'deliveries' as const, key: d.id },
        { sublevel: 'pending' as const, key: d.id },
      ]),
      ...audit.map((key) => ({ sublevel: 'audit' as const, key })),
      ...marks.map((key) => ({ sublevel: 'providerEvents' as const, key })),
      ...recovery,
      ...refs.flatMap((ref) => {
        try {
          return [{ sublevel: 'refs' as const, key: refKey(ref, id) }];
        } catch {
          return [];
        }
      }),
    ];
  }

  /** The newest event applied from each provider instance, by instance name. */
  async providerMarks(incidentId: string): Promise<Record<string, ProviderMark>> {
    const out: Record<string, ProviderMark> = {};
    if (!this.marksFilter.mayHave(incidentId)) return out;
    for await (const [key, mark] of this.subs.providerEvents.iterator(providerMarksRange(incidentId)))
      out[providerOfMarkKey(key)] = mark;
    return out;
  }

  /** Bytes LevelDB uses for all keys (its own estimate, from the files on disk). */
  storageBytes(): Promise<number> {
    // classic-level has it; the `level` type of the database does not say so.
    const db = this.db as unknown as { approximateSize(start: string, end: string): Promise<number> };
    return db.approximateSize('', '\uffff');
  }

  private getMany(ids: string[]): Promise<Array<Incident | undefined>> {
    return ids.length === 0 ? Promise.resolve([]) : this.subs.incidents.getMany(ids);
  }

  private getManyDeliveries(ids: string[]): Promise<Array<Delivery | undefined>> {
    return ids.length === 0 ? Promise.resolve([]) : this.subs.deliveries.getMany(ids);
  }
}

/**
 * One key read on the calling thread (classic-level's `getSync`), answered as a promise. An async
 * `get` takes a snapshot on the main thread and a turn in the libuv pool, which the store's fsync'd
 * batches keep busy: under a burst of new incidents it cost 50-140 µs of main-thread time per read
 * (a quarter of the sidecar's CPU in a profile), `getSync` 3-7 µs, the key being in LevelDB's
 * memtable or block cache, or the page cache, nearly always (docs/performance.md, "Delivery path").
 */
function readNow<T>(read: () => T | undefined): Promise<T | undefined> {
  try {
    return Promise.resolve(read());
  } catch (err) {
    return Promise.reject(err as Error);
  }
}
