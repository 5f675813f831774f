// A JetStream stream's history as a diff source (docs/policy-diff.md, "Sources"). It reads with an
// ordered consumer: ephemeral, no acks (AckPolicy none), its own name, so the sidecar's durable
// consumer on the same stream neither loses nor shares a single message.
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { eventToInput } from '../domain/log-event.js';
import { parseEvent } from '../ingest/validate.js';
import type { SourceItem } from './diff.js';

export interface StreamReadOptions {
  stream: string;
  /** Messages stored at or after this instant. */
  sinceMs: number;
  /** Messages the client asks for at once. */
  batch?: number;
}

/**
 * Every message stored since `sinceMs` up to the stream's last message when the read began (what
 * arrives meanwhile is the next diff's business), each as an event or a problem naming its sequence.
 */
export async function* readStream(
  nc: NatsConnection,
  options: StreamReadOptions,
): AsyncGenerator<SourceItem> {
  const info = await (await jetstreamManager(nc)).streams.info(options.stream);
  const lastSeq = info.state.last_seq;
  if (info.state.messages === 0 || Date.parse(info.state.last_ts) < options.sinceMs) return;
  const consumer = await jetstream(nc).consumers.get(options.stream, {
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: new Date(options.sinceMs).toISOString(),
  });
  const messages = await consumer.consume({ max_messages: options.batch ?? 1_000 });
  try {
    for await (const m of messages) {
      const seq = m.info.streamSequence;
      const ref = `${options.stream}#${seq}`;
      const v = parseEvent(m.data);
      yield v.ok ? { input: eventToInput(v.value), ref } : { problem: { ref, message: v.errors.join('; ') } };
      if (seq >= lastSeq || m.info.pending === 0) break;
    }
  } finally {
    await messages.close();
    // Gone now rather than after its inactivity threshold: the stream lists only its real consumers.
    await consumer.delete().catch(() => undefined);
  }
}
