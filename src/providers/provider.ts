// The one small interface every provider implements. The provider, not the caller, decides
// whether a failure is worth retrying; failures carry a reason from a closed set that doubles as
// a metric label (as in Alertmanager's notifiers).
import type { DeliveryAction, Incident } from '../domain/incident.js';
import type { OpsgenieResponder } from './spec.js';

export const FAILURE_REASONS = [
  'rate_limited',
  'server_error',
  'timeout',
  'network',
  'auth_error',
  'client_error',
  'breaker_open',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly retryable: boolean;
  readonly status: number | null;
  /** From Retry-After (or X-RateLimit-Period-In-Sec), when the provider said how long to wait. */
  readonly retryAfterMs: number | null;

  constructor(
    readonly provider: string,
    readonly reason: FailureReason,
    message: string,
    options: { retryable: boolean; status?: number | null; retryAfterMs?: number | null; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.retryable = options.retryable;
    this.status = options.status ?? null;
    this.retryAfterMs = options.retryAfterMs ?? null;
  }
}

/**
 * Credentials and endpoint for one request: the provider's, overridden by the team's, overridden
 * by an escalation tier's target (docs/policy-language.md, "Escalations").
 */
export interface Target {
  url: string;
  routing_key?: string;
  api_key?: string;
  /** OpsGenie: whom a create alerts instead of the provider's or team's responders. */
  responders?: readonly OpsgenieResponder[];
}

export interface ProviderRequest {
  action: DeliveryAction;
  incident: Incident;
  target: Target;
  /** Text for notes and for the body of acknowledge/resolve where the API takes one. */
  note: string | null;
  /** This incident's page on the sidecar (PagerDuty client_url). */
  incidentUrl: string;
}

export interface ProviderResponse {
  status: number;
  /** PagerDuty dedup_key, OpsGenie requestId, … */
  ref: string | null;
  /**
   * OpsGenie: the API key that acted when the one the alert was opened with was refused (a key
   * rotated out); the hold keeps it for the alert's later follow-ups (docs/providers.md).
   */
  api_key?: string;
}

export interface Provider {
  readonly name: string;
  readonly type: 'pagerduty' | 'opsgenie' | 'webhook';
  /** Resolve the target for an incident's team (team overrides win). */
  target(team: string): Target;
  /** One attempt. Throws ProviderError; never anything else. */
  send(request: ProviderRequest, signal: AbortSignal): Promise<ProviderResponse>;
}
