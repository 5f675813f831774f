// Every setting a policy leaves out, in one place. The merged PolicyDocument always carries full
// settings, so nothing past the loader applies defaults (STYLE habit 7).
import type { OpsgenieProviderSpec, PagerDutyProviderSpec, ProviderSpec, Settings } from '../types.js';
import { isPlainObject } from './merge.js';

export const DEFAULT_SETTINGS: Readonly<Settings> = deepFreeze({
  timezone: 'UTC',
  storm: { max_new_incidents: 10, window: '1m' },
  // Levels not listed give `info` (docs/policy-language.md, "Severities"): counted, never paged.
  level_severity: { fatal: 'high', critical: 'high', error: 'low' },
  delivery: {
    timeout: '5s',
    // Fail over within about a second on 5xx: a page that waits is a page missed.
    retry: { initial: '250ms', max: '30s', budget: 3 },
    breaker: { consecutive_failures: 5, failure_rate: 0.5, min_requests: 10, window: '1m', cooldown: '30s' },
    outage_backoff_max: '1m',
  },
  // On-call coverage (docs/policy-language.md, "Coverage gaps"): a week ahead, four times a day.
  coverage_check: { every: '6h', horizon: '7d', severity: 'high' },
} satisfies Settings);

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object')
    for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}

// PagerDuty Events API v2 (developer.pagerduty.com/docs/events-api-v2/trigger-events);
// OpsGenie Alert API base (docs.opsgenie.com/docs/alert-api). `info` never pages, so its mapping
// may be left out: it is only used if a route ever delivers an info alert.
export const PAGERDUTY_DEFAULT_URL = 'https://events.pagerduty.com/v2/enqueue';
export const OPSGENIE_DEFAULT_URL = 'https://api.opsgenie.com';

/** The user's settings laid over the defaults, key by key at every level. */
export function withDefaults(settings: unknown): Settings {
  return overlay(structuredClone(DEFAULT_SETTINGS), settings) as Settings;
}

function overlay(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = overlay(base[key], value);
  return out;
}

/** A schema-valid provider with its optional parts filled in. */
export function completeProvider(spec: ProviderSpec): ProviderSpec {
  switch (spec.type) {
    case 'pagerduty': {
      const given: Partial<PagerDutyProviderSpec['severity_map']> = spec.severity_map;
      const map = { ...given, info: given.info ?? 'info' } as PagerDutyProviderSpec['severity_map'];
      return { ...spec, url: optional(spec.url) ?? PAGERDUTY_DEFAULT_URL, severity_map: map };
    }
    case 'opsgenie': {
      const given: Partial<OpsgenieProviderSpec['priority_map']> = spec.priority_map;
      const map = { ...given, info: given.info ?? 'P5' } as OpsgenieProviderSpec['priority_map'];
      return { ...spec, url: optional(spec.url) ?? OPSGENIE_DEFAULT_URL, priority_map: map };
    }
    case 'webhook': {
      // An empty secret (`${CHATOPS_SECRET:-}`) means "do not sign", not "sign with an empty key".
      const { secret, ...rest } = spec;
      return secret === undefined || secret === '' ? rest : { ...rest, secret };
    }
  }
}

/** The schema lets files leave out what types.ts declares required once defaults are applied. */
function optional(value: string): string | undefined {
  return value as string | undefined;
}
