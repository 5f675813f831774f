// The cluster's state backend: incidents in NATS JetStream KV, shared by every replica
// (docs/architecture.md, "Cluster mode"). Opening an incident is a KV `create` (or a compare-and-set
// over a resolved one) on its provider key: one replica wins, the others learn the winner. Every
// later change is a compare-and-set on the incident record's revision, retried on conflict. A new
// delivery is published to the outbox stream before the write that records it: a crash between
// the two leaves a message whose delivery no record holds, which the outbox workers drop, never a
// recorded delivery that nobody sends.
import { createHash } from 'node:crypto';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { isConflict } from './conflict.js';
import { Claims, type Claimant } from './claims.js';
import type { KvEntry } from '@nats-io/kv';
import type { Delivery, Incident, IncidentState } from '../../domain/incident.js';
import { escalationDueOf } from '../../domain/escalation.js';
import { cloneJson } from '../../domain/json-shape.js';
import { PageCollector, type IncidentPage } from '../../domain/incident-filter.js';
import { AppError, errorMessage, StoreError } from '../../errors.js';
import { KeyedSerial } from '../../incidents/serial.js';
import { idAt } from '../../store/ids.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';
import type {
  CreateOutcome,
  Decided,
  IncidentDetail,
  IncidentFilter,
  IncidentRef,
  Mutation,
  NewAuditEntry,
  RemoteChanges,
  StateBackend,
  UpdateNeeds,
} from '../backend.js';
import type { Buckets } from './buckets.js';
import {
  applyChange,
  keyEntryOf,
  newDeliveries,
  newRecord,
  parseRecord,
  RecentRecords,
  timelineWith,
  type IncidentRecord,
  type KeyEntry,
  type StoredRecord,
} from './record.js';
import { IdIndex, KeyView, SilenceFollower } from './views.js';
import type { Silence } from '../../silences/model.js';
import type { FlapTrace } from '../../domain/flap.js';

// Deletes, never purges: a live KV watch missed most purges in our runs (nats.js 3.4 with
// nats-server 2.9.10: 3 of 150 seen), while every delete arrives; a delete marker is a few bytes.

/** How long one operation keeps trying through a NATS leader election or a reconnect. */
const UNAVAILABLE_AFTER_MS = 20_000;
const MAX_CONFLICTS = 100;
/**
 * How long a change of an incident waits for others before its write starts: one record write
 * instead of one each for a delivery's outcome and the provider's webhook confirming it (each a
 * replicated write, and a claim on a NATS cluster). A change's own deliveries (a resolve, an
 * escalation tier, a sync) go out that much later; a new incident's page goes with its open and
 * never waits here.
 */
const GATHER_MS = 10;
const DISCONNECTED_GRACE_MS = 2_000;
/** Records kept with their revisions for the next change's compare-and-set (about 2–6 KB each). */
const RECENT_RECORDS = 5_000;
/** Of those, kept parsed (about 20 KB each): the incidents changing now. */
const RECENT_PARSED = 1_000;
/** Incidents known to have won their provider key, kept for the outbox workers. */
const WINNERS_REMEMBERED = 10_000;
/**
 * A record its key does not name this long after it was created is an open that never completed
 * (an open gives up after UNAVAILABLE_AFTER_MS). Records created up to OPENS_CHECKED_BACK_MS before
 * a replica started are checked too (a replica restarted after a crash finds its own leftovers;
 * further back, the check would read every incident resolved since, at once).
 */
const OPEN_SETTLED_MS = 60_000;
const OPENS_CHECKED_BACK_MS = 10 * 60_000;
const OPENS_CHECK_EVERY_MS = 30_000;
/** How often a start still replaying the buckets says so. */
const REPLAY_REPORT_EVERY_MS = 10_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const encode = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value));

/** An outbox worker waiting for an open (`whenOpened`). */
interface OpenWaiter {
  key: string | undefined;
  settle: (opened: boolean) => void;
  timer: NodeJS.Timeout;
}

export class JetStreamState implements StateBackend {
  readonly kind = 'jetstream';
  private readonly serial = new KeyedSerial();
  private readonly js: JetStreamClient;
  readonly claims: Claims;
  readonly keys: KeyView;
  private readonly ids: IdIndex;
  private readonly recent = new RecentRecords(RECENT_RECORDS, RECENT_PARSED);
  private readonly winners = new Set<string>();
  /** Outbox workers waiting for an incident's open to complete (`whenOpened`), by incident id. */
  private readonly openWaiters = new Map<string, OpenWaiter[]>();
  /** The incident ids of those waiters, by the provider key each open is for. */
  private readonly openWaitersByKey = new Map<string, Set<string>>();
  /** Changes of an incident waiting for the one being written (the next batch), by id. */
  private readonly waiting = new Map<string, Waiting[]>();

