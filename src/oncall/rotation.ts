// Rotations: who of the members holds a layer at an instant (docs/policy-language.md, "On-call
// schedules"). Hand-offs are wall-clock times in the schedule's zone: `every: 1w` hands off at
// the start's wall-clock time each week (167 h across spring-forward, 169 h across fall-back),
// `every: 12h` every twelve hours of wall clock, `handoff: {cron}` at each fire of the expression
// read as wall clock. Wall-clock times the zone skips or repeats resolve as local-time.ts says.
import type { IANAZone } from 'luxon';
import { cronFires } from './cron-fires.js';
import { fromLocal, toLocal } from './local-time.js';
import type { Rotation } from './model.js';

type Members = readonly (readonly string[])[];

/** Hand-offs every `everyMs` of wall clock from the start (`everyMs` a whole number of minutes). */
export function everyRotation(zone: IANAZone, members: Members, startMs: number, everyMs: number): Rotation {
  const startLocal = toLocal(zone, startMs);
  const handoff = (k: number): number => (k === 0 ? startMs : fromLocal(zone, startLocal + k * everyMs));
  // The last turn found, as the instants it runs between: most lookups fall in it (the one on call
  // now, asked at every open), and finding a turn costs several zone offsets (Intl) otherwise.
  let known = { k: -1, fromMs: Infinity, toMs: -Infinity };
  const turnAt = (atMs: number): number => {
    if (!(atMs >= startMs)) return -1;
    if (atMs >= known.fromMs && atMs < known.toMs) return known.k;
    let k = Math.max(0, Math.floor((toLocal(zone, atMs) - startLocal) / everyMs));
    // The local estimate is off by at most one turn near a clock change; hand-offs are monotonic.
    while (k > 0 && handoff(k) > atMs) k--;
    let next = handoff(k + 1);
    while (next <= atMs) next = handoff(++k + 1);
    known = { k, fromMs: handoff(k), toMs: next };
    return k;
  };
  return {
    members,
    startMs,
    turnAt,
    handoffs(fromMs, toMs) {
      const out: number[] = [];
      let k = Math.max(0, turnAt(fromMs));
      if (handoff(k) < fromMs) k++;
      for (let at = handoff(k); at < toMs; at = handoff(++k))
        if (at >= fromMs && at !== out.at(-1)) out.push(at);
      return out;
    },
  };
}

/** Fires of a 5-field cron expression computed this far, per rotation; beyond it they are refused. */
export const MAX_CRON_HANDOFFS = 1_000_000;

/**
 * Hand-offs at each fire of `cron` after the start, read as wall clock in the zone. The fires are
 * stepped in local time (cron-fires.ts) so that each wall-clock time fires once (a repeated hour
 * does not fire twice) and then placed with `fromLocal`; they are kept, so the turn at an instant
 * is a binary search.
 */
export function cronRotation(
  zone: IANAZone,
  members: Members,
  startMs: number,
  cron: string,
  hashSeed: string,
): Rotation {
  const nextFire = cronFires(cron, toLocal(zone, startMs), hashSeed);
  const fires: number[] = [startMs];
  let exhausted = false;
  const extendPast = (atMs: number): void => {
    while (!exhausted && (fires.at(-1) as number) <= atMs) {
      if (fires.length >= MAX_CRON_HANDOFFS) throw new RangeError(`more than ${MAX_CRON_HANDOFFS} hand-offs`);
      const localMs = nextFire();
      if (localMs === null) {
        exhausted = true;
        break;
      }
      const next = fromLocal(zone, localMs);
      // Fires the zone skips all land on its transition instant; each still counts as a turn, so
      // the rotation stays aligned to the wall clock (as with `every`).
      if (next >= (fires.at(-1) as number)) fires.push(next);
    }
  };
  const lastAtOrBefore = (atMs: number): number => {
    extendPast(atMs);
    let lo = 0;
    let hi = fires.length - 1;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if ((fires[mid] as number) <= atMs) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  return {
    members,
    startMs,
    turnAt: (atMs) => (atMs >= startMs ? lastAtOrBefore(atMs) : -1),
    handoffs(fromMs, toMs) {
      if (toMs <= fromMs) return [];
      extendPast(toMs);
      return fires.filter((at, i) => at >= fromMs && at < toMs && at !== fires[i - 1]);
    },
  };
}
