// Cron entries: `{cron: "0 2 * * SUN", duration: "2h", location?: "UTC"}`. The window opens at each
// fire of the expression (in the entry's zone) and stays open for `duration` of real time, so a
// 2h window that opens just before a clock change still lasts two hours. An instant is inside when
// the latest fire at or before it, plus the duration, is after it.
import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { cronFieldCountProblem } from '../../domain/cron-fields.js';
import { parseDuration } from '../../domain/duration.js';
import { CronSchedule } from './cron-schedule.js';
import { describe, resolveZone, type EntryMatcher, type Path, type Problems } from './shared.js';

export interface CronContext {
  /** The window's name seeds Jenkins-style `H` fields, so they stay put across restarts. */
  readonly windowName: string;
  readonly defaultZone: string;
}

// Compiling checks that the expression fires at all, from a fixed instant so it is deterministic.
const PROBE_FROM_MS = Date.UTC(2026, 0, 1);

export function compileCron(
  entry: Record<string, unknown>,
  at: Path,
  context: CronContext,
  problems: Problems,
): EntryMatcher | null {
  const before = problems.length;
  const zone = resolveZone(entry, at, context.defaultZone, problems);
  // An unknown zone is reported above; the expression is still checked, in UTC.
  const expression = compileExpression(entry, at, zone === null ? 'UTC' : zone.name, context, problems);
  const durationMs = compileDuration(entry, at, problems);
  if (problems.length > before || zone === null || expression === null || durationMs === null) return null;
  return cronMatcher(new CronSchedule(expression, zone), durationMs);
}

/** Most calls land in the span looked up last and cost two comparisons. */
function cronMatcher(schedule: CronSchedule, durationMs: number): EntryMatcher {
  let cached: { startMs: number; endMs: number; nextMs: number } | null = null;
  return {
    contains(instantMs) {
      if (cached === null || instantMs < cached.startMs || instantMs >= cached.nextMs) {
        const span = schedule.spanAt(instantMs);
        if (span === null) return false;
        cached = { startMs: span.startMs, endMs: span.startMs + durationMs, nextMs: span.nextMs };
      }
      return instantMs < cached.endMs;
    },
  };
}

function compileExpression(
  entry: Record<string, unknown>,
  at: Path,
  tz: string,
  context: CronContext,
  problems: Problems,
): CronExpression | null {
  const path = [...at, 'cron'];
  if (!Object.hasOwn(entry, 'cron')) {
    problems.push({
      path,
      message: 'a cron window needs a cron expression next to its duration, like cron: "0 2 * * SUN"',
    });
    return null;
  }
  const text = entry['cron'];
  if (typeof text !== 'string') {
    problems.push({ path, message: `cron must be text like "0 2 * * SUN", got ${describe(text)}` });
    return null;
  }
  const fieldCount = cronFieldCountProblem(text);
  if (fieldCount !== null) {
    problems.push({ path, message: fieldCount });
    return null;
  }
  try {
    const options = { currentDate: PROBE_FROM_MS, tz, hashSeed: `time-window:${context.windowName}` };
    const expression = CronExpressionParser.parse(text, options);
    expression.next();
    return expression;
  } catch (err) {
    problems.push({
      path,
      message: `invalid cron "${text}": ${err instanceof Error ? err.message : String(err)}`,
    });
    return null;
  }
}

function compileDuration(entry: Record<string, unknown>, at: Path, problems: Problems): number | null {
  const path = [...at, 'duration'];
  if (!Object.hasOwn(entry, 'duration')) {
    problems.push({ path, message: 'a cron window needs a duration, like duration: 2h' });
    return null;
  }
  const text = entry['duration'];
  const ms = typeof text === 'string' ? parseDuration(text) : null;
  if (ms === null) {
    problems.push({ path, message: `duration ${describe(text)} is not a duration like 30m, 2h, 1h30m` });
    return null;
  }
  if (ms === 0) {
    problems.push({ path, message: `duration "${text as string}" must be longer than zero` });
    return null;
  }
  return ms;
}