  constructor(
    readonly buckets: Buckets,
    private readonly logger: Logger,
    private readonly metrics: Pick<Metrics, 'stateRecordsInvalid' | 'claimsLost'>,
  ) {
    this.js = jetstream(buckets.nc);
    this.claims = new Claims(buckets.claims, buckets.clustered, () => this.metrics.claimsLost.inc());
    const invalid = (): void => this.metrics.stateRecordsInvalid.inc();
    this.keys = new KeyView(buckets.keys, logger, invalid);
    // An incident a key entry names has won its key: remembered even before a worker asks, which
    // it may do a moment after the watch brought the entry.
    this.keys.listen({
      changed: (entry) => {
        this.markWinner(entry.id);
        // Another incident open on the key: the opens waited for there lost the race (or will).
        if (entry.state !== 'resolved')
          for (const id of this.openWaitersByKey.get(entry.providerKey) ?? [])
            if (id !== entry.id) this.settleOpen(id, false);
      },
    });
    this.ids = new IdIndex(buckets.incidents, logger, (id) => {
      if (id >= idAt(Date.now() - OPENS_CHECKED_BACK_MS)) this.unsettled.push(id);
    });
  }

  /** Follows the shared buckets; resolves once what they hold has been replayed. */
  async start(): Promise<void> {
    this.watchConnection();
    await Promise.all([this.keys.start(), this.ids.start()]);
    // A replay that takes long says how far it got, so a slow start is not a silent one.
    const started = Date.now();
    const progress = setInterval(
      () =>
        this.logger.warn(
          {
            event: 'cluster_replay_slow',
            seconds: Math.round((Date.now() - started) / 1000),
            keys: this.keys.applied,
            incidents: this.ids.applied,
          },
          `cluster mode: still replaying the shared state (${this.keys.applied} keys, ${this.ids.applied} incidents so far)`,
        ),
      REPLAY_REPORT_EVERY_MS,
    );
    await Promise.all([this.keys.ready, this.ids.ready]).finally(() => clearInterval(progress));
    this.opensChecker = setInterval(() => void this.checkOpens(), OPENS_CHECK_EVERY_MS);
    this.opensChecker.unref();
  }

  /** Incident ids new to this replica (replayed at start or written since), oldest first. */
  private unsettled: string[] = [];
  private opensChecker: NodeJS.Timeout | null = null;

  /**
   * Deletes the records of opens that never completed, once they are OPEN_SETTLED_MS old: an open
   * writes its record, its outbox messages and its decision at once, then its key, so one that
   * failed or died after the record landed leaves a record no key names. With its outbox messages
   * the outbox workers find it (`dropUnopened`); without them (they had not landed) only this
   * finds it. Every replica checks the ids it sees appear; a record another replica already
   * dropped is gone from the index. Returns how many it dropped.
   */
  async checkOpens(nowMs = Date.now()): Promise<number> {
    const settled = idAt(nowMs - OPEN_SETTLED_MS);
    const due = this.unsettled.filter((id) => id < settled);
    if (due.length === 0) return 0;
    this.unsettled = this.unsettled.filter((id) => id >= settled);
    let dropped = 0;
    for (const id of due) {
      if (this.winners.has(id) || !this.ids.has(id)) continue;
      try {
        const read = await this.read(id, false);
        if (read === null || read.record.incident.state === 'resolved') continue;
        const key = read.record.incident.provider_key;
        if (this.keys.entries.get(key)?.id === id) continue;
        const { entry } = await this.keyNow(key);
        if (entry?.id === id) continue;
        await this.dropUnopened(id, read);
        dropped++;
      } catch (err) {
        if (isConflict(err)) continue; // another replica dropped it (or the record changed) meanwhile
        this.logger.warn(
          { event: 'open_check_failed', incident: id, err },
          `could not check incident ${id}'s open`,
        );
      }
    }
    return dropped;
  }

  /** Other replicas' opens and resolves, for the incident core's local view. */
  follow(listener: RemoteChanges): void {
    this.keys.listen(listener);
  }

  private connected = true;
  private disconnectedAt = 0;

  /** Whether NATS is reachable now (readiness). */
  reachable(): boolean {
    return this.connected && !this.buckets.nc.isClosed();
  }

  /** Follows the connection's status for readiness. */
  private watchConnection(): void {
    void (async () => {
      for await (const s of this.buckets.nc.status()) {
        if ((s.type === 'disconnect' || s.type === 'reconnecting') && this.connected) {
          this.connected = false;
          this.disconnectedAt = Date.now();
        }
        if (s.type === 'reconnect') this.connected = true;
      }
    })();
  }

  async openIncidents(): Promise<IncidentRef[]> {
    return [...this.keys.entries.values()].filter((e) => e.state !== 'resolved');
  }

  async flapTraces(): Promise<Array<[string, FlapTrace]>> {
    const traces: Array<[string, FlapTrace]> = [];
    for (const e of this.keys.entries.values()) {
      if (e.state !== 'resolved' || e.flap === undefined || e.flap.resolvedAtMs === null) continue;
      traces.push([e.fingerprint, { resolvedAtMs: e.flap.resolvedAtMs, retriggers: e.flap.retriggers }]);
    }
    return traces;
  }

  async recoveries(): Promise<Array<[string, number]>> {
    const out: Array<[string, number]> = [];
    for (const e of this.keys.entries.values())
      if (e.state === 'resolved' && e.recoveryLineMs !== undefined)
        out.push([e.fingerprint, e.recoveryLineMs]);
    return out;
  }

  create(
    incident: Incident,
    deliveries: readonly Delivery[],
    audit: readonly NewAuditEntry[],
    after?: Promise<unknown>,
  ): Promise<CreateOutcome> {
    return this.serial.run(incident.id, async () => {
      await after?.catch(() => undefined);
      // Kept across retries: an attempt that timed out may have written the record all the same.
      const progress = { written: false, published: [] as number[] };
      const claimant = this.claims.claimant(`k.${incident.provider_key}`);
      return this.available('open an incident', () =>
        this.createOnce(incident, deliveries, audit, progress, claimant),
      );
    });
  }

