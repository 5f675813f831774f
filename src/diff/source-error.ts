/** A diff source that cannot be read at all (a missing file, NATS away, a locked data directory): exit 2. */
export class SourceError extends Error {
  override readonly name = 'SourceError';
}
