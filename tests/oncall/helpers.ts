// Schedules compiled from YAML through the real loader, for the on-call tests.
import { compileSources } from '../helpers/policy.js';
import type { CompiledSchedule } from '../../src/oncall/index.js';
import type { CompiledPolicy } from '../../src/policy/compile.js';

export const BASE = `apiVersion: incident-router/v1
version: 'oncall-test'
providers:
  pagerduty: { type: pagerduty, routing_key: '', severity_map: { low: info, medium: warning, high: error, critical: critical } }
routes:
  - name: default
    deliver: { mode: failover, providers: [pagerduty] }
`;

export const PEOPLE = `people:
  ana: {}
  ben: {}
  cy: {}
  dee: {}
  eli: {}
  fay: {}
  gus: {}
  hal: {}
  ivy: {}
`;

/** A policy of BASE, PEOPLE and `yaml` (the schedules), compiled. */
export function policyWith(yaml: string, extra = ''): CompiledPolicy {
  return compileSources([{ name: 'policy.yaml', text: `${BASE}${PEOPLE}${extra}${yaml}` }]).compiled;
}

export function scheduleFrom(yaml: string, name: string, extra = ''): CompiledSchedule {
  const schedule = policyWith(yaml, extra).schedules.get(name);
  if (schedule === undefined) throw new Error(`no schedule ${name}`);
  return schedule;
}

export const ms = (iso: string): number => {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`bad time ${iso}`);
  return t;
};
export const iso = (t: number): string => new Date(t).toISOString();
