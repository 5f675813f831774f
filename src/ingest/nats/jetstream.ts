// JetStream mode (docs/nats.md, "JetStream mode"): a durable pull consumer. A message is acked only
// once its decision and deliveries are durably recorded; an internal failure naks it with a delay;
// after `max_deliver` it goes to the dead-letter subject and is terminated. This is the no-loss mode: a
// crash leaves unacked messages for redelivery, and provider-side dedup keys make re-processing safe.
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../../telemetry/logger.js';
import type { DeadLetters } from './dead-letter.js';
import { PerTurn } from './per-turn.js';
import type { OrderedProcessor } from './processor.js';

export interface JetStreamSettings {
  stream: string;
  durable: string;
  subject: string;
  maxDeliver: number;
  ackWaitMs: number;
  /** Messages the client buffers ahead (backpressure: it pulls only as we consume). */
  batch: number;
}

const NAK_DELAY_MS = 1_000;
const RETRY_SETUP_MS = 5_000;

export class JetStreamIngest {
  private messages: ConsumerMessages | null = null;
  private stopped = false;
  private ready = false;
  /** Acks, naks and terms, sent together once per event-loop turn. */
  private readonly settlements = new PerTurn();

  constructor(
    private readonly deps: {
      settings: JetStreamSettings;
      processor: OrderedProcessor;
      deadLetters: DeadLetters;
      logger: Logger;
    },
  ) {}

  start(nc: NatsConnection): void {
    void this.loop(nc);
  }

  isConsuming(): boolean {
    return this.ready;
  }

  private async loop(nc: NatsConnection): Promise<void> {
    const { settings, logger } = this.deps;
    while (!this.stopped && !nc.isClosed()) {
      try {
        await this.ensureConsumer(nc);
        const consumer = await jetstream(nc).consumers.get(settings.stream, settings.durable);
        this.messages = await consumer.consume({ max_messages: settings.batch });
        this.ready = true;
        logger.info(
          { event: 'jetstream_consuming', stream: settings.stream, durable: settings.durable },
          `consuming ${settings.stream} with durable ${settings.durable} (JetStream, at-least-once)`,
        );
        for await (const m of this.messages) {
          const waiting = this.handle(nc, m);
          if (waiting) await waiting;
          if (this.stopped) break;
        }
      } catch (err) {
        this.ready = false;
        if (this.stopped || nc.isClosed()) return;
        logger.error(
          { event: 'jetstream_setup_failed', err: (err as Error).message, stream: settings.stream },
          `JetStream consumer unavailable (${(err as Error).message}); retrying`,
        );
        await new Promise((r) => setTimeout(r, RETRY_SETUP_MS));
      }
    }
  }

  /** Create the durable consumer when it does not exist; bring its settings in line when it does. */
  private async ensureConsumer(nc: NatsConnection): Promise<void> {
    const { stream, durable, subject, maxDeliver, ackWaitMs } = this.deps.settings;
    const jsm = await jetstreamManager(nc);
    await jsm.streams.info(stream); // throws with a clear message when the stream is missing
    const wanted = {
      ack_wait: nanos(ackWaitMs),
      max_deliver: maxDeliver,
      filter_subject: subject,
      max_ack_pending: 10_000,
    };
    try {
      const info = await jsm.consumers.info(stream, durable);
      const c = info.config;
      if (
        c.ack_wait !== wanted.ack_wait ||
        c.max_deliver !== wanted.max_deliver ||
        c.filter_subject !== wanted.filter_subject
      ) {
        await jsm.consumers.update(stream, durable, wanted);
      }
    } catch {
      await jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ...wanted,
      });
    }
  }

  /**
   * One message, guarded: whatever it throws is that message's failure (nak, then the dead letter
   * after max_deliver), never the consumer's; the messages after it are not held back.
   */
  private handle(nc: NatsConnection, m: JsMsg): Promise<void> | undefined {
    try {
      return this.handleUnguarded(nc, m)?.catch((err: unknown) => this.failed(nc, m, err));
    } catch (err) {
      this.failed(nc, m, err);
      return undefined;
    }
  }

  private handleUnguarded(nc: NatsConnection, m: JsMsg): Promise<void> | undefined {
    const { processor, deadLetters } = this.deps;
    const v = processor.validate(m.data);
    if (!v.ok) {
      deadLetters.publish(nc, {
        subject: m.subject,
        payload: m.data,
        reason: 'invalid',
        errors: v.errors,
        deliveries: m.info.deliveryCount,
      });
      // Plain +TERM: nats-server 2.9 (Debian's) does not understand "+TERM <reason>" and would
      // redeliver the message after ack_wait. The reason travels in the dead letter instead.
      this.settlements.add(() => m.term());
      return undefined;
    }
    return processor.submit(
      v.value,
      (outcome) => {
        if (outcome.ok) this.settlements.add(() => m.ack());
        else this.failed(nc, m, outcome.error);
      },
      v.text,
    );
  }

  /** Redeliver later, or after max_deliver deliveries send it to the dead-letter subject. */
  private failed(nc: NatsConnection, m: JsMsg, err: unknown): void {
    const { deadLetters, settings, logger } = this.deps;
    const error = err instanceof Error ? err.message : String(err);
    if (m.info.deliveryCount >= settings.maxDeliver) {
      deadLetters.publish(nc, {
        subject: m.subject,
        payload: m.data,
        reason: 'max_deliver',
        errors: [error],
        deliveries: m.info.deliveryCount,
      });
      this.settlements.add(() => m.term());
    } else {
      logger.warn(
        { event: 'event_nak', error, deliveries: m.info.deliveryCount },
        'event failed; redelivering later',
      );
      this.settlements.add(() => m.nak(NAK_DELAY_MS));
    }
  }

  /** Send every pending ack, nak and term now (before the connection closes). */
  flush(): void {
    this.settlements.flush();
  }

  /** Stop pulling; what was taken finishes (and is acked) in the processor. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.ready = false;
    await this.messages?.close().catch(() => undefined);
    this.messages = null;
  }
}
