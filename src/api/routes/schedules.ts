// On-call schedules (docs/http-api.md, "Schedules"): the policy's schedules, who is on call at an
// instant, and the coverage gaps in a range. Read-only, from the active policy.
import Router from '@koa/router';
import type { Clock } from '../../domain/clock.js';
import { durationMs } from '../../domain/duration.js';
import { AppError } from '../../errors.js';
import { isDateTime } from '../../ingest/date-time.js';
import { layerPeople, onCallAt, type CompiledSchedule } from '../../oncall/index.js';
import { gapJson, scheduleGaps } from '../../oncall/coverage.js';
import { timeline } from '../../oncall/timeline.js';
import type { CompiledPolicy } from '../../policy/compile.js';
import { parseInstant } from './policy.js';
import { answer } from '../middleware.js';

/** How far `oncall` looks for the end of the current shift, and the longest range `gaps` takes. */
const SHIFT_LOOKAHEAD_MS = 35 * 86_400_000;
const MAX_GAP_RANGE_MS = 366 * 86_400_000;

export function schedulesRouter(deps: { policy: () => CompiledPolicy; clock: Clock }): Router {
  const router = new Router({ prefix: '/api/v1/schedules' });

  router.get('/', (ctx) => {
    const nowMs = deps.clock.now();
    const schedules = [...deps.policy().schedules.values()].map((s) => ({
      ...describeSchedule(s),
      on_call: onCallAt(s, nowMs),
    }));
    answer(ctx, { at: new Date(nowMs).toISOString(), schedules });
  });

  router.get('/:name/oncall', (ctx) => {
    const schedule = scheduleNamed(deps.policy(), ctx.params['name'] as string);
    const atMs = instantParam(ctx.query['at'], 'at') ?? deps.clock.now();
    const [shift] = timeline(schedule, atMs, atMs + SHIFT_LOOKAHEAD_MS);
    const until = shift === undefined || shift.endMs >= atMs + SHIFT_LOOKAHEAD_MS ? null : shift.endMs;
    answer(ctx, {
      schedule: schedule.name,
      at: new Date(atMs).toISOString(),
      on_call: onCallAt(schedule, atMs),
      until: until === null ? null : new Date(until).toISOString(),
      layers: schedule.layers.map((l) => ({ name: l.name, on_call: layerPeople(l, atMs) })),
    });
  });

  router.get('/:name/gaps', (ctx) => {
    const policy = deps.policy();
    const schedule = scheduleNamed(policy, ctx.params['name'] as string);
    const fromMs = instantParam(ctx.query['from'], 'from') ?? deps.clock.now();
    const toMs =
      instantParam(ctx.query['to'], 'to') ?? fromMs + durationMs(policy.settings.coverage_check.horizon);
    if (toMs <= fromMs) throw new AppError('validation_failed', 'to must be after from');
    if (toMs - fromMs > MAX_GAP_RANGE_MS)
      throw new AppError('validation_failed', 'from and to may be at most 366 days apart');
    answer(ctx, {
      schedule: schedule.name,
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      required: schedule.minCoverage,
      coverage_during: schedule.coverageDuring,
      gaps: scheduleGaps(policy, schedule, fromMs, toMs).map(gapJson),
    });
  });

  return router;
}

function describeSchedule(s: CompiledSchedule) {
  return {
    name: s.name,
    ...(s.description !== undefined ? { description: s.description } : {}),
    timezone: s.timezone,
    min_coverage: s.minCoverage,
    coverage_during: s.coverageDuring,
    layers: s.layers.map((l) => ({ name: l.name, mode: l.mode, members: l.rotation.members })),
    overrides: s.overrides.length,
  };
}

function scheduleNamed(policy: CompiledPolicy, name: string): CompiledSchedule {
  const schedule = policy.schedules.get(name);
  if (schedule !== undefined) return schedule;
  const known = [...policy.schedules.keys()];
  throw new AppError(
    'not_found',
    `no schedule named ${JSON.stringify(name)}; the policy has ${known.length === 0 ? 'none' : known.join(', ')}`,
  );
}

/**
 * An RFC 3339 query parameter, or undefined when absent; 400 for anything else (a repeated one
 * too). Date.parse alone would take 2026-02-30 as March 2nd.
 */
function instantParam(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  return parseInstant(typeof value === 'string' && isDateTime(value) ? value : null, field);
}
