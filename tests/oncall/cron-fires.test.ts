// A rotation's hand-off fires read from the cron's fields (src/oncall/cron-fires.ts) are the fires
// cron-parser's next() steps to, for every expression: 1,200 expressions built from the fields'
// usual forms, from start instants across leap years, 40 fires each.
import { CronExpressionParser } from 'cron-parser';
import { describe, expect, it } from 'vitest';
import { cronFires } from '../../src/oncall/cron-fires.js';
import { rng } from '../helpers/random.js';

const MINUTES = ['0', '30', '*/15', '5,35', '0-10/5', '59', 'H'];
const HOURS = ['*', '10', '9,21', '*/6', '1-5', '23', 'H'];
const DOMS = ['*', '1', '15', '1-7', '31', '*/10', '?', '29', '1-31', 'L'];
const MONTHS = ['*', '2', '1,7', '*/3', 'JAN-MAR', '12'];
const DOWS = ['*', 'MON', '1-5', '0', '7', 'SAT,SUN', '?', '*/2', 'MON#2', '5L'];

/** cron-parser's own fires: what the rotation stepped before, and still steps for `L` and `#`. */
function referenceFires(cron: string, afterMs: number, hashSeed: string, n: number): (number | null)[] {
  const expression = CronExpressionParser.parse(cron, {
    currentDate: new Date(afterMs),
    tz: 'UTC',
    hashSeed,
  });
  const out: (number | null)[] = [];
  for (let i = 0; i < n; i++) {
    try {
      out.push(expression.next().getTime());
    } catch {
      out.push(null);
      break;
    }
  }
  return out;
}

function fires(cron: string, afterMs: number, hashSeed: string, n: number): (number | null)[] {
  const next = cronFires(cron, afterMs, hashSeed);
  const out: (number | null)[] = [];
  for (let i = 0; i < n; i++) {
    const at = next();
    out.push(at);
    if (at === null) break;
  }
  return out;
}

describe('cron fires', () => {
  it('are the fires cron-parser steps to, for plain values and for L and #', () => {
    const rnd = rng(20261206); // seeded: a failure names a case that can be run again
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    let compared = 0;
    for (let i = 0; i < 1_200; i++) {
      const cron = [pick(MINUTES), pick(HOURS), pick(DOMS), pick(MONTHS), pick(DOWS)].join(' ');
      // Start instants between 2024 and 2030 (two leap days), not on whole minutes.
      const afterMs = Date.UTC(2024, 0, 1) + Math.floor(rnd() * 7 * 365 * 86_400_000);
      const seed = `schedule:s${i}`;
      let want: (number | null)[];
      try {
        want = referenceFires(cron, afterMs, seed, 40);
      } catch {
        continue; // an expression cron-parser refuses (the policy refuses it too)
      }
      const iso = (xs: (number | null)[]) => xs.map((x) => (x === null ? null : new Date(x).toISOString()));
      expect(iso(fires(cron, afterMs, seed, 40)), `${cron} after ${new Date(afterMs).toISOString()}`).toEqual(
        iso(want),
      );
      compared++;
    }
    expect(compared).toBeGreaterThan(900);
  });

  it('a fire exactly at the start is not a fire after it; fires fall on whole minutes', () => {
    const monday10 = Date.UTC(2026, 0, 5, 10);
    expect(fires('0 10 * * MON', monday10, 's', 2)).toEqual([
      monday10 + 7 * 86_400_000,
      monday10 + 14 * 86_400_000,
    ]);
    expect(fires('0 10 * * MON', monday10 - 1, 's', 1)).toEqual([monday10]);
  });

  it('a leap day comes, years later', () => {
    expect(fires('0 0 29 2 *', Date.UTC(2026, 0, 1), 's', 1)).toEqual([Date.UTC(2028, 1, 29)]);
  });

  it('an hourly hand-off three years old is counted without stepping cron-parser', () => {
    // 26,000 fires: cron-parser alone took over half a second for these; the fields take milliseconds.
    // Not a timing assertion: the count and the last fire are what is checked.
    const next = cronFires('0 * * * *', Date.UTC(2024, 0, 1));
    let last = 0;
    let count = 0;
    for (let at = next(); at !== null && at <= Date.UTC(2027, 0, 1); at = next()) {
      last = at;
      count++;
    }
    expect(count).toBe((365 * 3 + 1) * 24);
    expect(last).toBe(Date.UTC(2027, 0, 1));
  });
});
