// The error a compare-and-set (or a create of a key that exists) fails with.
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';

export function isConflict(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence;
}
