// A merged policy with no problems → the PolicyDocument the rest of the service trusts, its
// revision, and the secret values in it (so logs can scrub them).
import { createHash } from 'node:crypto';
import { headerSecrets } from '../../domain/secrets.js';
import type { PolicyDocument, ProviderSpec, Settings, TeamSpec } from '../types.js';
import { completeProvider } from './defaults.js';
import { isPlainObject, type MergedPolicy, type NamedItem } from './merge.js';

export function buildDocument(merged: MergedPolicy, settings: Settings): PolicyDocument {
  const values = <T>(map: ReadonlyMap<string, NamedItem>, f: (v: T) => T = (v) => v): Record<string, T> =>
    // Object.fromEntries defines own properties, so a key like "__proto__" stays data.
    Object.fromEntries([...map].map(([name, item]) => [name, f(item.value as T)]));
  const rules = <T>(section: keyof MergedPolicy['rules']): T[] =>
    merged.rules[section].map((r) => r.value as T);
  return {
    version: merged.version?.value as string,
    settings,
    providers: values<ProviderSpec>(merged.maps.providers, completeProvider),
    time_windows: values(merged.maps.time_windows),
    teams: values<TeamSpec>(merged.maps.teams, withoutEmptyOverrides),
    services: values(merged.maps.services),
    conditions: values(merged.maps.conditions),
    classify: rules('classify'),
    upgrade: rules('upgrade'),
    suppress: rules('suppress'),
    routes: rules('routes'),
    people: values(merged.maps.people),
    schedules: values(merged.maps.schedules),
    escalations: values(merged.maps.escalations),
  };
}

/**
 * A team override left empty (`routing_key: ${PD_KEY_PAYMENTS:-}` with the variable unset) means
 * "no override": the team uses the provider's own key. Dropping it here keeps that rule in one place.
 */
function withoutEmptyOverrides(team: TeamSpec): TeamSpec {
  const out: TeamSpec = {};
  for (const [provider, override] of Object.entries(team)) {
    out[provider] = Object.fromEntries(
      Object.entries(override).filter(([, v]) => v !== ''),
    ) as TeamSpec[string];
  }
  return out;
}

/** "sha256:" + hex sha256 of the document as JSON with keys sorted at every level. */
export function revisionOf(document: PolicyDocument): string {
  return `sha256:${createHash('sha256').update(canonicalJson(document)).digest('hex')}`;
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isPlainObject(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Every credential in the document, longest first (a scrubber replaces longer ones first). */
export function secretsOf(document: PolicyDocument): string[] {
  const found = new Set<string>();
  for (const spec of Object.values(document.providers)) {
    if (spec.type === 'pagerduty') found.add(spec.routing_key);
    if (spec.type === 'opsgenie') found.add(spec.api_key);
    if (spec.type === 'webhook') {
      if (spec.secret !== undefined) found.add(spec.secret);
      for (const [name, value] of Object.entries(spec.headers ?? {}))
        for (const secret of headerSecrets(name, value)) found.add(secret);
    }
  }
  for (const team of Object.values(document.teams) as TeamSpec[]) {
    for (const override of Object.values(team)) {
      if (override.routing_key !== undefined) found.add(override.routing_key);
      if (override.api_key !== undefined) found.add(override.api_key);
    }
  }
  for (const person of Object.values(document.people))
    if (person.pagerduty?.routing_key !== undefined) found.add(person.pagerduty.routing_key);
  for (const schedule of Object.values(document.schedules))
    if (schedule.provider?.pagerduty?.routing_key !== undefined)
      found.add(schedule.provider.pagerduty.routing_key);
  for (const escalation of Object.values(document.escalations))
    for (const tier of escalation.tiers)
      for (const target of tier.targets) if ('pagerduty' in target) found.add(target.pagerduty.routing_key);
  found.delete('');
  return [...found].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
}
