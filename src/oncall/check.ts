// The loader's checks of `people:`, `schedules:` and `settings.coverage_check`
// (docs/policy-language.md, "On-call schedules"), each problem at its `file:line:col`.
import { parseDuration } from '../domain/duration.js';
import type { CheckContext } from '../policy/load/context.js';
import { isKnown } from '../policy/load/context.js';
import { isPlainObject } from '../policy/load/merge.js';
import { atPath } from '../policy/load/report.js';
import { didYouMean } from '../policy/load/suggest.js';
import { checkSecret } from '../policy/load/check-catalog.js';
import type { Item } from '../policy/load/merge.js';
import { buildSchedule } from './build.js';
import type { ScheduleSpec } from './spec.js';

export function checkOnCall(ctx: CheckContext): void {
  checkCoverageSettings(ctx);
  for (const [name, item] of ctx.merged.maps.people)
    checkRoutingKey(ctx, item, ['pagerduty'], `person "${name}"`);
  for (const [name, item] of ctx.merged.maps.schedules)
    checkRoutingKey(ctx, item, ['provider', 'pagerduty'], `schedule "${name}"`);
  const people = ctx.merged.maps.people;
  const windows = ctx.merged.maps.time_windows;
  for (const [name, item] of ctx.merged.maps.schedules) {
    if (!item.valid) continue;
    const spec = item.value as ScheduleSpec;
    const { problems } = buildSchedule(name, spec, {
      defaultZone: ctx.settings.timezone,
      isPerson: (person) => isKnown(ctx, people, person),
      suggestPerson: (person) => didYouMean(person, people.keys()),
    });
    for (const problem of problems) {
      const path = [...item.path, ...problem.path];
      ctx.report.error({ file: item.file, path }, atPath(path, problem.message));
    }
    warnUnreachableCoverage(ctx, name, spec, item);
    const during = spec.coverage_during;
    if (during === undefined) continue;
    ctx.used.windows.add(during);
    if (!isKnown(ctx, windows, during)) {
      const path = [...item.path, 'coverage_during'];
      ctx.report.error(
        { file: item.file, path },
        atPath(path, `unknown time window "${during}"${didYouMean(during, [...windows.keys()])}`),
      );
    }
  }
}

function checkCoverageSettings(ctx: CheckContext): void {
  const item = ctx.merged.settings;
  if (item === null || !isPlainObject(item.value)) return;
  const check = item.value['coverage_check'];
  if (!isPlainObject(check)) return;
  for (const key of ['every', 'horizon']) {
    const text = check[key];
    if (typeof text !== 'string') continue;
    const ms = parseDuration(text);
    const problem = ms === 0 ? 'must be longer than zero' : ms === null ? 'is too long' : null;
    const path = ['settings', 'coverage_check', key];
    if (problem !== null) ctx.report.error({ file: item.file, path }, atPath(path, problem));
  }
}

/** A PagerDuty key is 32 letters and digits, as a provider's is; empty means none. */
function checkRoutingKey(ctx: CheckContext, item: Item, path: string[], label: string): void {
  const fields = path.reduce<unknown>((v, k) => (isPlainObject(v) ? v[k] : undefined), item.value);
  if (!isPlainObject(fields)) return;
  const at = (...more: (string | number)[]) => ({ file: item.file, path: [...item.path, ...path, ...more] });
  checkSecret(ctx, fields, 'routing_key', at, label, true);
}

/** More people required than the schedule can ever have on call: a gap at every moment. */
function warnUnreachableCoverage(ctx: CheckContext, name: string, spec: ScheduleSpec, item: Item): void {
  const required = spec.min_coverage ?? 1;
  const people = new Set(spec.layers.flatMap((l) => l.rotation.members.flat()));
  for (const o of spec.overrides ?? []) for (const p of [o.add, o.with]) if (p !== undefined) people.add(p);
  if (people.size === 0 || required <= people.size) return;
  ctx.report.warn(
    { file: item.file, path: [...item.path, 'min_coverage'] },
    `schedule "${name}" requires ${required} people on call but names only ${people.size}: it is short at every moment`,
  );
}