  private async createOnce(
    incident: Incident,
    deliveries: readonly Delivery[],
    audit: readonly NewAuditEntry[],
    progress: { written: boolean; published: number[] },
    claimant: Claimant,
  ): Promise<CreateOutcome> {
    const key = incident.provider_key;
    for (let conflicts = 0, round = 0; conflicts < MAX_CONFLICTS; round++) {
      // First as this replica's view of the key bucket has it (no round trip); a view behind the
      // bucket loses its claim or fails the compare-and-set below, and the next round reads the bucket.
      let seen = round === 0 ? this.keys.seen(key) : await this.keyNow(key);
      // A view showing another open incident may not have seen its resolve yet (this replica's
      // incident core learns its own resolves first): only the bucket says the key is taken.
      if (
        round === 0 &&
        seen.entry !== null &&
        seen.entry.state !== 'resolved' &&
        seen.entry.id !== incident.id
      )
        seen = await this.keyNow(key);
      const { entry: current, revision } = seen;
      if (current !== null && current.state !== 'resolved' && current.id !== incident.id)
        return progress.written
          ? this.lost(incident.id, current, progress.published)
          : { created: false, existing: current };
      // Over a resolved incident or a deleted key: this revision's claim first (claims.ts).
      if (revision !== 0 && !(await claimant.claim(revision))) {
        await claimant.pause();
        continue;
      }
      progress.written = true;
      const { record, decision } = newRecord(incident, deliveries, audit, current?.id ?? null);
      // The same deliveries again on a later round: the stream's dedup gives back the same messages.
      // Outbox messages, decision and record are written at once: none of them is anyone's until
      // the key names the incident below, and a worker holds a message until then (`whenOpened`).
      // One round trip less before the page than writing them in turn (docs/architecture.md).
      const json = JSON.stringify(record);
      const [, , stored] = await Promise.all([
        this.publish(deliveries).then((sequences) => (progress.published = sequences)),
        decision === undefined ? null : this.buckets.decisions.put(incident.id, encode(decision)),
        this.buckets.incidents.put(incident.id, encoder.encode(json)),
      ]);
      this.recent.set(incident.id, json, stored);
      try {
        const entry = encode(keyEntryOf(incident));
        // A key never written is created (exclusive on a cluster too); anything else is compared
        // and set on its revision, a delete marker's included.
        await this.buckets.keys.put(key, entry, { previousSeq: revision });
        this.markWinner(incident.id);
        return { created: true };
      } catch (err) {
        if (!isConflict(err)) throw err;
        conflicts++;
      }
    }
    throw new StoreError(`incident ${incident.id}: too many concurrent changes of key ${key}`);
  }

  /** A provider key's latest incident as the bucket holds it now, and its revision (a delete's too; 0: never written). */
  private async keyNow(key: string): Promise<{ entry: KeyEntry | null; revision: number }> {
    const marker = await this.buckets.keys.get(key);
    if (marker === null) return { entry: null, revision: 0 };
    return { entry: marker.operation === 'PUT' ? this.keyEntry(marker) : null, revision: marker.revision };
  }

  /** Whether this incident is known here to have won its provider key (no round trip). */
  knownWinner(id: string, key: string): boolean {
    return this.winners.has(id) || this.keys.entries.get(key)?.id === id;
  }

  markWinner(id: string): void {
    this.winners.add(id);
    if (this.winners.size > WINNERS_REMEMBERED)
      this.winners.delete(this.winners.values().next().value as string);
    this.settleOpen(id, true);
  }

  /**
   * Whether the incident's open completed, as this replica learns it: true once its key names it
   * (this replica's own open wrote the key; another replica's came through the key view's watch),
   * false once another incident is open on `key` (this open lost the race to open, or will), false
   * after `ms` otherwise. An open publishes its deliveries with its record, before its key, and an
   * outbox worker is often handed the message before the record and the key land: it waits here
   * instead of giving the message back for a fixed while (docs/architecture.md, "Cluster mode").
   * `key` (the delivery's provider key) is absent from messages published before it was added to
   * them: those wait by id alone.
   */
  whenOpened(id: string, key: string | undefined, ms: number): Promise<boolean> {
    const known = this.openedAs(id, key);
    if (known !== null) return Promise.resolve(known);
    return new Promise((resolve) => {
      const waiter: OpenWaiter = {
        key,
        settle: resolve,
        timer: setTimeout(() => this.dropWaiter(id, waiter, false), ms),
      };
      const list = this.openWaiters.get(id);
      if (list === undefined) this.openWaiters.set(id, [waiter]);
      else list.push(waiter);
      if (key !== undefined) {
        const ids = this.openWaitersByKey.get(key);
        if (ids === undefined) this.openWaitersByKey.set(key, new Set([id]));
        else ids.add(id);
      }
    });
  }

  /** true: the key names the incident; false: another incident is open on the key; null: not known yet. */
  private openedAs(id: string, key: string | undefined): boolean | null {
    if (this.winners.has(id)) return true;
    const entry = key === undefined ? undefined : this.keys.entries.get(key);
    if (entry === undefined) return null;
    if (entry.id === id) return true;
    return entry.state === 'resolved' ? null : false;
  }

