// Provider refs → incident ids in memory (docs/performance.md, "Delivery path"): every webhook asks
// which incident a provider key or a provider's own id names, and a LevelDB range read for it
// (iterator, next, close: three trips through the thread pool) cost more than the rest of the
// webhook. The cache holds what the disk holds for a ref, newest first: every id written through
// the writer since start (added once its batch is committed), merged with what a read found.
// `complete` says the disk had no more than that when it was read, so any lookup can be answered;
// otherwise `ids` are the ref's newest ids on disk, with none missing between them, and lookups of
// up to `ids.length` are answered. A write keeps that true only when it is newer than the oldest
// cached id, or, for a ref not cached, when the incident was created after the store opened (ids
// sort by creation time and only this process writes the store, so it is newer than all on disk);
// any other write is left to the disk.

import { BoundedMap } from '../domain/bounded-map.js';

interface Entry {
  /** Newest first, at most MAX_IDS. */
  ids: string[];
  complete: boolean;
}

/** What a lookup ever asks for (src/webhooks/match.ts reads up to 20 candidates). */
const MAX_IDS = 20;

export class RefCache {
  /** Its `drops` count evictions: a disk read that overlapped one cannot say it saw every id. */
  private readonly entries: BoundedMap<string, Entry>;

  /**
   * `fresh(id)`: whether the incident was created after the store opened (newer than any on disk);
   * `capacity`: refs cached at most (half of them at least).
   */
  constructor(
    private readonly fresh: (id: string) => boolean,
    capacity = 50_000,
  ) {
    this.entries = new BoundedMap(capacity);
  }

  /** The newest `limit` ids of `ref` when the cache knows them; null when the disk must say. */
  lookup(ref: string, limit: number): string[] | null {
    const entry = this.entries.get(ref);
    if (entry === undefined || (!entry.complete && entry.ids.length < limit)) return null;
    return entry.ids.slice(0, limit);
  }

  /** A token to hand to `loaded` with the read it was taken before. */
  mark(): number {
    return this.entries.drops;
  }

  /** What a disk read of `limit` ids found, started when `mark` returned `token`. */
  loaded(ref: string, ids: readonly string[], limit: number, token: number): void {
    const cached = this.entries.get(ref);
    const merged = mergeNewestFirst(cached?.ids ?? [], ids);
    const complete = ids.length < limit && token === this.entries.drops && merged.length <= MAX_IDS;
    this.store(ref, { ids: merged.slice(0, MAX_IDS), complete });
  }

  /** A committed write of `ref` → `id`. */
  added(ref: string, id: string): void {
    const cached = this.entries.get(ref);
    if (cached === undefined && !this.fresh(id)) return;
    // Older than the oldest cached id of an incomplete entry: ids between them may be on disk.
    if (cached !== undefined && !cached.complete && id < (cached.ids.at(-1) ?? '')) return;
    const merged = mergeNewestFirst(cached?.ids ?? [], [id]);
    this.store(ref, {
      ids: merged.slice(0, MAX_IDS),
      complete: (cached?.complete ?? false) && merged.length <= MAX_IDS,
    });
  }

  /** A committed delete of `ref` → `id` (retention). */
  removed(ref: string, id: string): void {
    const cached = this.entries.get(ref);
    if (cached === undefined) return;
    const ids = cached.ids.filter((x) => x !== id);
    // Fewer than the cap after a delete: what the cap cut off may exist, so only a complete entry stays complete.
    this.entries.set(ref, { ids, complete: cached.complete });
  }

  /** Forgets every ref (the process is at rest); a read overlapping it cannot claim to be complete. */
  shed(): void {
    this.entries.shed();
  }

  private store(ref: string, entry: Entry): void {
    this.entries.set(ref, entry);
  }
}

function mergeNewestFirst(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort((x, y) => (x < y ? 1 : x > y ? -1 : 0));
}
