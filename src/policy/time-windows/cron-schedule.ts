// Where a cron window stands at an instant: the latest fire at or before it, and the fire after.
//
// The fires are those cron-parser's next() yields when stepped forward from the past, which is
// what a scheduler would see. Across DST (docs/policy-language.md, "Time windows"; checked with
// cron-parser 5.10.5 on the 2026 dates in tests/policy/time-windows.test.ts):
// - a fire in the skipped hour moves forward by the gap: "30 2 * * *" fires at 03:30 on
//   Europe/Berlin's 2026-03-29 and on America/New_York's 2026-03-08;
// - a fire in the repeated hour happens once, at its first occurrence ("30 2 * * *" in Berlin on
//   2026-10-25 fires at 02:30+02:00 only), while a wildcard hour keeps firing through the repeated
//   hour in real time ("*/15 * * * *" fires at 02:45+02:00, then at 02:00+01:00).
// prev() disagrees on both days: it skips the moved fire and fires twice in the repeated hour. And
// next() started inside the repeated hour yields that hour's second occurrence. So prev() only
// gives a hint, the walk starts before the hint and away from any recent offset change, and next()
// decides.
import type { CronExpression } from 'cron-parser';
import type { IANAZone } from 'luxon';

export interface FireSpan {
  /** The latest fire at or before the instant. */
  readonly startMs: number;
  /** The first fire after the instant, Infinity when there is none. */
  readonly nextMs: number;
}

// A repeated hour lasts as long as the offset change: one hour almost everywhere, two for the
// historical double summer times. Starting three hours after a change is outside any of them.
const SETTLE_MS = 3 * 3_600_000;
const MAX_SETTLE_STEPS = 4;
// Bounds the walk from a hint to the instant: the hint is the latest fire prev() sees, at most
// MAX_SETTLE_STEPS * SETTLE_MS earlier once settled, so even an every-minute cron walks < 800 fires.
const MAX_WALK_STEPS = 2_000;
const MAX_HINTS = 4;
// Instants mostly come in time order, so the iterator carries on from the last span's end. Each
// cron-parser step costs 50-500 µs (more for sparse expressions; measured on 5.10.5), about a
// third of a search, so past a few fires a search is cheaper.
const MAX_CONTINUE_STEPS = 4;

export class CronSchedule {
  /** The span returned last; the iterator then stands at its `nextMs`. */
  private last: FireSpan | null = null;

  constructor(
    private readonly expression: CronExpression,
    private readonly zone: IANAZone,
  ) {}

  /** The fire span covering `instantMs`, or null when the schedule never fired before it. */
  spanAt(instantMs: number): FireSpan | null {
    const last = this.last;
    const carriedOn =
      last !== null && instantMs >= last.nextMs
        ? this.stepPast(last.nextMs, instantMs, MAX_CONTINUE_STEPS)
        : null;
    this.last = carriedOn ?? this.search(instantMs);
    return this.last;
  }

  private search(instantMs: number): FireSpan | null {
    // prev() looks strictly before its start; one millisecond later makes it "at or before".
    let searchBeforeMs = instantMs + 1;
    for (let hint = 0; hint < MAX_HINTS; hint++) {
      const hintMs = this.reset(searchBeforeMs) ? this.step('prev') : null;
      if (hintMs === null) return null;
      const fromMs = this.settledBefore(hintMs);
      const span = this.reset(fromMs) ? this.stepPast(null, instantMs, MAX_WALK_STEPS) : null;
      if (span !== null) return span;
      searchBeforeMs = fromMs;
    }
    return null;
  }

  /**
   * Steps the iterator forward until it passes `instantMs`; `latestMs` is the latest fire so far.
   * One iterator throughout: resetting it at each fire would differ, because after fires moved by
   * a gap (every 15 minutes of hour 2 fires at 03:00, 03:15, … on spring-forward day) only the
   * running iterator still knows it is in the skipped hour.
   */
  private stepPast(latestMs: number | null, instantMs: number, maxSteps: number): FireSpan | null {
    let startMs = latestMs;
    for (let steps = 0; steps < maxSteps; steps++) {
      const fireMs = this.step('next');
      if (fireMs === null || fireMs > instantMs) {
        return startMs === null ? null : { startMs, nextMs: fireMs ?? Number.POSITIVE_INFINITY };
      }
      startMs = fireMs;
    }
    return null;
  }

  /** Just before `fireMs`, moved back until no offset change happened in the SETTLE_MS before. */
  private settledBefore(fireMs: number): number {
    let fromMs = fireMs - 1;
    for (let steps = 0; steps < MAX_SETTLE_STEPS; steps++) {
      if (this.zone.offset(fromMs - SETTLE_MS) === this.zone.offset(fromMs)) break;
      fromMs -= SETTLE_MS;
    }
    return fromMs;
  }

  private reset(fromMs: number): boolean {
    try {
      this.expression.reset(new Date(fromMs));
      return true;
    } catch {
      return false;
    }
  }

  /** The iterator's next or previous fire; null when cron-parser finds none. */
  private step(direction: 'next' | 'prev'): number | null {
    try {
      return (direction === 'next' ? this.expression.next() : this.expression.prev()).getTime();
    } catch {
      // "Invalid expression, loop limit exceeded" or a date out of range: no fire to find.
      return null;
    }
  }
}
