// One schedule as written → its compiled form, or every problem with its path inside the
// schedule (docs/policy-language.md, "On-call schedules"). The loader reports the problems
// (check.ts); compile.ts builds what loaded.
import { IANAZone } from 'luxon';
import { compileTimeWindow } from '../policy/time-windows.js';
import type { IntervalSpec } from '../policy/types.js';
import { buildOverride } from './build-override.js';
import { buildRotation } from './build-rotation.js';
import type { CompiledLayer, CompiledOverride, CompiledSchedule } from './model.js';
import { restrictionOf } from './restriction.js';
import type { LayerSpec, ScheduleSpec } from './spec.js';
import type { BuildContext, Path, ScheduleProblem } from './build-context.js';

export function buildSchedule(
  name: string,
  spec: ScheduleSpec,
  ctx: BuildContext,
): { schedule: CompiledSchedule | null; problems: ScheduleProblem[] } {
  const problems: ScheduleProblem[] = [];
  const zoneName = spec.timezone ?? ctx.defaultZone;
  const zone = IANAZone.isValidZone(zoneName) ? IANAZone.create(zoneName) : null;
  if (zone === null)
    problems.push({
      path: spec.timezone === undefined ? [] : ['timezone'],
      message: `unknown time zone ${JSON.stringify(zoneName)}: use an IANA name such as America/New_York`,
    });
  const usable = zone ?? IANAZone.create('UTC');
  const layers = spec.layers.map((layer, i) => buildLayer(name, layer, ['layers', i], usable, ctx, problems));
  checkLayerNames(spec.layers, problems);
  const everyone = spec.layers.flatMap((l) =>
    l.rotation.members.flatMap((m) => (typeof m === 'string' ? [m] : m)),
  );
  if (spec.layers.length === 0 || everyone.length === 0)
    problems.push({
      path: spec.layers.length === 0 ? ['layers'] : [],
      message: `schedule "${name}" has no members: give a layer a rotation with at least one person`,
    });
  const layerNames = new Set(spec.layers.map((l) => l.name));
  const overrides = (spec.overrides ?? []).map((o, i) =>
    buildOverride(o, ['overrides', i], usable, layerNames, ctx, problems),
  );
  if (problems.length > 0 || zone === null) return { schedule: null, problems };
  const pagerduty = spec.provider?.pagerduty?.routing_key;
  return {
    schedule: {
      name,
      timezone: zone.name,
      minCoverage: spec.min_coverage ?? 1,
      ...(pagerduty !== undefined && pagerduty !== ''
        ? { provider: { pagerduty: { routing_key: pagerduty } } }
        : {}),
      ...(spec.description !== undefined ? { description: spec.description } : {}),
      layers: layers as CompiledLayer[],
      overrides: overrides as CompiledOverride[],
      coverageDuring: spec.coverage_during ?? null,
    },
    problems,
  };
}

function checkLayerNames(layers: readonly LayerSpec[], problems: ScheduleProblem[]): void {
  const seen = new Set<string>();
  layers.forEach((layer, i) => {
    if (seen.has(layer.name))
      problems.push({
        path: ['layers', i, 'name'],
        message: `layer "${layer.name}" is defined twice in this schedule`,
      });
    seen.add(layer.name);
  });
}

function buildLayer(
  schedule: string,
  layer: LayerSpec,
  at: Path,
  zone: IANAZone,
  ctx: BuildContext,
  problems: ScheduleProblem[],
): CompiledLayer | null {
  const rotation = buildRotation(
    `${schedule}/${layer.name}`,
    layer.rotation,
    [...at, 'rotation'],
    zone,
    ctx,
    problems,
  );
  const restrict =
    layer.restrict === undefined
      ? null
      : buildRestriction(layer.restrict, [...at, 'restrict'], zone, problems);
  if (rotation === null || restrict === undefined) return null;
  return { name: layer.name, mode: layer.mode ?? 'add', rotation, restrict };
}

function buildRestriction(
  entries: IntervalSpec[],
  at: Path,
  zone: IANAZone,
  problems: ScheduleProblem[],
): ReturnType<typeof restrictionOf> | undefined {
  if (entries.length === 0) {
    problems.push({
      path: at,
      message: 'restrict is empty, so the layer would never be on call; leave it out to be on call always',
    });
    return undefined;
  }
  const compiled = compileTimeWindow('restrict', entries, zone.name);
  if (!compiled.ok) {
    for (const p of compiled.problems) problems.push({ path: [...at, ...p.path], message: p.message });
    return undefined;
  }
  return restrictionOf(compiled.window, entries, zone);
}