  private settleOpen(id: string, outcome: boolean): void {
    for (const w of [...(this.openWaiters.get(id) ?? [])]) this.dropWaiter(id, w, outcome);
  }

  private dropWaiter(id: string, waiter: OpenWaiter, outcome: boolean): void {
    clearTimeout(waiter.timer);
    const left = (this.openWaiters.get(id) ?? []).filter((w) => w !== waiter);
    if (left.length > 0) this.openWaiters.set(id, left);
    else {
      this.openWaiters.delete(id);
      if (waiter.key !== undefined) {
        const ids = this.openWaitersByKey.get(waiter.key);
        ids?.delete(id);
        if (ids?.size === 0) this.openWaitersByKey.delete(waiter.key);
      }
    }
    waiter.settle(outcome);
  }

  /**
   * Another replica's incident holds the key: ours is withdrawn, with the outbox messages of its
   * deliveries (were they left, the outbox workers would drop them once old enough to be orphans).
   */
  private async lost(id: string, winner: KeyEntry, published: readonly number[]): Promise<CreateOutcome> {
    this.recent.delete(id);
    const { incidents, decisions } = this.buckets;
    await Promise.all([incidents.delete(id), decisions.delete(id), this.deleteMessages(published)]).catch(
      (err: unknown) =>
        this.logger.warn(
          { event: 'lost_race_cleanup_failed', incident: id, err },
          'could not clean up a lost open',
        ),
    );
    return { created: false, existing: winner };
  }

  /**
   * An open that never completed, as the outbox worker finds it (outbox-worker.ts): its replica died
   * between the writes of `create` (after the decision, or after the record and before the key), or
   * lost the race to open and could not clean up. Such a record is `triggered` and in no key's chain:
   * it would be listed as open for ever, and retention (resolved incidents only) would never take it.
   * Given the record as read, it goes unless changed since; the decision goes either way.
   */
  async dropUnopened(id: string, read: StoredRecord | null): Promise<void> {
    if (read !== null) {
      // A key entry that does not parse names nobody the worker could see: not a proof of anything.
      const marker = await this.buckets.keys.get(read.record.incident.provider_key);
      if (marker?.operation === 'PUT' && this.keyEntry(marker) === null) return;
      this.recent.delete(id);
      await this.buckets.incidents.delete(id, { previousSeq: read.revision });
    }
    await this.buckets.decisions.delete(id);
    this.logger.warn(
      { event: 'unopened_dropped', incident: id, record: read !== null },
      `incident ${id}: its open never completed; ${read !== null ? 'its record and ' : ''}its decision deleted`,
    );
  }

  /**
   * The record holds deliveries, marks and webhook ids: `needs` reads nothing more here, but a change
   * that does not ask for the deliveries gets none, as from LevelDB (no copy made). Changes
   * of one incident asked for within `GATHER_MS` of each other, or while an earlier one is being
   * written, wait together, and are then decided one after the other on one read and written with
   * one compare-and-set (one claim on a NATS cluster): a delivery's outcome, its sibling's and the
   * provider's webhook often come within milliseconds (docs/performance.md, "Cluster mode").
   */
  update<T>(id: string, needs: UpdateNeeds, mutate: Mutation<T>): Promise<T | null> {
    return new Promise<T | null>((resolve, reject) => {
      let batch = this.waiting.get(id);
      if (batch === undefined) {
        const fresh: Waiting[] = [];
        this.waiting.set(id, fresh);
        batch = fresh;
        const write = (): void =>
          void this.serial
            .run(id, () => {
              this.waiting.delete(id); // later changes form the next batch
              const claimant = this.claims.claimant(`i.${id}`);
              return this.available('change an incident', () => this.updateOnce(id, fresh, claimant));
            })
            .catch((err: unknown) => {
              for (const w of fresh) w.reject(err);
            });
        setTimeout(write, GATHER_MS);
      }
      const deliveries = needs.deliveries === true;
      batch.push({ mutate, deliveries, resolve: resolve as (result: unknown) => void, reject });
    });
  }

  private async updateOnce(id: string, batch: readonly Waiting[], claimant: Claimant): Promise<void> {
    let recent = this.recent.get(id);
    for (let conflicts = 0; conflicts < MAX_CONFLICTS;) {
      // The record this replica last wrote or read, if any: a stale one loses its claim or fails
      // the compare-and-set.
      const read = recent ?? (await this.read(id));
      const fromRecent = recent !== undefined;
      recent = undefined;
      if (read === null) {
        for (const w of batch) w.resolve(null);
        return;
      }
      const { record, revision } = read;
      const decided = decideAll(record, batch);
      if (decided.next === record) {
        // Nothing to write: no compare-and-set would tell a stale record, so the bucket's decides.
        if (fromRecent) continue;
        await this.repairKey(record.incident);
        settle(batch, decided.outcomes);
        return;
      }
      if (!(await claimant.claim(revision))) {
        this.recent.delete(id);
        await claimant.pause();
        continue;
      }
      const { next, published, refs } = decided;
      await this.announceEarlierDue(record.incident, next.incident);
      const messages = await this.publish(published);
      try {
        const json = JSON.stringify(next);
        this.recent.set(id, json, await this.buckets.incidents.update(id, encoder.encode(json), revision));
      } catch (err) {
        this.recent.delete(id);
        if (!isConflict(err)) throw err;
        // Another replica changed it first (an escalation tier both fired): this attempt's
        // deliveries are no record's, so they are withdrawn (the outbox workers would drop them).
        await this.withdraw(id, messages);
        conflicts++;
        continue;
      }
      await this.afterWrite(record.incident, next.incident, refs);
      settle(batch, decided.outcomes);
      return;
    }
    throw new StoreError(`incident ${id}: too many concurrent changes`);
  }

