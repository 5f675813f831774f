// The recent-events ring in cluster mode (docs/policy-diff.md, "The recent-events ring"): a stream
// `<CLUSTER_NAME>_recent` on a private subject, whose max_msgs and max_bytes JetStream enforces itself
// (discard old), so every replica's sample is in one place and any replica's API reads all of them.
// A flush's lines go packed, many to a message (newline-separated, their count in a header): one
// JetStream write per 128 KiB instead of one per event. The event bound is then kept by the reader,
// which learns each message's count from a headers-only pass and skips the oldest lines beyond it.
import { DeliverPolicy, DiscardPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import type { RingBounds } from './leveldb-ring.js';
import type { RingStore } from './recent-events.js';

const OPEN_TIMEOUT_MS = 60_000;
/** Lines per message: up to this many bytes of them (a line longer goes alone), well under NATS's 1 MiB payload. */
const MESSAGE_BYTES = 128 * 1024;
/** The header that counts a message's lines; a message without it (written before packing) holds one. */
const LINES_HEADER = 'Ir-Lines';

export class JetStreamRing implements RingStore {
  private constructor(
    private readonly nc: NatsConnection,
    readonly stream: string,
    private readonly subject: string,
    private readonly maxEvents: number,
  ) {}

  static async open(
    nc: NatsConnection,
    cluster: { name: string; replicas: number },
    bounds: RingBounds,
  ): Promise<JetStreamRing> {
    const stream = `${cluster.name}_recent`;
    const subject = `_IR.${cluster.name}.recent`;
    const jsm = await jetstreamManager(nc);
    const config = {
      name: stream,
      subjects: [subject],
      // Each message holds one line or more: never fewer events than the bound (the reader trims).
      max_msgs: bounds.maxEvents,
      max_bytes: bounds.maxBytes,
      discard: DiscardPolicy.Old,
      num_replicas: cluster.replicas,
    };
    const exists = (): Promise<boolean> =>
      jsm.streams.info(stream).then(
        () => true,
        () => false,
      );
    // A new R3 stream needs its leader elected, slower while every replica starts at once: time-outs
    // are retried for a while, as the state's buckets are (src/state/jetstream/buckets.ts).
    const deadline = Date.now() + OPEN_TIMEOUT_MS;
    for (let wait = 500; ; wait = Math.min(wait * 2, 5_000)) {
      try {
        if (await exists()) {
          // The bounds follow the configuration; a change JetStream refuses (its replicas) keeps the old.
          await jsm.streams.update(stream, config).catch(() => undefined);
        } else {
          await jsm.streams.add(config).catch(async (err: unknown) => {
            if (!(await exists())) throw err; // otherwise another replica made it first
          });
        }
        return new JetStreamRing(nc, stream, subject, bounds.maxEvents);
      } catch (err) {
        if (Date.now() + wait >= deadline || nc.isClosed()) throw err;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  async append(lines: readonly string[]): Promise<void> {
    const js = jetstream(this.nc);
    // Published together, acknowledged together: one round trip's worth of waiting per batch.
    await Promise.all(
      packLines(lines, MESSAGE_BYTES).map((pack) => {
        const h = headers();
        h.set(LINES_HEADER, String(pack.length));
        return js.publish(this.subject, pack.join('\n'), { headers: h });
      }),
    );
  }

  /**
   * The newest `maxEvents` lines, oldest first: a headers-only pass counts the lines of each message
   * up to the stream's last one now, then a second pass yields them, skipping the oldest beyond the
   * bound (a message the limits discard between the passes is simply not read).
   */
  async *read(): AsyncIterable<string> {
    const info = await (await jetstreamManager(this.nc)).streams.info(this.stream);
    if (info.state.messages === 0) return;
    const last = info.state.last_seq;
    const counted: Array<[number, number]> = [];
    for await (const m of this.messages(last, true)) counted.push([m.seq, linesOf(m)]);
    // Lines in the messages after each one: how many of its own may still be read.
    const after = new Map<number, number>();
    let total = 0;
    for (let i = counted.length - 1; i >= 0; i--) {
      const [seq, n] = counted[i] as [number, number];
      after.set(seq, total);
      total += n;
    }
    for await (const m of this.messages(last, false)) {
      const room = this.maxEvents - (after.get(m.seq) ?? 0);
      if (room <= 0) continue;
      const lines = m.string().split('\n');
      for (const line of lines.length > room ? lines.slice(lines.length - room) : lines) yield line;
    }
  }

  /** Every message up to sequence `last`, oldest first; bodies left out when `headersOnly`. */
  private async *messages(last: number, headersOnly: boolean): AsyncIterable<JsMsg> {
    const consumer = await jetstream(this.nc).consumers.get(this.stream, {
      deliver_policy: DeliverPolicy.All,
      headers_only: headersOnly,
    });
    const messages = await consumer.consume({ max_messages: 1_000 });
    try {
      for await (const m of messages) {
        if (m.seq > last) break;
        yield m;
        if (m.seq >= last || m.info.pending === 0) break;
      }
    } finally {
      await messages.close();
      await consumer.delete().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    // The connection belongs to the cluster state, which closes it.
  }
}

function linesOf(m: JsMsg): number {
  const n = Number(m.headers?.get(LINES_HEADER) ?? '1');
  return Number.isSafeInteger(n) && n > 0 ? n : 1;
}

/**
 * Consecutive runs of `lines`, each at most `maxBytes` long once joined (a longer line alone). A line
 * never holds a newline: each is one NDJSON event (recent-events.ts stores a text as it came only
 * when it is one line).
 */
export function packLines(lines: readonly string[], maxBytes: number): string[][] {
  const packs: string[][] = [];
  let pack: string[] = [];
  let bytes = 0;
  for (const line of lines) {
    const size = Buffer.byteLength(line) + 1;
    if (pack.length > 0 && bytes + size > maxBytes) {
      packs.push(pack);
      pack = [];
      bytes = 0;
    }
    pack.push(line);
    bytes += size;
  }
  if (pack.length > 0) packs.push(pack);
  return packs;
}
