// Provider instances as the policy's `providers` and `teams` sections state them
// (docs/policy-language.md, "Providers" and "Teams"; docs/providers.md). Owned here, read by the
// policy loader.
import type { Severity } from '../domain/severity.js';

export interface RateLimit {
  /** Requests allowed per minute for one routing key / API key. */
  per_minute: number;
}
export interface PagerDutyProviderSpec {
  type: 'pagerduty';
  /** Events API v2 integration key: 32 alphanumerics. May be empty only in sandbox mode. */
  routing_key: string;
  url: string;
  severity_map: Record<Severity, 'critical' | 'error' | 'warning' | 'info'>;
  rate_limit?: RateLimit;
}
export interface OpsgenieResponder {
  type: 'team' | 'user' | 'escalation' | 'schedule';
  id?: string;
  name?: string;
  username?: string;
}
export interface OpsgenieProviderSpec {
  type: 'opsgenie';
  api_key: string;
  /** Base URL, e.g. https://api.opsgenie.com, https://api.eu.opsgenie.com or a JSM Ops base. */
  url: string;
  priority_map: Record<Severity, 'P1' | 'P2' | 'P3' | 'P4' | 'P5'>;
  responders?: OpsgenieResponder[];
  rate_limit?: RateLimit;
}
export interface WebhookProviderSpec {
  type: 'webhook';
  url: string;
  /** HMAC-SHA256 secret; when set, requests carry `X-Incident-Router-Signature: v1=<hex>`. */
  secret?: string;
  headers?: Record<string, string>;
  rate_limit?: RateLimit;
}
export type ProviderSpec = PagerDutyProviderSpec | OpsgenieProviderSpec | WebhookProviderSpec;
export type ProviderType = ProviderSpec['type'];

/** A team's override of one provider instance's settings (which keys apply depends on its type). */
export interface TeamProviderOverride {
  /** pagerduty: this team's own Events API v2 integration key. */
  routing_key?: string;
  /** opsgenie: this team's own API integration key. */
  api_key?: string;
  /** opsgenie: responders for this team's alerts. */
  responders?: OpsgenieResponder[];
  /** webhook: this team's own endpoint. */
  url?: string;
}
/**
 * A team maps provider instance names to overrides, e.g. `payments: { pagerduty: { routing_key: … } }`
 * (docs/policy-language.md, "Teams").
 */
export type TeamSpec = Record<string, TeamProviderOverride>;
