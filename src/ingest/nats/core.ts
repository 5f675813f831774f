// Core NATS (SPEC §6): a queue-group subscription on NATS_SUBJECT. At-most-once by nature: a
// message is gone once delivered, so a bounded queue drops (and counts) what the sidecar cannot
// take rather than growing memory without bound. JetStream mode is the no-loss mode.
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';
import type { DeadLetters } from './dead-letter.js';
import type { OrderedProcessor } from './processor.js';

export const QUEUE_GROUP = 'incident-router';
/** The longest the queue is worked without letting other work run. */
const SLICE_MS = 20;

export class CoreIngest {
  private sub: Subscription | null = null;
  private queue: Msg[] = [];
  private head = 0;
  private running = false;
  private readonly dropped;

  constructor(
    private readonly deps: {
      subject: string;
      maxPending: number;
      processor: OrderedProcessor;
      deadLetters: DeadLetters;
      metrics: Metrics;
      logger: Logger;
    },
  ) {
    this.dropped = deps.metrics.eventsDropped.tally('queue_full');
  }

  start(nc: NatsConnection): void {
    this.sub = nc.subscribe(this.deps.subject, {
      queue: QUEUE_GROUP,
      callback: (err, msg) => {
        if (err) {
          this.deps.logger.error(
            { event: 'nats_subscription_error', err: err.message },
            'NATS subscription error',
          );
          return;
        }
        this.enqueue(nc, msg);
      },
    });
    this.deps.logger.info(
      { event: 'nats_subscribed', subject: this.deps.subject, queue: QUEUE_GROUP },
      `subscribed to ${this.deps.subject} (core NATS, queue ${QUEUE_GROUP})`,
    );
  }

  private enqueue(nc: NatsConnection, msg: Msg): void {
    if (this.queue.length - this.head >= this.deps.maxPending) {
      this.dropped.inc();
      return;
    }
    this.queue.push(msg);
    if (!this.running) void this.run(nc);
  }

  private async run(nc: NatsConnection): Promise<void> {
    this.running = true;
    try {
      let sliceStart = performance.now();
      while (this.head < this.queue.length) {
        const msg = this.queue[this.head] as Msg;
        this.queue[this.head++] = undefined as unknown as Msg;
        if (this.head > 4096 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        const waiting = this.handle(nc, msg);
        if (waiting) await waiting;
        // Most events are handled synchronously; a long run of them must still let timers,
        // HTTP and the store's writes have their turn.
        if ((this.head & 255) === 0 && performance.now() - sliceStart > SLICE_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          sliceStart = performance.now();
        }
      }
    } finally {
      this.running = false;
    }
  }

  private handle(nc: NatsConnection, msg: Msg): Promise<void> | undefined {
    const v = this.deps.processor.validate(msg.data);
    if (!v.ok) {
      this.deps.deadLetters.publish(nc, {
        subject: msg.subject,
        payload: msg.data,
        reason: 'invalid',
        errors: v.errors,
      });
      return undefined;
    }
    return this.deps.processor.submit(v.value, (outcome) => {
      if (!outcome.ok)
        this.deps.logger.error(
          { event: 'event_failed', err: outcome.error, subject: msg.subject },
          'an event could not be processed (core NATS: not redelivered)',
        );
    });
  }

  depth(): number {
    return this.queue.length - this.head;
  }

  /** Stop taking messages; what is queued is still processed. */
  async stop(timeoutMs: number): Promise<void> {
    this.sub?.unsubscribe();
    this.sub = null;
    const deadline = Date.now() + timeoutMs;
    while ((this.running || this.depth() > 0) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
  }
}
