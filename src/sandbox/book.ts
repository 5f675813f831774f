// A simulator's records in creation order, each findable by any of its keys without a scan: a
// benchmark opens 100,000 incidents, and a scan per request made the simulator the bottleneck.
// Keys are fixed at creation (ids, aliases, dedup keys never change).

export class Book<T, K extends string> {
  private records: T[] = [];
  private indexes = new Map<K, Map<string, T[]>>();

  constructor(private readonly keys: Readonly<Record<K, (record: T) => string | undefined>>) {}

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
  }
}
