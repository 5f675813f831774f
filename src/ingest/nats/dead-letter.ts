// Dead letters (docs/nats.md, "Dead letters"): what could not be processed goes to
// `incident-router.dlq` with the raw payload, the reason, the subject and the time, and is counted.
// Never silently dropped.
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';

/** `failed`: valid, but processing it failed (core NATS cannot redeliver it). */
export type DeadLetterReason = 'invalid' | 'max_deliver' | 'failed';

/** nats-server's default when the server does not say. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
/** The payload's key, quotes and the truncation flag. */
const ENVELOPE_BYTES = 64;

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

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
    const head = {
      reason: letter.reason,
      errors: letter.errors.slice(0, 20),
      subject: letter.subject,
      received_at: new Date().toISOString(),
      size: letter.payload.byteLength,
      ...(letter.deliveries === undefined ? {} : { deliveries: letter.deliveries }),
    };
    // Raw bytes, whatever they are (invalid UTF-8 included), as many as fit: base64 grows them by a
    // third, and a dead letter over the server's max_payload could not be published at all.
    const room = (nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD) - jsonBytes(head) - ENVELOPE_BYTES;
    const keep = Math.max(0, Math.min(letter.payload.byteLength, Math.floor(room / 4) * 3));
    const body = {
      ...head,
      payload_base64: Buffer.from(letter.payload.subarray(0, keep)).toString('base64'),
      ...(keep < letter.payload.byteLength ? { payload_truncated: true } : {}),
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