  /** Deletes the outbox messages of deliveries that no record holds (best effort: the workers drop them). */
  private async withdraw(id: string, published: readonly number[]): Promise<void> {
    await this.deleteMessages(published).catch((err: unknown) =>
      this.logger.warn(
        { event: 'conflict_cleanup_failed', incident: id, err },
        'could not withdraw deliveries',
      ),
    );
  }

  /**
   * The key bucket follows the incident's state and its escalation timer (every replica schedules
   * timers from it); refs make it findable by provider ids.
   */
  private async afterWrite(before: Incident, after: Incident, refs: readonly string[]): Promise<void> {
    const tasks: Promise<unknown>[] = refs.map((ref) =>
      this.buckets.refs.put(refKeyOf(ref), encode({ id: after.id })),
    );
    if (
      before.state !== after.state ||
      escalationDueOf(before) !== escalationDueOf(after) ||
      this.keyTrails(after)
    )
      tasks.push(this.setKeyState(after));
    await Promise.all(tasks);
  }

  /** Whether this replica's view of the incident's key entry differs from the incident's state or timer. */
  private keyTrails(incident: Incident): boolean {
    const seen = this.keys.entries.get(incident.provider_key);
    if (seen === undefined || seen.id !== incident.id) return false;
    return seen.state !== incident.state || seen.escalationDueMs !== (escalationDueOf(incident) ?? undefined);
  }

  /**
   * A key entry that trails its record is rewritten. A write whose record compare-and-set succeeded
   * but whose key rewrite failed (`afterWrite` threw: a claim not won in time, NATS lost) fails its
   * caller, which tries again (a JetStream input line is redelivered); the record then needs no
   * change, and without this the key entry, which every replica's view and counts follow, would keep
   * the old state for good. The view may trail the bucket by a watch message, and another replica
   * may write a newer state meanwhile: a key entry names its incident's revision, and an older one
   * never replaces a newer (`setKeyState`).
   */
  private async repairKey(incident: Incident): Promise<void> {
    if (!this.keyTrails(incident)) return;
    const fresh = await this.read(incident.id, false);
    if (fresh !== null) await this.setKeyState(fresh.record.incident);
  }

  /**
   * A change that moves the incident's escalation timer earlier (an un-acknowledgement, a reopen:
   * tier 1 due now) puts the earlier due time in the key entry *before* its compare-and-set, so a
   * replica killed between that write and `afterWrite` never leaves the new timer invisible to the
   * others (docs/architecture.md, "Escalation timers"). An entry earlier than the record costs a
   * read when it falls due: the replica finds the record not due and schedules from it. Later or
   * removed timers are written after the compare-and-set only, so no entry is ever later than its
   * record.
   */
  private async announceEarlierDue(before: Incident, after: Incident): Promise<void> {
    const was = escalationDueOf(before);
    const due = escalationDueOf(after);
    if (due === null || (was !== null && due >= was)) return;
    await this.setKeyState(before, { ...keyEntryOf(before), escalationDueMs: due });
  }

  /**
   * The key entry rewritten for `incident`, unless a newer incident holds the key, the entry already
   * says the same, or it was written from a later revision of the incident (a writer that read the
   * record before another's change must not undo that change's state).
   */
  private async setKeyState(incident: Incident, entry: KeyEntry = keyEntryOf(incident)): Promise<void> {
    const key = incident.provider_key;
    const claimant = this.claims.claimant(`k.${key}`);
    for (let conflicts = 0; conflicts < MAX_CONFLICTS;) {
      const marker = await this.buckets.keys.get(key);
      if (marker?.operation !== 'PUT') return;
      const current = this.keyEntry(marker);
      if (current?.id !== incident.id) return; // a newer incident holds it
      if (sameKeyState(current, entry)) return; // a view that trailed: nothing to rewrite
      if ((current.rev ?? 0) > (entry.rev ?? 0)) return; // written from a later change
      if (!(await claimant.claim(marker.revision))) {
        await claimant.pause();
        continue;
      }
      try {
        await this.buckets.keys.update(key, encode(entry), marker.revision);
        return;
      } catch (err) {
        if (!isConflict(err)) throw err;
        conflicts++;
      }
    }
  }

  /**
   * Outbox messages withdrawn, deleted one by one by sequence. Never a purge filtered by subject:
   * with those, replicas that lost a race to fire an escalation tier took the winner's trigger with
   * their own on nats-server 2.9 (three replicas on one server lost a third of their second tiers;
   * docs/architecture.md, "Delivery").
   */
  private async deleteMessages(sequences: readonly number[]): Promise<void> {
    const { jsm, outbox } = this.buckets;
    await Promise.all(sequences.map((seq) => jsm.streams.deleteMessage(outbox.stream, seq, false)));
  }

