// One connected stream (docs/http-api.md, "GET /api/v1/stream"): where it stands in the lifecycle
// ring, what else waits for its next message, and its socket. Each flush sends at most one message;
// a client with more than the bound still unsent when its next message is due (it stopped reading) is
// cut off, never buffered without bound.
import type { FoldableItem, FoldedItem, HealthItem, CountersItem, StreamItem } from './items.js';
import type { LifecycleRing } from './ring.js';

/** The smallest part of an HTTP response a stream writes to. */
export interface StreamSink {
  write(text: string): boolean;
  readonly writableLength: number;
  end(): void;
  destroy(): void;
}

export interface StreamLimits {
  /** Lifecycle changes per message (the rest follow in the next ones, never dropped). */
  maxChangesPerMessage: number;
  /** Other items per message; beyond it they are counted in a `folded` item. */
  maxItemsPerMessage: number;
  /** Bytes waiting in the socket's buffer before the client is cut off. */
  maxBufferedBytes: number;
  heartbeatMs: number;
}

export type ResetReason = 'unknown_stream' | 'expired' | 'interrupted';

/** How a message is put on the wire: ids carry the hub's epoch, text passes the secret scrubber. */
export interface Wire {
  id(seq: number): string;
  scrub(text: string): string;
}

export class StreamClient {
  private others: FoldableItem[] = [];
  private folded: FoldedItem['counts'] | null = null;
  private health: HealthItem | null = null;
  private counters: CountersItem | null = null;
  private pendingReset: ResetReason | null = null;
  private lastWriteMs: number;
  closed = false;

  constructor(
    private readonly sink: StreamSink,
    private readonly limits: StreamLimits,
    /** The id of the last lifecycle change this client has. */
    private cursor: number,
    nowMs: number,
    private readonly onCut: (client: StreamClient) => void,
  ) {
    this.lastWriteMs = nowMs;
  }

  add(item: FoldableItem): void {
    if (this.others.length < this.limits.maxItemsPerMessage) this.others.push(item);
    else {
      const folded = (this.folded ??= {});
      folded[item.type] = (folded[item.type] ?? 0) + 1;
    }
  }

  latest(item: HealthItem | CountersItem): void {
    if (item.type === 'health') this.health = item;
    else this.counters = item;
  }

  reset(reason: ResetReason): void {
    this.pendingReset = reason;
  }

  /** Opening lines: the reconnect delay, then `ready` or `reset`. */
  open(wire: Wire, nowMs: number, info: Record<string, unknown>, reset: ResetReason | null): void {
    const id = wire.id(this.cursor);
    const event = reset === null ? 'ready' : 'reset';
    const data = JSON.stringify({ id, ...(reset === null ? {} : { reason: reset }), ...info });
    this.write(`retry: 3000\nevent: ${event}\nid: ${id}\ndata: ${data}\n\n`, nowMs);
  }

  /** Sends what arrived since the last flush as one message, or a heartbeat when it is time. */
  flush(ring: LifecycleRing, wire: Wire, nowMs: number): void {
    if (this.closed) return;
    if (this.pendingReset === null && !ring.holdsAfter(this.cursor)) this.pendingReset = 'expired';
    if (this.pendingReset !== null) {
      this.cursor = ring.head;
      const id = wire.id(this.cursor);
      this.write(
        `event: reset\nid: ${id}\ndata: ${JSON.stringify({ id, reason: this.pendingReset })}\n\n`,
        nowMs,
      );
      this.pendingReset = null;
      if (this.closed) return;
    }
    const items = this.take(ring, wire);
    if (items.length > 0) {
      const text = wire.scrub(JSON.stringify(items));
      const id = items[0]?.type === 'incident' ? `id: ${wire.id(this.cursor)}\n` : '';
      this.write(`event: batch\n${id}data: ${text}\n\n`, nowMs);
    } else if (nowMs - this.lastWriteMs >= this.limits.heartbeatMs) this.write(': heartbeat\n\n', nowMs);
  }

  /** This message's items: lifecycle changes first (in id order), then the rest as they came. */
  private take(ring: LifecycleRing, wire: Wire): StreamItem[] {
    const items: StreamItem[] = [];
    const last = Math.min(ring.head, this.cursor + this.limits.maxChangesPerMessage);
    for (let seq = this.cursor + 1; seq <= last; seq++)
      items.push({ type: 'incident', id: wire.id(seq), ...ring.at(seq) });
    this.cursor = Math.max(this.cursor, last);
    if (this.others.length > 0) {
      items.push(...this.others);
      this.others = [];
    }
    if (this.folded !== null) {
      items.push({ type: 'folded', counts: this.folded });
      this.folded = null;
    }
    if (this.health !== null) items.push(this.health);
    if (this.counters !== null) items.push(this.counters);
    this.health = null;
    this.counters = null;
    return items;
  }

  /**
   * Checked before writing: what is still unsent from earlier messages says the client stopped
   * reading; one large message alone does not (a reading client drains it before the next tick).
   */
  private write(text: string, nowMs: number): void {
    if (this.closed) return;
    if (this.sink.writableLength > this.limits.maxBufferedBytes) {
      this.close();
      this.sink.destroy();
      this.onCut(this);
      return;
    }
    this.sink.write(text);
    this.lastWriteMs = nowMs;
  }

  /** Ends the stream (shutdown). */
  end(): void {
    if (this.closed) return;
    this.close();
    this.sink.end();
  }

  close(): void {
    this.closed = true;
  }
}
