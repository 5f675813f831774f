// The recent-events ring in cluster mode (docs/policy-diff.md, "The recent-events ring"): a stream
// `<CLUSTER_NAME>_recent` on a private subject, whose max_msgs and max_bytes JetStream enforces itself
// (discard old), so every replica's sample is in one place and any replica's API reads all of them.
import { DeliverPolicy, DiscardPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { RingBounds } from './leveldb-ring.js';
import type { RingStore } from './recent-events.js';

const OPEN_TIMEOUT_MS = 60_000;

export class JetStreamRing implements RingStore {
  private constructor(
    private readonly nc: NatsConnection,
    readonly stream: string,
    private readonly subject: string,
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
        return new JetStreamRing(nc, stream, subject);
      } catch (err) {
        if (Date.now() + wait >= deadline || nc.isClosed()) throw err;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  async append(lines: readonly string[]): Promise<void> {
    const js = jetstream(this.nc);
    // Published together, acknowledged together: one round trip's worth of waiting per batch.
    await Promise.all(lines.map((line) => js.publish(this.subject, line)));
  }

  async *read(): AsyncIterable<string> {
    const info = await (await jetstreamManager(this.nc)).streams.info(this.stream);
    if (info.state.messages === 0) return;
    const consumer = await jetstream(this.nc).consumers.get(this.stream, {
      deliver_policy: DeliverPolicy.All,
    });
    const messages = await consumer.consume({ max_messages: 1_000 });
    try {
      for await (const m of messages) {
        yield m.string();
        if (m.info.streamSequence >= info.state.last_seq || m.info.pending === 0) break;
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
