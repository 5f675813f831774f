// Who is on call at an instant (docs/policy-language.md, "On-call schedules", "Who is on call"):
// each layer's rotation turn, masked by its restriction (the rotation keeps turning while
// masked), combined top to bottom (`add`: union; `replace`: hides the layers above while it has
// someone), then the overrides in the order listed, each applied to what the earlier ones left.
import type { CompiledLayer, CompiledOverride, CompiledSchedule } from './model.js';

/** One person on call, and whom they stand in for (`base`: the person the layers put there). */
interface Slot {
  person: string;
  base: string;
}

/** The people on call at `atMs` (layers, restrictions, overrides applied), distinct, in a stable order. */
export function onCallAt(schedule: CompiledSchedule, atMs: number): string[] {
  const active = schedule.overrides.filter((o) => o.startMs <= atMs && atMs < o.endMs);
  let slots: Slot[] = [];
  for (const layer of schedule.layers) {
    const own = applyOverrides(layerSlots(layer, atMs), active, layer.name);
    if (layer.mode === 'replace') {
      if (own.length > 0) slots = own;
    } else slots = [...slots, ...own];
  }
  return distinct(applyOverrides(slots, active, null).map((s) => s.person));
}

/** The people a layer puts on call at `atMs`, before overrides. */
export function layerPeople(layer: CompiledLayer, atMs: number): string[] {
  return layerSlots(layer, atMs).map((s) => s.person);
}

function layerSlots(layer: CompiledLayer, atMs: number): Slot[] {
  const { rotation, restrict } = layer;
  const turn = rotation.turnAt(atMs);
  if (turn < 0 || (restrict !== null && !restrict.contains(atMs))) return [];
  const group = rotation.members[turn % rotation.members.length] ?? [];
  return group.map((person) => ({ person, base: person }));
}

/**
 * `replace` and `remove` find a person on call either in their own right or standing in for
 * someone, so a later override of the same person has the last word.
 */
function applyOverrides(slots: Slot[], active: readonly CompiledOverride[], layer: string | null): Slot[] {
  let out = slots;
  for (const { action, layer: scope } of active) {
    if (scope !== layer) continue;
    const named = (s: Slot): boolean => s.person === action.person || s.base === action.person;
    switch (action.kind) {
      case 'add':
        out = [...out, { person: action.person, base: action.person }];
        break;
      case 'remove':
        out = out.filter((s) => !named(s));
        break;
      case 'replace':
        out = out.map((s) => (named(s) ? { person: action.with, base: s.base } : s));
        break;
    }
  }
  return out;
}

function distinct(people: readonly string[]): string[] {
  return [...new Set(people)];
}
