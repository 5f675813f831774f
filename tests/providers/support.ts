// Shared bits of the provider tests: incidents, requests, specs and the checks every test repeats.
import { expect } from 'vitest';
import type { DeliveryAction, Incident, IncidentEvent } from '../../src/domain/incident.js';
import { providerKey } from '../../src/domain/provider-key.js';
import type {
  OpsgenieProviderSpec,
  PagerDutyProviderSpec,
  WebhookProviderSpec,
} from '../../src/policy/types.js';
import { ProviderError, type Provider, type ProviderRequest } from '../../src/providers/provider.js';
import type { LoggedRequest } from '../../src/sandbox/index.js';
import { validateOutbound, type OutboundKind } from '../helpers/schemas.js';

export const PD_KEY = 'e93facc04764012d7bfb002500d5d1a6';
export const PD_PAYMENTS_KEY = 'R0123456789abcdefABCDEF012345678';
export const OG_KEY = 'og0api0key0provider0secret0000001';
export const OG_PAYMENTS_KEY = 'og0api0key0payments0secret000002';
export const WEBHOOK_SECRET = 'wh0secret0chatops0do0not0leak0003';

export const INCIDENT_URL = 'http://127.0.0.1:8080/incidents/inc-1';

export type IncidentOverrides = Partial<Omit<Incident, 'event'>> & { event?: Partial<IncidentEvent> };

let seq = 0;

export function makeIncident(overrides: IncidentOverrides = {}): Incident {
  seq += 1;
  const fingerprint = overrides.fingerprint ?? `payment-service:db-connection:${seq}`;
  const { event, ...rest } = overrides;
  return {
    id: `inc-${seq}`,
    correlation_id: `corr-${seq}`,
    fingerprint,
    provider_key: providerKey(fingerprint),
    state: 'triggered',
    escalated: false,
    severity: 'critical',
    title: 'Database connection failure on payment-service',
    service: 'payment-service',
    team: 'platform',
    criticality: 'critical',
    rule: 'db-connection-failure',
    occurrences: 1,
    opened_at: '2026-11-23T10:00:00.000Z',
    last_seen: '2026-11-23T10:00:05.000Z',
    acknowledged_at: null,
    resolved_at: null,
    policy: { version: '2026.11.23-1', revision: 'abc123' },
    routes: [],
    holds: {},
    storm: null,
    revision: 1,
    ...rest,
    event: {
      timestamp: '2026-11-23T10:00:00.000Z',
      level: 'error',
      message: 'connection pool exhausted',
      source: 'database',
      host: 'db-1.example.com',
      trace_id: 'trace-1',
      attributes: { pool: 'primary', waiting: 12 },
      ...event,
    },
  };
}

/** A request for `incident` addressed the way the dispatcher does: the provider's target for its team. */
export function requestFor(
  provider: Provider,
  action: DeliveryAction,
  incident: Incident,
  note: string | null = null,
): ProviderRequest {
  return { action, incident, target: provider.target(incident.team), note, incidentUrl: INCIDENT_URL };
}

export function pagerDutySpec(
  url: string,
  extra: Partial<PagerDutyProviderSpec> = {},
): PagerDutyProviderSpec {
  return {
    type: 'pagerduty',
    routing_key: PD_KEY,
    url,
    severity_map: { critical: 'critical', high: 'error', medium: 'warning', low: 'info', info: 'info' },
    ...extra,
  };
}

export function opsGenieSpec(url: string, extra: Partial<OpsgenieProviderSpec> = {}): OpsgenieProviderSpec {
  return {
    type: 'opsgenie',
    api_key: OG_KEY,
    url,
    priority_map: { critical: 'P1', high: 'P2', medium: 'P3', low: 'P4', info: 'P5' },
    responders: [{ type: 'team', name: 'sre' }],
    ...extra,
  };
}

export function webhookSpec(url: string, extra: Partial<WebhookProviderSpec> = {}): WebhookProviderSpec {
  return { type: 'webhook', url, ...extra };
}

/** The ProviderError a promise rejected with; fails the test when it resolved or threw anything else. */
export async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error('expected a ProviderError');
}

/** The outbound schema a logged simulator request must satisfy. */
export function kindOf(request: LoggedRequest): OutboundKind {
  if (request.path === '/v2/enqueue') return 'pagerduty-event';
  if (request.path === '/v2/alerts') return 'opsgenie-create-alert';
  if (request.path.startsWith('/v2/alerts/')) {
    return request.path.endsWith('/notes') ? 'opsgenie-note' : 'opsgenie-action';
  }
  return 'webhook-incident';
}

/** Every body the simulator logged validates against the project's outbound JSON Schemas. */
export function expectValidOutbound(requests: readonly LoggedRequest[]): void {
  expect(requests.length).toBeGreaterThan(0);
  for (const request of requests) {
    expect({ path: request.path, problems: validateOutbound(kindOf(request), request.body) }).toEqual({
      path: request.path,
      problems: [],
    });
  }
}

/** An unpaired UTF-16 surrogate: what a careless cut through an astral character leaves behind. */
export function hasLoneSurrogate(text: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

export function bytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}
