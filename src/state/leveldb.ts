// The embedded state backend: one LevelDB directory in one process (src/store/, key layout in
// src/store/layout.ts). Changes of one incident are serialised by a per-incident queue in memory
// and each is one atomic LevelDB batch; recent incidents are cached. The outbox is this process's
// dispatcher, fed from `pendingDeliveries` at start (docs/architecture.md, "State backends").
import type { Delivery, Incident, IncidentState } from '../domain/incident.js';
import { KeyedSerial } from '../incidents/serial.js';
import { Store } from '../store/index.js';
import type { Clock } from '../domain/clock.js';
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

const CACHE_LIMIT = 5_000;

export class LevelDbState implements StateBackend {
  readonly kind = 'leveldb';
  private readonly serial = new KeyedSerial();
  private readonly cache = new Map<string, Incident>();

  constructor(readonly store: Store) {}

  static async open(dir: string, clock: Clock): Promise<LevelDbState> {
    return new LevelDbState(await Store.open(dir, { clock }));
  }

  openIncidents(): Promise<IncidentRef[]> {
    return this.store.openSummaries();
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
      this.remember(incident);
      return { created: true as const };
    });
  }

  update<T>(id: string, needs: UpdateNeeds, mutate: Mutation<T>): Promise<T | null> {
    return this.serial.run(id, async () => {
      const current = await this.get(id);
      if (!current) return null;
      const [deliveries, marks, seen] = await Promise.all([
        needs.deliveries ? this.store.listDeliveries(id) : [],
        needs.marks ? this.store.providerMarks(id) : {},
        needs.webhookId ? this.store.seenWebhook(needs.webhookId) : false,
      ]);
      const { change, result } = mutate({
        incident: structuredClone(current),
        deliveries,
        marks,
        seen: (webhookId) => seen && webhookId === needs.webhookId,
      });
      if (change !== null) await this.write(id, current.revision, change);
      return result;
    });
  }

  private async write(id: string, revision: number, change: Change): Promise<void> {
    const tx = this.store.transaction();
    if (change.incident !== null) {
      change.incident.revision = revision + 1;
      tx.putIncident(change.incident);
    }
    for (const d of change.deliveries) tx.putDelivery(d);
    for (const a of change.audit) tx.appendAudit(a);
    for (const [provider, mark] of Object.entries(change.marks ?? {})) tx.putProviderMark(id, provider, mark);
    for (const ref of change.refs ?? []) tx.indexIncidentRef(ref, id);
    if (change.webhookId) tx.markWebhook(change.webhookId);
    await this.store.commit(tx, { sync: change.durable });
    if (change.incident !== null) this.remember(change.incident);
  }

  /**
   * The hot write: every repeated incident, every write-back. A shallow copy of the cached
   * incident with its counts, not `update`'s deep clone and reads: 10,000 incidents repeating at
   * once cost one small batch of puts (unsynced: a crash may cost the count, never the incident).
   */
  addOccurrences(id: string, count: number, lastSeenMs: number): Promise<void> {
    return this.serial.run(id, async () => {
      const current = await this.get(id);
      if (!current) return;
      const next: Incident = {
        ...current,
        occurrences: current.occurrences + count,
        revision: current.revision + 1,
      };
      if (lastSeenMs > Date.parse(current.last_seen)) next.last_seen = new Date(lastSeenMs).toISOString();
      if (current.storm) next.storm = { ...current.storm, folded: current.storm.folded + count };
      await this.store.commit(this.store.transaction().putIncident(next), { sync: false });
      this.remember(next);
    });
  }

  async get(id: string): Promise<Incident | undefined> {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const incident = await this.store.getIncident(id);
    if (incident) this.remember(incident);
    return incident;
  }

  list(filter: IncidentFilter): Promise<Incident[]> {
    return this.store.listIncidents(filter);
  }

  /** The incident with its timeline and deliveries, read in turn with its own changes. */
  detail(id: string): Promise<IncidentDetail | null> {
    return this.serial.run(id, async () => {
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

  async prune(cutoffs: { resolvedBefore: number; webhooksBefore: number }): Promise<number> {
    await this.store.pruneWebhookIds(cutoffs.webhooksBefore);
    let total = 0;
    for (;;) {
      const n = await this.store.pruneResolved(cutoffs.resolvedBefore);
      total += n;
      if (n === 0) break;
    }
    for (const id of [...this.cache.keys()]) {
      const cached = this.cache.get(id);
      if (cached?.state === 'resolved' && Date.parse(cached.resolved_at ?? '') < cutoffs.resolvedBefore)
        this.cache.delete(id);
    }
    return total;
  }

  storageBytes(): Promise<number> {
    return this.store.storageBytes();
  }

  /** Waits for every queued change, then closes the store. */
  async close(): Promise<void> {
    await this.serial.idle();
    await this.store.close();
  }

  /** Resolves when every change queued so far has been written. */
  idle(): Promise<void> {
    return this.serial.idle();
  }

  private remember(incident: Incident): void {
    this.cache.delete(incident.id);
    this.cache.set(incident.id, incident);
    if (this.cache.size > CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value as string);
  }
}
