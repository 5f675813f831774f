// What each replica keeps in memory of the shared state, fed by KV watches (docs/architecture.md,
// "Cluster mode"): the latest incident of every provider key (dedup without a round trip, open
// lists, counts) and the ids of every stored incident (lists of resolved ones, retention). A watch
// replays what is stored, then follows live changes; "replay done" is the first entry with no
// pending left (nats.js gives no such signal itself).
import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { QueuedIterator } from '@nats-io/transport-node';
import type { Logger } from '../../telemetry/logger.js';
import type { Silence } from '../../silences/model.js';
import type { KeyEntry } from './record.js';

export interface KeyListener {
  /** A provider key's latest incident changed (opened, acknowledged, resolved…), here or elsewhere. */
  changed(entry: KeyEntry): void;
}

/** Follows a bucket until stopped; resolves `ready` once what was stored has been replayed. */
export abstract class Follower {
  private iter: QueuedIterator<KvWatchEntry> | null = null;
  readonly ready: Promise<void>;
  /** Entries applied so far (replayed or live): what a slow start reports. */
  applied = 0;
  private markReady!: () => void;
  private stopped = false;

  constructor(
    protected readonly kv: KV,
    protected readonly logger: Logger,
    private readonly what: string,
  ) {
    this.ready = new Promise((resolve) => (this.markReady = resolve));
  }

  async start(options: { headers_only?: boolean } = {}): Promise<void> {
    // An empty bucket sends nothing until its first write: nothing to wait for.
    if ((await this.kv.status()).values === 0) this.markReady();
    this.iter = await this.kv.watch({ key: '>', ...options });
    void this.follow(this.iter);
  }

  private async follow(iter: QueuedIterator<KvWatchEntry>): Promise<void> {
    try {
      for await (const e of iter) {
        this.apply(e);
        this.applied++;
        if (e.delta === 0) this.markReady();
      }
    } catch (err) {
      if (!this.stopped)
        this.logger.error({ event: 'watch_failed', bucket: this.what, err }, `watch of ${this.what} ended`);
    }
  }

  protected abstract apply(e: KvWatchEntry): void;

  /**
   * An entry's JSON when `valid` accepts it; otherwise `onInvalid` is told, the entry is logged as a
   * state record that does not parse and ignored (null).
   */
  protected parsed<T>(
    e: KvWatchEntry,
    valid: (value: T) => boolean,
    noun: string,
    onInvalid: () => void,
  ): T | null {
    let err: unknown = new Error(`not a ${noun}`);
    try {
      const value = e.json<T>();
      if (valid(value)) return value;
    } catch (thrown) {
      err = thrown;
    }
    onInvalid();
    this.logger.error(
      { event: 'state_record_invalid', bucket: this.what, key: e.key, err },
      `${noun} ${e.key} does not parse; ignored`,
    );
    return null;
  }

  stop(): void {
    this.stopped = true;
    this.iter?.stop();
  }
}

/** Provider key → its latest incident, as the key bucket says. */
export class KeyView extends Follower {
  readonly entries = new Map<string, KeyEntry>();
  /** The bucket's revision of each key holding a value (a create's first compare-and-set). */
  private readonly revisions = new Map<string, number>();
  private readonly listeners = new Set<KeyListener>();
  constructor(
    kv: KV,
    logger: Logger,
    private readonly onInvalid: () => void,
  ) {
    super(kv, logger, 'keys');
  }

  listen(listener: KeyListener): void {
    this.listeners.add(listener);
  }

  /**
   * What this replica last saw of a key: its latest incident (null: none, or one that does not
   * parse) and the revision to compare-and-set on (0: no value, a create). The view trails the
   * bucket by a watch message: a write from it may fail its compare-and-set, then read the bucket.
   */
  seen(key: string): { entry: KeyEntry | null; revision: number } {
    return { entry: this.entries.get(key) ?? null, revision: this.revisions.get(key) ?? 0 };
  }

  protected apply(e: KvWatchEntry): void {
    if (e.operation !== 'PUT') {
      this.entries.delete(e.key);
      this.revisions.delete(e.key);
      return;
    }
    this.revisions.set(e.key, e.revision);
    const entry = this.parsed<KeyEntry>(
      e,
      (v) => typeof v.id === 'string' && typeof v.fingerprint === 'string',
      'key',
      this.onInvalid,
    );
    if (entry === null) {
      this.entries.delete(e.key);
      return;
    }
    this.entries.set(e.key, entry);
    for (const l of this.listeners) l.changed(entry);
  }

  /** Open (not resolved) incidents, by state. */
  counts(): { triggered: number; acknowledged: number } {
    let triggered = 0;
    let acknowledged = 0;
    for (const e of this.entries.values()) {
      if (e.state === 'triggered') triggered++;
      else if (e.state === 'acknowledged') acknowledged++;
    }
    return { triggered, acknowledged };
  }
}

/** Every stored incident id, sorted (ids sort by creation time). */
export class IdIndex extends Follower {
  private readonly ids: string[] = [];

  /** `added`: told of each id new to the index (replayed ones too), e.g. to check its open later. */
  constructor(
    kv: KV,
    logger: Logger,
    private readonly added: (id: string) => void = () => undefined,
  ) {
    super(kv, logger, 'incidents');
  }

  override start(): Promise<void> {
    return super.start({ headers_only: true });
  }

  protected apply(e: KvWatchEntry): void {
    const i = this.position(e.key);
    const present = this.ids[i] === e.key;
    if (e.operation === 'PUT' && !present) {
      this.ids.splice(i, 0, e.key);
      this.added(e.key);
    }
    if (e.operation !== 'PUT' && present) this.ids.splice(i, 1);
  }

  has(id: string): boolean {
    return this.ids[this.position(id)] === id;
  }

  /** Where `id` is or would be: binary search (appends, the common case, cost one comparison). */
  private position(id: string): number {
    const last = this.ids.at(-1);
    if (last === undefined || last < id) return this.ids.length;
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.ids[mid] as string) < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get size(): number {
    return this.ids.length;
  }

  /** Ids newest first, below `before` when given. */
  *newestFirst(before?: string): Generator<string> {
    const start = before === undefined ? this.ids.length : this.position(before);
    for (let i = start - 1; i >= 0; i--) yield this.ids[i] as string;
  }

  /** Ids created before `id`, oldest first. */
  *olderThan(id: string): Generator<string> {
    const end = this.position(id);
    for (let i = 0; i < end; i++) yield this.ids[i] as string;
  }
}

/**
 * Every silence as the silences bucket holds it (src/silences): each replica's view of who is
 * silenced, so a decision never asks NATS. The bucket's order is every replica's order.
 */
export class SilenceFollower extends Follower {
  /** The bucket's revision of each silence, as last seen here (a write's compare-and-set). */
  readonly revisions = new Map<string, number>();

  constructor(
    kv: KV,
    logger: Logger,
    private readonly onInvalid: () => void,
    private readonly listener: (silence: Silence | string) => void,
  ) {
    super(kv, logger, 'silences');
  }

  protected apply(e: KvWatchEntry): void {
    this.saw(e.key, e.revision);
    if (e.operation !== 'PUT') {
      this.listener(e.key); // forgotten by retention
      return;
    }
    const silence = this.parsed<Silence>(
      e,
      (v) => typeof v.id === 'string' && Array.isArray(v.matchers),
      'silence',
      this.onInvalid,
    );
    if (silence === null) return;
    this.listener(silence);
  }

  saw(id: string, revision: number): void {
    if (revision > (this.revisions.get(id) ?? 0)) this.revisions.set(id, revision);
  }
}