  /**
   * Publishes new deliveries to the outbox, each once (its id is the stream's dedup id); the
   * messages' sequences, to withdraw them.
   */
  private async publish(deliveries: readonly Delivery[]): Promise<number[]> {
    const { outbox } = this.buckets;
    const acks = await Promise.all(
      deliveries.map((d) =>
        this.js.publish(
          outbox.subject(d.id),
          encode({ incident: d.incident_id, delivery: d.id, key: d.provider_key }),
          {
            msgID: d.id,
            retries: 8,
          },
        ),
      ),
    );
    return acks.map((ack) => ack.seq);
  }

  async addOccurrences(id: string, count: number, lastSeenMs: number): Promise<void> {
    await this.update(id, {}, ({ incident }) => {
      incident.occurrences += count;
      if (lastSeenMs > Date.parse(incident.last_seen))
        incident.last_seen = new Date(lastSeenMs).toISOString();
      if (incident.storm) incident.storm.folded += count;
      return { change: { incident, deliveries: [], audit: [], durable: false }, result: undefined };
    });
  }

  /**
   * The record this replica last wrote or read, or the bucket's when there is none here: for a
   * decision another replica's change since cannot make wrong (src/state/jetstream/outbox-worker.ts
   * says when).
   */
  async readRecent(id: string): Promise<StoredRecord | null> {
    return this.recent.get(id) ?? (await this.read(id));
  }

  /**
   * The record and its revision, or null when there is none (or it does not parse: logged,
   * counted). Kept for the next change, and then frozen and shared (`RecentRecords`), unless `keep`
   * is false (what callers outside this backend get, since they may change it).
   */
  async read(id: string, keep = true): Promise<StoredRecord | null> {
    const entry = await this.buckets.incidents.get(id);
    if (entry === null || entry.operation !== 'PUT') {
      this.recent.delete(id);
      return null;
    }
    const json = decoder.decode(entry.value);
    const parsed = parseRecord(json);
    if (!parsed.ok) {
      this.metrics.stateRecordsInvalid.inc();
      this.logger.error(
        { event: 'state_record_invalid', bucket: 'incidents', key: id, reason: parsed.reason },
        `incident record ${id} does not parse (${parsed.reason}); ignored`,
      );
      this.recent.delete(id);
      return null;
    }
    if (keep) return this.recent.setParsed(id, json, entry.revision, parsed.record);
    return { record: parsed.record, revision: entry.revision };
  }

  /** The id of a provider key's latest incident, read now (not from the view). */
  async latestOf(key: string): Promise<string | null> {
    const marker = await this.buckets.keys.get(key);
    return marker?.operation === 'PUT' ? (this.keyEntry(marker)?.id ?? null) : null;
  }

  /**
   * The incident as the bucket has it now. The record read is kept (parsed) for the change that
   * usually follows: a webhook reads its incident to match it, then changes it, and that change
   * starts from this read instead of parsing the record again. The caller gets its own copy.
   */
  async get(id: string): Promise<Incident | undefined> {
    const read = await this.available('read an incident', () => this.read(id));
    return read === null ? undefined : cloneJson(read.record.incident);
  }

  async detail(id: string): Promise<IncidentDetail | null> {
    const read = await this.available('read an incident', () => this.read(id, false));
    if (read === null) return null;
    const { record } = read;
    return {
      incident: record.incident,
      timeline: record.decisionApart ? timelineWith(record, await this.decision(id)) : record.audit,
      deliveries: record.deliveries,
    };
  }

  /** The decision that opened an incident, kept apart from its record (undefined: not found). */
  private async decision(id: string): Promise<unknown> {
    const entry = await this.available('read a decision', () => this.buckets.decisions.get(id));
    if (entry?.operation !== 'PUT') return undefined;
    try {
      return entry.json<unknown>();
    } catch {
      this.metrics.stateRecordsInvalid.inc();
      this.logger.error(
        { event: 'state_record_invalid', bucket: 'decisions', key: id },
        `decision ${id} does not parse`,
      );
      return undefined;
    }
  }

  async list(filter: IncidentFilter): Promise<IncidentPage> {
    const limit = filter.limit ?? 100;
    const page = new PageCollector(filter, limit);
    const candidates =
      filter.state === 'triggered' || filter.state === 'acknowledged'
        ? this.openIds(filter)
        : this.ids.newestFirst(filter.before);
    for (let batch = take(candidates, limit); batch.length > 0; batch = take(candidates, limit)) {
      const incidents = await Promise.all(batch.map((id) => this.get(id)));
      for (const i of incidents) if (i !== undefined && page.add(i)) return page.page();
    }
    return page.page();
  }

  /** Open incidents of a state from the key view, newest first. */
  private *openIds(filter: IncidentFilter): Generator<string> {
    const ids = [...this.keys.entries.values()]
      .filter(
        (e) =>
          e.state === filter.state &&
          (filter.service === undefined || e.service === filter.service) &&
          (filter.team === undefined || e.team === filter.team) &&
          (filter.before === undefined || e.id < filter.before),
      )
      .map((e) => e.id)
      .sort()
      .reverse();
    yield* ids;
  }

  async findByRef(ref: string, limit: number, fresh = false): Promise<string[]> {
    if (/^ir-[0-9a-f]{40}$/.test(ref)) return this.chain(ref, limit, fresh);
    const entry = await this.buckets.refs.get(refKeyOf(ref)).catch(() => null);
    if (entry?.operation !== 'PUT') return [];
    const { id } = entry.json<{ id: string }>();
    return typeof id === 'string' ? [id] : [];
  }

