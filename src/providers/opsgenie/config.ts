// The effective settings of one OpsGenie provider instance: the policy's spec plus the teams' overrides.
// The base URL keeps any path prefix, so the same provider can target Jira Service Management Operations'
// Opsgenie-shaped API (`https://api.atlassian.com/jsm/ops/integration`; docs/providers.md,
// "Jira Service Management Operations").
import type { Severity } from '../../domain/severity.js';
import type { OpsgenieProviderSpec, OpsgenieResponder, TeamProviderOverride } from '../spec.js';
import type { Target } from '../provider.js';

export type OpsGeniePriority = OpsgenieProviderSpec['priority_map'][Severity];

export class OpsGenieConfig {
  constructor(
    private readonly spec: OpsgenieProviderSpec,
    /** This instance's override per team name. */
    private readonly overrides: Readonly<Record<string, TeamProviderOverride>>,
  ) {}

  /** The base URL and the team's own API key when it has one, else the provider's. */
  target(team: string): Target {
    const own = this.overrides[team]?.api_key;
    return { url: this.spec.url, api_key: own !== undefined && own !== '' ? own : this.spec.api_key };
  }

  /** The team's responders when its override names any, else the provider's. */
  responders(team: string): readonly OpsgenieResponder[] {
    return this.overrides[team]?.responders ?? this.spec.responders ?? [];
  }

  priority(severity: Severity): OpsGeniePriority {
    return this.spec.priority_map[severity];
  }
}

/** `<base>/v2/alerts` for a base with or without a path prefix (a base already ending in /v2/alerts is kept). */
export function alertsUrl(base: string): string {
  const trimmed = base.replace(/\/+$/, '');
  if (/\/v2\/alerts$/.test(trimmed)) return trimmed;
  return /\/v2$/.test(trimmed) ? `${trimmed}/alerts` : `${trimmed}/v2/alerts`;
}

export type AlertAction = 'acknowledge' | 'close' | 'notes' | 'responders';

/** `POST <base>/v2/alerts/{alias}/{action}?identifierType=alias` (opsgenie-oas paths/alert.yaml). */
export function alertActionUrl(base: string, alias: string, action: AlertAction): string {
  return `${alertsUrl(base)}/${encodeURIComponent(alias)}/${action}?identifierType=alias`;
}
