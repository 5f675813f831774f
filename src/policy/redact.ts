// The policy as it may be shown (API, dashboard): every secret masked to `****` + last 4
// (docs/http-api.md, "Secrets").
import { maskSecret } from '../domain/secrets.js';
import type { PolicyDocument, ProviderSpec, TeamSpec } from './types.js';

const SECRET_FIELDS = new Set(['routing_key', 'api_key', 'secret']);

function maskFields<T extends object>(obj: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (SECRET_FIELDS.has(k) && typeof v === 'string') out[k] = maskSecret(v);
    else if (k === 'headers' && v !== null && typeof v === 'object') {
      out[k] = Object.fromEntries(Object.keys(v).map((h) => [h, '****']));
    } else out[k] = v;
  }
  return out as T;
}

export function redactPolicyDocument(doc: PolicyDocument): PolicyDocument {
  const providers: Record<string, ProviderSpec> = {};
  for (const [name, spec] of Object.entries(doc.providers)) providers[name] = maskFields(spec);
  const teams: Record<string, TeamSpec> = {};
  for (const [name, team] of Object.entries(doc.teams)) {
    teams[name] = Object.fromEntries(Object.entries(team).map(([p, o]) => [p, maskFields(o)]));
  }
  // On-call: people's and schedules' PagerDuty keys (docs/policy-language.md, "On-call schedules").
  const people = Object.fromEntries(
    Object.entries(doc.people).map(([name, p]) => [
      name,
      p.pagerduty ? { ...p, pagerduty: maskFields(p.pagerduty) } : p,
    ]),
  );
  const schedules = Object.fromEntries(
    Object.entries(doc.schedules).map(([name, s]) => {
      const pagerduty = s.provider?.pagerduty;
      return [name, pagerduty ? { ...s, provider: { ...s.provider, pagerduty: maskFields(pagerduty) } } : s];
    }),
  );
  // Escalations: raw PagerDuty targets' keys (docs/policy-language.md, "Escalations").
  const escalations = Object.fromEntries(
    Object.entries(doc.escalations).map(([name, e]) => [
      name,
      {
        ...e,
        tiers: e.tiers.map((t) => ({
          ...t,
          targets: t.targets.map((x) => ('pagerduty' in x ? { pagerduty: maskFields(x.pagerduty) } : x)),
        })),
      },
    ]),
  );
  return { ...doc, providers, teams, people, schedules, escalations };
}