  /** The incidents of a provider key, newest first: the latest, then each one's predecessor. */
  private async chain(key: string, limit: number, fresh: boolean): Promise<string[]> {
    // The newest alone (what a webhook asks first: src/webhooks/match.ts) comes from the key view
    // this replica follows anyway, as its dedup does: no round trip per webhook (docs/performance.md,
    // "Delivery path"). The view trails the bucket by a watch message: an acknowledgement comes
    // long after, but the event that created the provider's incident can reach this replica
    // before the key's change does (the replica that sent the trigger waited for it, not this
    // one), so it asks for the bucket (`fresh`).
    const viewed = limit === 1 && !fresh ? this.keys.entries.get(key)?.id : undefined;
    if (viewed !== undefined) return [viewed];
    const out: string[] = [];
    const marker = await this.buckets.keys.get(key);
    let id: string | null = marker?.operation === 'PUT' ? (this.keyEntry(marker)?.id ?? null) : null;
    while (id !== null && out.length < limit && !out.includes(id)) {
      out.push(id);
      id = (await this.read(id, false))?.record.previous ?? null;
    }
    return out;
  }

  async countByState(): Promise<Record<IncidentState, number>> {
    const open = this.keys.counts();
    return { ...open, resolved: Math.max(0, this.ids.size - open.triggered - open.acknowledged) };
  }

