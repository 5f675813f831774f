// `oncall <schedule> [--at time] [--policy dir]`, and the coverage warnings of `validate`
// (docs/policy-language.md, "On-call schedules"). Both read the policy only.
import { DateTime } from 'luxon';
import { layerPeople, onCallAt } from '../oncall/index.js';
import { timeline } from '../oncall/timeline.js';
import { UsageError } from './args.js';
import { loadOrReport } from './policy-commands.js';

type Env = Readonly<Record<string, string | undefined>>;

const SHIFT_LOOKAHEAD_MS = 35 * 86_400_000;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

export async function oncallCommand(options: {
  dir: string;
  schedule: string;
  at?: string;
  env: Env;
}): Promise<number> {
  const atMs = options.at === undefined ? Date.now() : Date.parse(options.at);
  if (options.at !== undefined && (!RFC3339.test(options.at) || Number.isNaN(atMs)))
    throw new UsageError(`--at ${options.at}: not an RFC 3339 time such as 2026-11-24T15:00:00Z`);
  const policy = await loadOrReport(options.dir, options.env, true);
  if (policy === null) return 1;
  const schedule = policy.compiled.schedules.get(options.schedule);
  if (schedule === undefined) {
    const known = [...policy.compiled.schedules.keys()];
    console.error(
      `no schedule named "${options.schedule}"; the policy has ${known.length === 0 ? 'none' : known.join(', ')}`,
    );
    return 1;
  }
  const local = (ms: number): string =>
    DateTime.fromMillis(ms, { zone: schedule.timezone }).toFormat('yyyy-LL-dd HH:mm ZZZZ');
  const people = onCallAt(schedule, atMs);
  console.log(`${schedule.name} at ${new Date(atMs).toISOString()} (${local(atMs)}, ${schedule.timezone})`);
  console.log(`  on call: ${people.length === 0 ? 'nobody' : people.join(', ')}`);
  const [shift] = timeline(schedule, atMs, atMs + SHIFT_LOOKAHEAD_MS);
  if (shift !== undefined && shift.endMs < atMs + SHIFT_LOOKAHEAD_MS)
    console.log(`  until:   ${new Date(shift.endMs).toISOString()} (${local(shift.endMs)})`);
  for (const layer of schedule.layers) {
    const own = layerPeople(layer, atMs);
    console.log(`  layer ${layer.name} (${layer.mode}): ${own.length === 0 ? 'nobody' : own.join(', ')}`);
  }
  if (people.length < schedule.minCoverage)
    console.log(`  short: ${people.length} on call, ${schedule.minCoverage} required`);
  return 0;
}
