// A bounded map for caches: two generations of half the limit each, the newer filled and then made
// the older, the older dropped whole. It holds at most `limit` keys (two for a limit of 1), and at
// least the newest half of them (the most recently set or read).
//
// Why not one Map evicting its first key when full (the usual LRU in JavaScript): V8 keeps a
// deleted entry in the map's table until the table is rebuilt, and `keys().next()` walks past every
// one of them, so once such a cache is full each eviction costs time in proportion to the deletes
// since the last rebuild: 3-4 µs per set at 5,000 keys, against 0.1 µs here (docs/performance.md,
// "Delivery path").
export class BoundedMap<K, V> {
  private newer = new Map<K, V>();
  private older = new Map<K, V>();
  /** Generations dropped so far (a cache may need to know that something was forgotten). */
  drops = 0;

  /** Keys a generation holds: half the limit. */
  private readonly generation: number;

  constructor(limit: number) {
    if (!(limit >= 1)) throw new RangeError(`a bounded map holds at least one key, not ${limit}`);
    this.generation = Math.max(1, Math.floor(limit / 2));
  }

  /** The value, moving a key found in the older generation to the newer (recently used stays). */
  get(key: K): V | undefined {
    const value = this.newer.get(key);
    if (value !== undefined) return value;
    const old = this.older.get(key);
    if (old === undefined) return undefined;
    this.older.delete(key);
    this.put(key, old);
    return old;
  }

  set(key: K, value: V): void {
    this.older.delete(key);
    this.put(key, value);
  }

  delete(key: K): boolean {
    const newer = this.newer.delete(key);
    return this.older.delete(key) || newer;
  }

  clear(): void {
    this.newer = new Map();
    this.older = new Map();
  }

  /** Forgets every entry as an eviction would (counted in `drops`): a cache shed at rest. */
  shed(): void {
    if (this.size > 0) this.drops++;
    this.clear();
  }

  get size(): number {
    return this.newer.size + this.older.size;
  }

  /** Every entry, the older generation first. */
  *entries(): IterableIterator<[K, V]> {
    yield* this.older;
    yield* this.newer;
  }

  private put(key: K, value: V): void {
    if (this.newer.size >= this.generation && !this.newer.has(key)) {
      if (this.older.size > 0) this.drops++;
      this.older = this.newer;
      this.newer = new Map();
    }
    this.newer.set(key, value);
  }
}
