// Times written in a schedule (a rotation's `start`, an override's `start` and `end`): a
// wall-clock time in the schedule's zone, "2026-01-05T09:00" (seconds optional; a bare date is its
// midnight), or an instant with an offset, "2026-01-05T09:00-05:00" or "…Z". A wall-clock time
// the zone skips or repeats is refused unless it carries an offset: which instant it means is the
// author's to say (docs/policy-language.md, "Hand-offs across DST").
import type { IANAZone } from 'luxon';
import { resolveLocal } from './local-time.js';

const WALL_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?(Z|[+-]\d{2}:\d{2})?$/;

export type WallTimeResult = { ok: true; instantMs: number } | { ok: false; message: string };

export function parseWallTime(text: string, zone: IANAZone): WallTimeResult {
  const m = WALL_TIME.exec(text);
  if (m === null)
    return { ok: false, message: `${JSON.stringify(text)} is not a time like "2026-01-05T09:00"` };
  const [y, mo, d, h = '00', mi = '00', s = '00'] = m.slice(1, 7) as string[];
  const parts = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const [year, month, day, hour, minute, second] = parts;
  const localMs = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(localMs);
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    !Number.isFinite(localMs)
  )
    return { ok: false, message: `${JSON.stringify(text)} is not a valid date and time` };
  const offset = m[7];
  if (offset !== undefined) {
    if (offset === 'Z') return { ok: true, instantMs: localMs };
    const sign = offset.startsWith('-') ? -1 : 1;
    const [oh, om] = offset.slice(1).split(':').map(Number) as [number, number];
    if (oh > 23 || om > 59) return { ok: false, message: `${JSON.stringify(text)} has an invalid offset` };
    return { ok: true, instantMs: localMs - sign * (oh * 60 + om) * 60_000 };
  }
  const resolved = resolveLocal(zone, localMs);
  if (resolved.kind === 'skipped')
    return {
      ok: false,
      message: `${JSON.stringify(text)} does not exist in ${zone.name} (the clocks skip it): choose another time or give an offset`,
    };
  if (resolved.kind === 'repeated')
    return {
      ok: false,
      message: `${JSON.stringify(text)} happens twice in ${zone.name} (the clocks go back): give an offset to say which`,
    };
  return { ok: true, instantMs: resolved.instantMs };
}
