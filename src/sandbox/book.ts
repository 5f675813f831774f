// A simulator's records in creation order, each findable by any of its keys without a scan: a
// benchmark opens 100,000 incidents, and a scan per request made the simulator the bottleneck.
// Keys are fixed at creation (ids, aliases, dedup keys never change).
//
// Bounded when given a retention: past `keep` records, the oldest that are `retired` (resolved,
// closed) are forgotten, as the sandbox that `npm start` runs inside the sidecar must not grow
// with every incident of a demo left running for weeks. Open records are never forgotten.

export interface BookRetention<T> {
  /** Records kept at least (Infinity: all); past it, retired ones go a quarter at a time. */
  keep: number;
  retired(record: T): boolean;
}

const KEEP_ALL: BookRetention<never> = { keep: Infinity, retired: () => false };

export class Book<T, K extends string> {
  private records: T[] = [];
  private indexes = new Map<K, Map<string, T[]>>();
  private compactAt: number;

  constructor(
    private readonly keys: Readonly<Record<K, (record: T) => string | undefined>>,
    private readonly retention: BookRetention<T> = KEEP_ALL,
  ) {
    this.compactAt = thresholdOf(retention.keep);
  }

  add(record: T): void {
    this.records.push(record);
    for (const name of Object.keys(this.keys) as K[]) {
      const value = this.keys[name](record);
      if (value === undefined) continue;
      let index = this.indexes.get(name);
      if (index === undefined) this.indexes.set(name, (index = new Map()));
      const list = index.get(value);
      if (list === undefined) index.set(value, [record]);
      else list.push(record);
    }
    if (this.records.length >= this.compactAt) this.compact();
  }

  /** The records whose key `name` is `value`, oldest first. */
  by(name: K, value: string): readonly T[] {
    return this.indexes.get(name)?.get(value) ?? [];
  }

  all(): readonly T[] {
    return this.records;
  }

  get size(): number {
    return this.records.length;
  }

  clear(): void {
    this.records = [];
    this.indexes = new Map();
    this.compactAt = thresholdOf(this.retention.keep);
  }

  /** Forgets the oldest retired records beyond `keep`; open ones stay, however many. */
  private compact(): void {
    const { keep, retired } = this.retention;
    let excess = this.records.length - keep;
    const forgotten = new Set<T>();
    for (const record of this.records) {
      if (excess <= 0) break;
      if (!retired(record)) continue;
      forgotten.add(record);
      excess--;
    }
    if (forgotten.size > 0) {
      this.records = this.records.filter((r) => !forgotten.has(r));
      for (const [name, index] of this.indexes) {
        for (const record of forgotten) {
          const value = this.keys[name](record);
          if (value === undefined) continue;
          const list = index.get(value)?.filter((r) => r !== record) ?? [];
          if (list.length === 0) index.delete(value);
          else index.set(value, list);
        }
      }
    }
    // Many open records: the next pass waits for another quarter, so adds stay O(1) on average.
    this.compactAt = thresholdOf(Math.max(keep, this.records.length));
  }
}

/** The size at which the next pass runs (Infinity for a book that keeps all). */
function thresholdOf(keep: number): number {
  return keep + Math.max(1, Math.ceil(keep / 4));
}
