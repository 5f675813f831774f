// A schedule over a time range: the stretches with the same people on call, and the coverage
// gaps among them (docs/policy-language.md, "Coverage gaps"). Who is on call can only change at a
// hand-off, a restriction's boundary or an override's start or end, so the schedule is asked
// once per stretch between those instants.
import type { CompiledSchedule, Restriction } from './model.js';
import { onCallAt } from './oncall.js';

export interface Shift {
  startMs: number;
  endMs: number;
  people: string[];
}

export interface Gap {
  startMs: number;
  endMs: number;
  /** Distinct people required. */
  required: number;
  /** The fewest distinct people on call at any moment of the gap. */
  fewest: number;
  /** The people on call throughout the gap. */
  onCall: string[];
}

/** Holes shorter than this between two gaps are merged into one gap (Grafana OnCall does so too). */
export const MERGE_HOLES_UNDER_MS = 60_000;

/** Instants in [fromMs, toMs) where who is on call may change, ascending, starting with fromMs. */
export function changePoints(schedule: CompiledSchedule, fromMs: number, toMs: number): number[] {
  const points = new Set<number>([fromMs]);
  for (const layer of schedule.layers) {
    for (const at of layer.rotation.handoffs(fromMs, toMs)) points.add(at);
    for (const at of layer.restrict?.boundaries(fromMs, toMs) ?? []) points.add(at);
  }
  for (const o of schedule.overrides)
    for (const at of [o.startMs, o.endMs]) if (at >= fromMs && at < toMs) points.add(at);
  return [...points].sort((a, b) => a - b);
}

/** The schedule's shifts in [fromMs, toMs): maximal stretches with the same people, in order. */
export function timeline(schedule: CompiledSchedule, fromMs: number, toMs: number): Shift[] {
  if (!(toMs > fromMs)) return [];
  const shifts: Shift[] = [];
  const points = changePoints(schedule, fromMs, toMs);
  points.forEach((startMs, i) => {
    const endMs = points[i + 1] ?? toMs;
    const people = onCallAt(schedule, startMs);
    const last = shifts.at(-1);
    if (last !== undefined && sameSet(last.people, people)) last.endMs = endMs;
    else shifts.push({ startMs, endMs, people });
  });
  return shifts;
}

/**
 * Maximal intervals of [fromMs, toMs) with fewer than `required` distinct people on call (holes
 * under a minute between two merged), clipped to `during` when given.
 */
export function gaps(
  schedule: CompiledSchedule,
  fromMs: number,
  toMs: number,
  during: Restriction | null = null,
  required = schedule.minCoverage,
): Gap[] {
  if (required <= 0) return [];
  const short = timeline(schedule, fromMs, toMs).filter((s) => s.people.length < required);
  const clipped = during === null ? short : short.flatMap((s) => clip(s, during));
  const merged: Gap[] = [];
  for (const s of clipped) {
    const last = merged.at(-1);
    if (last !== undefined && s.startMs - last.endMs < MERGE_HOLES_UNDER_MS) {
      last.endMs = s.endMs;
      last.fewest = Math.min(last.fewest, s.people.length);
      last.onCall = last.onCall.filter((p) => s.people.includes(p));
    } else
      merged.push({
        startMs: s.startMs,
        endMs: s.endMs,
        required,
        fewest: s.people.length,
        onCall: s.people,
      });
  }
  return merged;
}

/** The parts of a shift inside `during`, which can only change at its boundaries. */
function clip(shift: Shift, during: Restriction): Shift[] {
  const out: Shift[] = [];
  let openAt: number | null = null;
  for (const at of [shift.startMs, ...during.boundaries(shift.startMs + 1, shift.endMs)]) {
    const inside = during.contains(at);
    if (inside && openAt === null) openAt = at;
    if (!inside && openAt !== null) {
      out.push({ ...shift, startMs: openAt, endMs: at });
      openAt = null;
    }
  }
  if (openAt !== null) out.push({ ...shift, startMs: openAt, endMs: shift.endMs });
  return out;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((p) => b.includes(p));
}
