// The LevelDB backend's committed incident records in memory (docs/architecture.md, "State
// backends"). Two parts: the most recently written or read records, bounded and evicted oldest
// generation first (src/domain/bounded-map.ts); and the records of incidents with a delivery
// pending, kept until their deliveries are done. The second part is there for the outbox: it sends
// oldest first and builds each request from the incident's record, so after a burst of new
// incidents larger than the first part, every request would read a record that was just evicted
// (a LevelDB read and a JSON parse: 5% of the sidecar's busy time in a profile of such a burst).

import { BoundedMap } from '../domain/bounded-map.js';
import type { Delivery, Incident } from '../domain/incident.js';

interface Held {
  record: Incident | undefined;
  /** Its deliveries written as pending and not yet written as anything else. */
  readonly pending: Set<string>;
}

export class RecordCache {
  private readonly recent: BoundedMap<string, Incident>;
  private readonly held = new Map<string, Held>();

  /**
   * `limit`: records in the recent part at most (half of them at least); `holdLimit`: incidents held
   * for their deliveries (beyond it, as during a long provider outage, records fall back to the
   * recent part).
   */
  constructor(
    limit: number,
    private readonly holdLimit: number,
  ) {
    this.recent = new BoundedMap(limit);
  }

  get(id: string): Incident | undefined {
    return this.held.get(id)?.record ?? this.recent.get(id);
  }

  /** The incident's record as committed now. */
  set(record: Incident): void {
    const held = this.held.get(record.id);
    if (held !== undefined) {
      held.record = record;
      return;
    }
    this.recent.set(record.id, record);
  }

  /** Forgets what is known of the incident (after a failed commit: the store is read again). */
  delete(id: string): void {
    this.recent.delete(id);
    this.held.delete(id);
  }

  /** Deliveries of the incident just committed: pending ones hold its record, others release it. */
  track(id: string, deliveries: readonly Delivery[]): void {
    for (const d of deliveries) {
      const held = this.held.get(id);
      if (d.status === 'pending') {
        if (held !== undefined) held.pending.add(d.id);
        else if (this.held.size < this.holdLimit) {
          this.held.set(id, { record: this.recent.get(id), pending: new Set([d.id]) });
          this.recent.delete(id);
        }
      } else if (held?.pending.delete(d.id) === true && held.pending.size === 0) {
        this.held.delete(id);
        if (held.record !== undefined) this.set(held.record);
      }
    }
  }

  /** Forgets the records `drop` picks. */
  prune(drop: (record: Incident) => boolean): void {
    for (const [id, record] of [...this.recent.entries()]) if (drop(record)) this.recent.delete(id);
    for (const [id, held] of [...this.held])
      if (held.record !== undefined && drop(held.record)) this.held.delete(id);
  }

  /** Forgets the recent part (the process is at rest); records held for their deliveries stay. */
  shed(): void {
    this.recent.shed();
  }

  get size(): number {
    return this.recent.size + this.held.size;
  }
}
