// The effective settings of one PagerDuty provider instance: the policy's spec plus the teams' overrides.
import type { Severity } from '../../domain/severity.js';
import type { PagerDutyProviderSpec, TeamProviderOverride } from '../spec.js';
import type { Target } from '../provider.js';

export type PagerDutySeverity = PagerDutyProviderSpec['severity_map'][Severity];

export class PagerDutyConfig {
  constructor(
    private readonly spec: PagerDutyProviderSpec,
    /** This instance's override per team name. */
    private readonly overrides: Readonly<Record<string, TeamProviderOverride>>,
  ) {}

  /** The Events API URL and the team's own routing key when it has one, else the provider's. */
  target(team: string): Target {
    const own = this.overrides[team]?.routing_key;
    return { url: this.spec.url, routing_key: own !== undefined && own !== '' ? own : this.spec.routing_key };
  }

  severity(severity: Severity): PagerDutySeverity {
    return this.spec.severity_map[severity];
  }
}
