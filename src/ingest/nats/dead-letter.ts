// Dead letters (docs/nats.md, "Dead letters"): what could not be processed goes to
// `incident-router.dlq` with the raw payload, the reason, the subject and the time, and is counted.
// Never silently dropped.
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';

/** `failed`: valid, but processing it failed (core NATS cannot redeliver it). */
export type DeadLetterReason = 'invalid' | 'max_deliver' | 'failed';

export class DeadLetters {
  private logged = 0;

  constructor(private readonly deps: { subject: string; metrics: Metrics; logger: Logger }) {}

  publish(
    nc: NatsConnection,
    letter: {
      subject: string;
      payload: Uint8Array;
      reason: DeadLetterReason;
      errors: string[];
      deliveries?: number;
    },
  ): void {
    const body = {
      reason: letter.reason,
      errors: letter.errors,
      subject: letter.subject,
      received_at: new Date().toISOString(),
      size: letter.payload.byteLength,
      // Raw bytes, whatever they are (invalid UTF-8 included).
      payload_base64: Buffer.from(letter.payload).toString('base64'),
      ...(letter.deliveries === undefined ? {} : { deliveries: letter.deliveries }),
    };
    try {
      nc.publish(this.deps.subject, JSON.stringify(body));
    } catch (err) {
      // Closed or draining: the message came on this connection, and goes with it (still counted
      // as invalid); the ingest loop must not stop over it.
      this.deps.logger.warn(
        { event: 'dead_letter_unsent', reason: letter.reason, err: (err as Error).message },
        'dead letter not sent: the NATS connection is closing',
      );
      return;
    }
    this.deps.metrics.deadLetters.inc({ reason: letter.reason });
    // One line per 1,000 so a flood of garbage cannot flood the log.
    if (this.logged++ % 1000 === 0) {
      this.deps.logger.warn(
        {
          event: 'dead_letter',
          reason: letter.reason,
          subject: letter.subject,
          errors: letter.errors.slice(0, 3),
          total: this.logged,
        },
        `dead letter (${letter.reason}): ${letter.errors[0] ?? ''}`,
      );
    }
  }
}