  async markWebhook(id: string): Promise<boolean> {
    try {
      await this.buckets.webhooks.create(webhookKeyOf(id), encode({ at: Date.now() }));
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  async seenWebhook(id: string): Promise<boolean> {
    return (await this.buckets.webhooks.get(webhookKeyOf(id)))?.operation === 'PUT';
  }

  async getBreaker(name: string): Promise<unknown | undefined> {
    const entry = await this.buckets.breakers.get(name).catch(() => null);
    return entry?.operation === 'PUT' ? entry.json<unknown>() : undefined;
  }

  async putBreaker(name: string, state: unknown): Promise<void> {
    await this.buckets.breakers.put(name, encode(state));
  }

  private silenceFollower: SilenceFollower | null = null;

  async loadSilences(): Promise<Silence[]> {
    const found: Silence[] = [];
    for await (const key of await this.buckets.silences.keys()) {
      const entry = await this.buckets.silences.get(key);
      if (entry?.operation === 'PUT') found.push(entry.json<Silence>());
    }
    return found;
  }

  /**
   * A new silence is a create; a change is a compare-and-set on the revision this replica last saw
   * of it, so two replicas changing one silence at the same moment cannot both win: the later
   * answers 409 and its caller reads the silence again.
   */
  async putSilence(silence: Silence): Promise<void> {
    const kv = this.buckets.silences;
    const seen = this.silenceFollower?.revisions.get(silence.id);
    let revision: number;
    try {
      if (silence.version === 1) revision = await kv.create(silence.id, encode(silence));
      else if (seen === undefined) revision = await kv.put(silence.id, encode(silence));
      else revision = await kv.update(silence.id, encode(silence), seen);
    } catch (err) {
      if (!isConflict(err)) throw err;
      throw new AppError(
        'conflict',
        `silence ${silence.id} was changed elsewhere at the same moment; read it again and retry`,
        { cause: err },
      );
    }
    this.silenceFollower?.saw(silence.id, revision);
  }

  /** Deleted, never purged (see the top of this file); every replica's view drops it. */
  async forgetSilence(id: string): Promise<void> {
    await this.buckets.silences.delete(id);
  }

  /** Every replica's silences: the stored ones replayed before this resolves, then live changes. */
  async followSilences(listener: (silence: Silence | string) => void): Promise<void> {
    this.silenceFollower?.stop();
    const invalid = (): void => this.metrics.stateRecordsInvalid.inc();
    this.silenceFollower = new SilenceFollower(this.buckets.silences, this.logger, invalid, listener);
    await this.silenceFollower.start();
    await this.silenceFollower.ready;
  }

  /** Retention: resolved incidents created and resolved before the cutoff go, with their refs. */
  async prune(cutoffs: { resolvedBefore: number; webhooksBefore: number }): Promise<number> {
    let deleted = 0;
    for (const id of [...this.ids.olderThan(idAt(cutoffs.resolvedBefore))]) {
      const read = await this.read(id, false);
      const incident = read?.record.incident;
      if (
        !incident ||
        incident.state !== 'resolved' ||
        Date.parse(incident.resolved_at ?? '') >= cutoffs.resolvedBefore
      )
        continue;
      await this.forget(incident);
      deleted++;
    }
    return deleted; // webhook marks expire with their bucket's TTL
  }

  private async forget(incident: Incident): Promise<void> {
    const marker = await this.buckets.keys.get(incident.provider_key);
    if (marker?.operation === 'PUT' && this.keyEntry(marker)?.id === incident.id)
      await this.buckets.keys.delete(incident.provider_key).catch(() => undefined);
    for (const h of Object.values(incident.holds))
      if (h.external_id)
        await this.buckets.refs.delete(refKeyOf(`${h.type}:${h.external_id}`)).catch(() => undefined);
    this.recent.delete(incident.id);
    await this.buckets.decisions.delete(incident.id).catch(() => undefined);
    await this.buckets.incidents.delete(incident.id);
  }

  async storageBytes(): Promise<number> {
    const { keys, incidents, decisions, refs, webhooks, breakers, members, rates, silences } = this.buckets;
    const sizes = await Promise.all(
      [keys, incidents, decisions, refs, webhooks, breakers, members, rates, silences].map((kv) =>
        kv.status().then((s) => s.size),
      ),
    );
    const outbox = await this.buckets.jsm.streams.info(this.buckets.outbox.stream);
    return sizes.reduce((a, b) => a + b, 0) + outbox.state.bytes;
  }

  idle(): Promise<void> {
    return this.serial.idle();
  }

  shed(): void {
    this.recent.shed();
  }

  async close(): Promise<void> {
    if (this.opensChecker !== null) clearInterval(this.opensChecker);
    await this.serial.idle();
    this.keys.stop();
    this.ids.stop();
    this.silenceFollower?.stop();
    await this.buckets.nc.drain().catch(() => undefined);
  }

  private keyEntry(entry: KvEntry): KeyEntry | null {
    try {
      return entry.json<KeyEntry>();
    } catch {
      this.metrics.stateRecordsInvalid.inc();
      this.logger.error(
        { event: 'state_record_invalid', bucket: 'keys', key: entry.key },
        `key ${entry.key} does not parse`,
      );
      return null;
    }
  }

  /**
   * Runs `op`, riding out a NATS leader election or reconnect (no responders, timeouts) for up to
   * 20 s; past that, the state is unreachable: 503 over HTTP, a nak for JetStream input.
   */
  private async available<T>(what: string, op: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + UNAVAILABLE_AFTER_MS;
    for (let wait = 100; ; wait = Math.min(wait * 2, 2_000)) {
      // Disconnected for a while: answer now (503) rather than hold the caller for a reconnect.
      if (!this.connected && Date.now() - this.disconnectedAt > DISCONNECTED_GRACE_MS)
        throw this.unreachable(what, new Error('not connected to NATS'));
      try {
        return await op();
      } catch (err) {
        if (err instanceof StoreError || isConflict(err)) throw err;
        if (this.buckets.nc.isClosed() || Date.now() + wait > deadline) throw this.unreachable(what, err);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  private unreachable(what: string, cause: unknown): AppError {
    const message = `cannot ${what}: the cluster's state in NATS JetStream is unreachable (${errorMessage(cause)})`;
    return new AppError('not_ready', message, { cause });
  }
}

/** One change asked of `update`, waiting for its batch. */
interface Waiting {
  mutate: Mutation<unknown>;
  /** Whether it reads the deliveries (`UpdateNeeds`): the others get none, as from LevelDB. */
  deliveries: boolean;
  resolve(result: unknown): void;
  reject(err: unknown): void;
}

type Outcome = { ok: true; result: unknown } | { ok: false; err: unknown };

/**
 * Each waiting change decided in order, each seeing the record as the ones before it left it: the
 * record to write (`record` itself when none changed anything), the deliveries to publish, the
 * refs to index, and what to tell each caller (a mutation that throws fails its caller alone).
 */
function decideAll(
  record: IncidentRecord,
  batch: readonly Waiting[],
): { next: IncidentRecord; published: Delivery[]; refs: string[]; outcomes: Outcome[] } {
  let next = record;
  const published: Delivery[] = [];
  const refs: string[] = [];
  const outcomes: Outcome[] = [];
  for (const w of batch) {
    const current = next;
    let decided: Decided<unknown>;
    try {
      decided = w.mutate({
        // The caller's own copies (records are JSON: a walk, 5× cheaper than structuredClone).
        incident: cloneJson(current.incident),
        deliveries: w.deliveries ? cloneJson(current.deliveries) : [],
        marks: current.marks,
        seen: (webhookId) => current.webhooks.includes(webhookId),
      });
    } catch (err) {
      outcomes.push({ ok: false, err });
      continue;
    }
    outcomes.push({ ok: true, result: decided.result });
    const { change } = decided;
    if (change === null) continue;
    published.push(...newDeliveries(current, change));
    refs.push(...(change.refs ?? []));
    next = applyChange(current, change);
  }
  return { next, published, refs, outcomes };
}

function settle(batch: readonly Waiting[], outcomes: readonly Outcome[]): void {
  batch.forEach((w, i) => {
    const o = outcomes[i] as Outcome;
    if (o.ok) w.resolve(o.result);
    else w.reject(o.err);
  });
}

/** Whether two key entries of one incident agree on what the views follow: state, timer, recovery. */
function sameKeyState(a: KeyEntry, b: KeyEntry): boolean {
  return (
    a.state === b.state && a.escalationDueMs === b.escalationDueMs && a.recoveryLineMs === b.recoveryLineMs
  );
}

/** A provider's own id (`<type>:<id>`) as a KV key: letters, digits and `_-.` only. */
export function refKeyOf(ref: string): string {
  return `r.${Buffer.from(ref).toString('base64url')}`;
}

function webhookKeyOf(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

function take(ids: Iterator<string>, n: number): string[] {
  const out: string[] = [];
  while (out.length < n) {
    const r = ids.next();
    if (r.done === true) break;
    out.push(r.value);
  }
  return out;
}
