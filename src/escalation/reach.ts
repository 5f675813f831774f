// Whom a tier's targets reach at the instant it fires (docs/policy-language.md, "Escalations"): a
// person through their own provider identities, a schedule through whoever is on call then (and
// its PagerDuty service, whose own escalation policy pages that person), raw provider targets as
// written. A schedule with nobody on call, or a name the current policy no longer defines, reaches
// nobody and is reported as skipped.
import type { EscalationResponder, EscalationTarget } from '../domain/escalation.js';
import { onCallAt, type CompiledSchedule, type Person } from '../oncall/index.js';

export interface Directory {
  people: ReadonlyMap<string, Person>;
  schedules: ReadonlyMap<string, CompiledSchedule>;
}

export interface Reach {
  /** PagerDuty Events API routing keys. */
  pagerduty: string[];
  opsgenie: EscalationResponder[];
  /** Webhook URLs named by raw targets. */
  webhook: string[];
  /** People reached through `person` and `schedule` targets. */
  people: string[];
  /** Targets that reached nobody, each with why. */
  skipped: string[];
  /** Schedules with nobody on call at that instant: a coverage gap now (the sidecar checks at once). */
  emptySchedules: string[];
}

export function reachOf(targets: readonly EscalationTarget[], atMs: number, directory: Directory): Reach {
  const reach: Reach = {
    pagerduty: [],
    opsgenie: [],
    webhook: [],
    people: [],
    skipped: [],
    emptySchedules: [],
  };
  for (const target of targets) {
    if ('person' in target) addPerson(reach, target.person, directory, true);
    else if ('schedule' in target) addSchedule(reach, target.schedule, atMs, directory);
    else if ('pagerduty' in target) reach.pagerduty.push(target.pagerduty.routing_key);
    else if ('opsgenie' in target) reach.opsgenie.push(...target.opsgenie.responders);
    else reach.webhook.push(target.webhook.url);
  }
  return {
    ...reach,
    pagerduty: unique(reach.pagerduty.filter((k) => k !== '')),
    opsgenie: uniqueBy(reach.opsgenie, (r) => JSON.stringify([r.type, r.id, r.name, r.username])),
    webhook: unique(reach.webhook),
    people: unique(reach.people),
    emptySchedules: unique(reach.emptySchedules),
  };
}

function addSchedule(reach: Reach, name: string, atMs: number, directory: Directory): void {
  const schedule = directory.schedules.get(name);
  if (schedule === undefined) {
    reach.skipped.push(`schedule "${name}" is not defined in the active policy`);
    return;
  }
  const people = onCallAt(schedule, atMs);
  if (people.length === 0) {
    reach.skipped.push(`schedule "${name}": nobody on call`);
    reach.emptySchedules.push(name);
    return;
  }
  const serviceKey = schedule.provider?.pagerduty?.routing_key;
  if (serviceKey !== undefined && serviceKey !== '') reach.pagerduty.push(serviceKey);
  // Without a PagerDuty service of its own, each person's own key stands in.
  for (const person of people)
    addPerson(reach, person, directory, serviceKey === undefined || serviceKey === '');
}

function addPerson(reach: Reach, name: string, directory: Directory, withPagerDuty: boolean): void {
  const person = directory.people.get(name);
  if (person === undefined) {
    reach.skipped.push(`person "${name}" is not defined in the active policy`);
    return;
  }
  reach.people.push(name);
  const og = person.opsgenie;
  if (og?.id !== undefined) reach.opsgenie.push({ type: 'user', id: og.id });
  else if (og?.username !== undefined) reach.opsgenie.push({ type: 'user', username: og.username });
  const key = person.pagerduty?.routing_key;
  if (withPagerDuty && key !== undefined) reach.pagerduty.push(key);
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

function uniqueBy<T>(values: readonly T[], key: (v: T) => string): T[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const k = key(v);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
