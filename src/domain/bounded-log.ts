// The newest entries of a log, at most `max` of them: a simulator's request log in a sandbox left
// running for days (the demo of `npm start`), the webhooks no incident matched. Trimmed in steps of a
// quarter so an add costs O(1) on average; a splice per add past the bound moved the whole array.

export class BoundedLog<T> {
  private entries: T[] = [];
  private count = 0;

  constructor(private readonly max: number) {}

  add(entry: T): void {
    this.count++;
    this.entries.push(entry);
    if (this.entries.length >= this.max + Math.ceil(this.max / 4)) {
      this.entries = this.entries.slice(this.entries.length - this.max);
    }
  }

  /** The newest `max` entries, oldest first (the array itself: callers copy what they hand out). */
  list(): T[] {
    return this.entries.length > this.max ? this.entries.slice(this.entries.length - this.max) : this.entries;
  }

  get size(): number {
    return Math.min(this.entries.length, this.max);
  }

  /** Entries added since the last clear, counting those no longer kept. */
  get total(): number {
    return this.count;
  }

  clear(): void {
    this.entries = [];
    this.count = 0;
  }
}
