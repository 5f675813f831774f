// The recent-events ring in LevelDB (docs/policy-diff.md, "The recent-events ring"): a database of its
// own in <DATA_DIR>/recent-events, so its writes and compactions never share the incident store's
// write queue. Keys are a 16-digit sequence, values the masked event's JSON; the oldest entries go once
// the ring holds more than `maxEvents` or `maxBytes`. Batched: one LevelDB batch per flush.
import { join } from 'node:path';
import { Level } from 'level';
import type { SourceItem } from '../diff.js';
import { eventsOfLines } from '../ndjson.js';
import { SourceError } from '../source-error.js';
import type { RingStore } from './recent-events.js';

export interface RingBounds {
  maxEvents: number;
  maxBytes: number;
}

type RingDb = Level<string, string>;

const SEQ_DIGITS = 16;
const keyOf = (seq: number): string => String(seq).padStart(SEQ_DIGITS, '0');

export const RING_DIR = 'recent-events';

export class LevelDbRing implements RingStore {
  /** Sizes of the entries held, oldest first, from `head`. */
  private readonly sizes: number[] = [];
  private sizesStart = 0;
  private bytes = 0;

  private constructor(
    private readonly db: RingDb,
    private readonly bounds: RingBounds,
    private head: number,
  ) {}

  static async open(dataDir: string, bounds: RingBounds): Promise<LevelDbRing> {
    const db: RingDb = new Level<string, string>(join(dataDir, RING_DIR), {
      keyEncoding: 'utf8',
      valueEncoding: 'utf8',
    });
    await db.open();
    let head = 1;
    let first = true;
    const ring = new LevelDbRing(db, bounds, head);
    for await (const [key, value] of db.iterator()) {
      if (first) head = Number(key);
      first = false;
      ring.sizes.push(Buffer.byteLength(value));
      ring.bytes += Buffer.byteLength(value);
    }
    ring.head = head;
    return ring;
  }

  get count(): number {
    return this.sizes.length - this.sizesStart;
  }

  async append(lines: readonly string[]): Promise<void> {
    const ops: { type: 'put' | 'del'; key: string; value?: string }[] = [];
    let next = this.head + this.count;
    for (const line of lines) {
      ops.push({ type: 'put', key: keyOf(next++), value: line });
      const size = Buffer.byteLength(line);
      this.sizes.push(size);
      this.bytes += size;
    }
    while (this.count > 0 && (this.count > this.bounds.maxEvents || this.bytes > this.bounds.maxBytes)) {
      ops.push({ type: 'del', key: keyOf(this.head++) });
      this.bytes -= this.sizes[this.sizesStart++] as number;
    }
    if (this.sizesStart > 65_536) {
      this.sizes.splice(0, this.sizesStart);
      this.sizesStart = 0;
    }
    // Not fsynced: a sample lost in a crash costs a reviewer a few events, not an incident.
    await this.db.batch(ops as never);
  }

  async *read(): AsyncIterable<string> {
    for await (const value of this.db.values({ gte: keyOf(this.head) })) yield value;
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/** `diff --recorded --data-dir`: the ring of a stopped sidecar (LevelDB allows one process). */
export async function readRecentFromDataDir(
  dataDir: string,
): Promise<{ items: AsyncIterable<SourceItem>; close(): Promise<void> }> {
  let ring: LevelDbRing;
  try {
    ring = await LevelDbRing.open(dataDir, { maxEvents: Infinity, maxBytes: Infinity });
  } catch (err) {
    throw new SourceError(
      `cannot open ${join(dataDir, RING_DIR)} (${(err as Error).message}); is the sidecar running? Use --recorded --url`,
    );
  }
  return { items: eventsOfLines(ring.read(), 'recent'), close: () => ring.close() };
}
