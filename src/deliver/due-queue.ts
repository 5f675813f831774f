// Which provider keys have work due, and when: a binary min-heap of (time, key) with one live
// entry per key. The dispatcher looks only at keys that are due, so a backlog of 100,000 pending
// deliveries costs O(log n) per attempt instead of a scan of the whole outbox.

interface Entry {
  at: number;
  key: string;
}

export class DueQueue {
  private heap: Entry[] = [];
  /** The live time of each queued key; heap entries that disagree are stale and skipped. */
  private readonly dueAt = new Map<string, number>();

  /** Due at `at` or earlier than it already was; a later time never postpones a key. */
  add(key: string, at: number): void {
    const current = this.dueAt.get(key);
    if (current !== undefined && current <= at) return;
    this.dueAt.set(key, at);
    this.push({ at, key });
  }

  /** Due at exactly `at`, earlier or later than before (escalation timers move both ways). */
  set(key: string, at: number): void {
    if (this.dueAt.get(key) === at) return;
    this.dueAt.set(key, at);
    this.push({ at, key });
  }

  /** Not due at all any more; its heap entry is skipped as stale. */
  delete(key: string): void {
    this.dueAt.delete(key);
  }

  /** The earliest time anything is due, or null. */
  peek(): number | null {
    this.dropStale();
    return this.heap[0]?.at ?? null;
  }

  /** The key due earliest if it is due by `now`, taken off the queue. */
  takeDue(now: number): string | null {
    this.dropStale();
    const top = this.heap[0];
    if (top === undefined || top.at > now) return null;
    this.pop();
    this.dueAt.delete(top.key);
    return top.key;
  }

  get size(): number {
    return this.dueAt.size;
  }

  private dropStale(): void {
    for (let top = this.heap[0]; top !== undefined; top = this.heap[0]) {
      if (this.dueAt.get(top.key) === top.at) return;
      this.pop();
    }
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as Entry).at <= entry.at) break;
      heap[i] = heap[parent] as Entry;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop() as Entry;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child =
        right < heap.length && (heap[right] as Entry).at < (heap[left] as Entry).at ? right : left;
      if ((heap[child] as Entry).at >= last.at) break;
      heap[i] = heap[child] as Entry;
      i = child;
    }
    heap[i] = last;
  }
}
