// The policy's `people:` and `schedules:` → the compiled forms (docs/policy-language.md, "On-call
// schedules"). The loader has checked them (check.ts), so a failure here is a bug and throws.
import type { PolicyDocument } from '../policy/types.js';
import { buildSchedule } from './build.js';
import type { CompiledSchedule, Person } from './model.js';
import type { PersonSpec } from './spec.js';

export interface CompiledOnCall {
  people: ReadonlyMap<string, Person>;
  schedules: ReadonlyMap<string, CompiledSchedule>;
}

export function compileOnCall(doc: PolicyDocument): CompiledOnCall {
  const people = new Map(Object.entries(doc.people).map(([name, spec]) => [name, personOf(name, spec)]));
  const schedules = new Map<string, CompiledSchedule>();
  for (const [name, spec] of Object.entries(doc.schedules)) {
    const { schedule, problems } = buildSchedule(name, spec, {
      defaultZone: doc.settings.timezone,
      isPerson: (person) => people.has(person),
    });
    if (schedule === null) throw new Error(`schedule "${name}" did not compile: ${problems[0]?.message}`);
    schedules.set(name, schedule);
  }
  return { people, schedules };
}

/** An empty key (`${PD_KEY_X:-}` with the variable unset) is no key. */
function personOf(name: string, spec: PersonSpec): Person {
  const routingKey = spec.pagerduty?.routing_key;
  return {
    name,
    ...(spec.opsgenie !== undefined ? { opsgenie: { ...spec.opsgenie } } : {}),
    ...(routingKey !== undefined && routingKey !== '' ? { pagerduty: { routing_key: routingKey } } : {}),
  };
}
