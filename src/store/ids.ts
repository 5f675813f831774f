// Time-sortable ids, ULID-like: `<prefix>_<ms: 9 base36><counter: 4 base36><random: 6 base36>`.
// Every part is fixed-width, so comparing ids as strings compares creation times. The store leans
// on that: reverse key order lists incidents newest first, and the outbox loads oldest first.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../domain/clock.js';
import { RandomPool } from '../domain/random-pool.js';

const TIME_CHARS = 9; // 36^9 ms reaches past the year 3000
const COUNTER_CHARS = 4;
const COUNTER_LIMIT = 36 ** COUNTER_CHARS; // ids per millisecond before borrowing the next one
const RANDOM_CHARS = 6;
const RANDOM_LIMIT = 36 ** RANDOM_CHARS;

export type IdPrefix = 'inc' | 'd';

/** Makes ids that increase strictly within one process, even when the clock stalls or steps back. */
export class IdGenerator {
  private lastMs = 0;
  private counter = 0;
  private readonly random = new RandomPool();

  constructor(private readonly clock: Clock) {}

  incidentId(): string {
    return this.next('inc');
  }

  deliveryId(): string {
    return this.next('d');
  }

  /** Correlation ids travel to other systems; they need uniqueness, not order. */
  correlationId(): string {
    return randomUUID();
  }

  private next(prefix: IdPrefix): string {
    const now = this.clock.now();
    if (now > this.lastMs) {
      this.lastMs = now;
      this.counter = 0;
    } else if (++this.counter >= COUNTER_LIMIT) {
      this.lastMs += 1;
      this.counter = 0;
    }
    // The random tail keeps ids unique across restarts, where the counter starts again at 0.
    const random = this.random.uint32() % RANDOM_LIMIT;
    return `${prefix}_${base36(this.lastMs, TIME_CHARS)}${base36(this.counter, COUNTER_CHARS)}${base36(random, RANDOM_CHARS)}`;
  }
}

/** The creation time encoded in an id made by IdGenerator, or null for any other string. */
export function idTimeMs(id: string): number | null {
  const match = /^[a-z]+_([0-9a-z]{9})[0-9a-z]{10}$/.exec(id);
  return match ? parseInt(match[1] as string, 36) : null;
}

function base36(value: number, width: number): string {
  return value.toString(36).padStart(width, '0');
}

/** The smallest incident id of `ms`: every incident created before it sorts below. */
export function idAt(ms: number, prefix: IdPrefix = 'inc'): string {
  return `${prefix}_${base36(Math.max(0, Math.floor(ms)), TIME_CHARS)}`;
}
