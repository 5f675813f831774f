// On-call schedules and coverage gaps (docs/policy-language.md, "On-call schedules"): the public
// surface of src/oncall.
export type {
  CompiledLayer,
  CompiledOverride,
  CompiledSchedule,
  LayerMode,
  OverrideAction,
  Person,
  Restriction,
  Rotation,
} from './model.js';
export { layerPeople, onCallAt } from './oncall.js';
