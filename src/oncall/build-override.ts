// A schedule's `overrides:` entry → its compiled form, or every problem with its path
// (docs/policy-language.md, "Overrides").
import type { IANAZone } from 'luxon';
import { unknownPerson, type BuildContext, type Path, type ScheduleProblem } from './build-context.js';
import type { CompiledOverride, OverrideAction } from './model.js';
import type { OverrideSpec } from './spec.js';
import { parseWallTime } from './wall-time.js';

export function buildOverride(
  spec: OverrideSpec,
  at: Path,
  zone: IANAZone,
  layers: ReadonlySet<string>,
  ctx: BuildContext,
  problems: ScheduleProblem[],
): CompiledOverride | null {
  const before = problems.length;
  const start = parseWallTime(spec.start, zone);
  const end = parseWallTime(spec.end, zone);
  if (!start.ok) problems.push({ path: [...at, 'start'], message: start.message });
  if (!end.ok) problems.push({ path: [...at, 'end'], message: end.message });
  if (start.ok && end.ok && end.instantMs <= start.instantMs)
    problems.push({
      path: [...at, 'end'],
      message: `the override ends (${spec.end}) before it starts (${spec.start})`,
    });
  const action = overrideAction(spec, at, problems);
  for (const key of ['add', 'remove', 'replace', 'with'] as const) {
    const person = spec[key];
    if (person !== undefined && !ctx.isPerson(person))
      problems.push({
        path: [...at, key],
        message: unknownPerson(person, ctx),
      });
  }
  if (spec.layer !== undefined && !layers.has(spec.layer))
    problems.push({
      path: [...at, 'layer'],
      message: `unknown layer ${JSON.stringify(spec.layer)} in this schedule`,
    });
  if (problems.length > before || !start.ok || !end.ok || action === null) return null;
  return { startMs: start.instantMs, endMs: end.instantMs, action, layer: spec.layer ?? null };
}

function overrideAction(spec: OverrideSpec, at: Path, problems: ScheduleProblem[]): OverrideAction | null {
  const given = (['add', 'remove', 'replace'] as const).filter((k) => spec[k] !== undefined);
  if (given.length !== 1) {
    problems.push({
      path: at,
      message: 'an override needs exactly one of add, remove or replace (with with)',
    });
    return null;
  }
  if ((spec.replace !== undefined) !== (spec.with !== undefined)) {
    problems.push({
      path: spec.with !== undefined ? [...at, 'with'] : at,
      message:
        spec.with !== undefined
          ? '"with" goes with replace only'
          : 'replace needs with: the person who takes over',
    });
    return null;
  }
  if (spec.add !== undefined) return { kind: 'add', person: spec.add };
  if (spec.remove !== undefined) return { kind: 'remove', person: spec.remove };
  return { kind: 'replace', person: spec.replace as string, with: spec.with as string };
}
