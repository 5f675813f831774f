// A layer's `rotation:` → its Rotation, or every problem with its path (docs/policy-language.md,
// "Rotations"): members known, a start that exists in the zone, exactly one of `every` or a
// hand-off cron, and a cron that hands off at most hourly.
import { CronExpressionParser } from 'cron-parser';
import type { IANAZone } from 'luxon';
import { cronFieldCountProblem } from '../domain/cron-fields.js';
import { parseDuration } from '../domain/duration.js';
import { unknownPerson, type BuildContext, type Path, type ScheduleProblem } from './build-context.js';
import { toLocal } from './local-time.js';
import type { Rotation } from './model.js';
import { cronRotation, everyRotation } from './rotation.js';
import type { RotationSpec } from './spec.js';
import { parseWallTime } from './wall-time.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

export function buildRotation(
  seed: string,
  spec: RotationSpec,
  at: Path,
  zone: IANAZone,
  ctx: BuildContext,
  problems: ScheduleProblem[],
): Rotation | null {
  const before = problems.length;
  if (spec.members.length === 0)
    problems.push({ path: [...at, 'members'], message: 'a rotation needs at least one member' });
  const members = spec.members.map((m, i) => {
    const group = typeof m === 'string' ? [m] : m;
    group.forEach((person, j) => {
      if (!ctx.isPerson(person))
        problems.push({
          path: typeof m === 'string' ? [...at, 'members', i] : [...at, 'members', i, j],
          message: unknownPerson(person, ctx),
        });
    });
    if (new Set(group).size < group.length)
      problems.push({ path: [...at, 'members', i], message: 'a person is listed twice in this group' });
    return group;
  });
  const start = parseWallTime(spec.start, zone);
  if (!start.ok) problems.push({ path: [...at, 'start'], message: start.message });
  const hasEvery = spec.every !== undefined;
  if (hasEvery === (spec.handoff !== undefined))
    problems.push({
      path: at,
      message: 'a rotation needs exactly one of every (a length such as 1w, 1d, 12h) or handoff: {cron: ...}',
    });
  const everyMs = hasEvery ? everyLength(spec.every as string, [...at, 'every'], problems) : null;
  const cron =
    spec.handoff === undefined ? null : checkCron(spec.handoff.cron, [...at, 'handoff', 'cron'], problems);
  if (problems.length > before || !start.ok) return null;
  if (everyMs !== null) return everyRotation(zone, members, start.instantMs, everyMs);
  if (cron === null) return null;
  const hashSeed = `schedule:${seed}`; // what `H` in the cron stands for, here as in the rotation
  checkCronPace(cron, toLocal(zone, start.instantMs), hashSeed, [...at, 'handoff', 'cron'], problems);
  return problems.length > before ? null : cronRotation(zone, members, start.instantMs, cron, hashSeed);
}

function everyLength(text: string, at: Path, problems: ScheduleProblem[]): number | null {
  const ms = parseDuration(text);
  if (ms === null) problems.push({ path: at, message: `${JSON.stringify(text)} is too long` });
  else if (ms === 0) problems.push({ path: at, message: 'a rotation length must be longer than zero' });
  else if (ms < HOUR_MS)
    // Shorter turns are a ticking clock, not a rotation, and would make timelines huge.
    problems.push({
      path: at,
      message: `a rotation length must be at least 1h; ${JSON.stringify(text)} is shorter`,
    });
  else if (ms % MINUTE_MS !== 0)
    problems.push({
      path: at,
      message: `a rotation length is whole minutes of wall clock; ${JSON.stringify(text)} is not`,
    });
  else return ms;
  return null;
}

/** Exactly five fields (cron-fields.ts), and valid. */
function checkCron(text: string, at: Path, problems: ScheduleProblem[]): string | null {
  const fieldCount = cronFieldCountProblem(text);
  if (fieldCount !== null) {
    problems.push({ path: at, message: fieldCount });
    return null;
  }
  try {
    CronExpressionParser.parse(text, { currentDate: Date.UTC(2026, 0, 1), tz: 'UTC' }).next();
    return text;
  } catch (err) {
    problems.push({
      path: at,
      message: `invalid cron "${text}": ${err instanceof Error ? err.message : String(err)}`,
    });
    return null;
  }
}

/**
 * Turns are counted from the start, fire by fire, so a cron that fires more than hourly (a
 * ticking clock, not a hand-off) is refused; so is one that does not fire within a year. With one
 * minute value two fires are at least an hour apart; with several, every hour that fires fires
 * more than once. So the fields answer it (walking the fires one by one cost 60 ms a start with a
 * weekly cron: cron-parser steps day by day).
 */
function checkCronPace(
  cron: string,
  startLocalMs: number,
  hashSeed: string,
  at: Path,
  problems: ScheduleProblem[],
): void {
  const expression = CronExpressionParser.parse(cron, { currentDate: startLocalMs, tz: 'UTC', hashSeed });
  let first: number;
  try {
    first = expression.next().getTime();
  } catch {
    first = Number.POSITIVE_INFINITY;
  }
  if (first - startLocalMs > 366 * 86_400_000)
    problems.push({ path: at, message: `cron "${cron}" does not hand off within a year of the start` });
  else if (expression.fields.minute.values.length > 1)
    problems.push({
      path: at,
      message: `cron "${cron}" hands off more than once an hour: a turn lasts at least an hour`,
    });
}
