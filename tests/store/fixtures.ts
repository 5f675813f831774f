// Builders for store tests: complete records with overridable fields, and a fresh data directory.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEntry, Delivery, Incident } from '../../src/domain/incident.js';

export async function freshDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ir-store-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export function incident(overrides: Partial<Incident> & Pick<Incident, 'id'>): Incident {
  return {
    correlation_id: 'c0ffee00-0000-4000-8000-000000000000',
    fingerprint: `fp-${overrides.id}`,
    provider_key: 'ir-0000000000000000000000000000000000000000',
    state: 'triggered',
    escalated: false,
    severity: 'high',
    title: 'checkout: payment gateway timeouts',
    service: 'checkout',
    team: 'payments',
    criticality: 'critical',
    rule: 'gateway-timeouts',
    event: {
      timestamp: '2025-01-01T00:00:00.000Z',
      level: 'error',
      message: 'gateway timeout',
      source: null,
      host: null,
      trace_id: null,
      attributes: null,
    },
    occurrences: 1,
    opened_at: '2025-01-01T00:00:00.000Z',
    last_seen: '2025-01-01T00:00:00.000Z',
    acknowledged_at: null,
    resolved_at: null,
    policy: { version: '1', revision: 'abc' },
    routes: [{ name: 'payments', mode: 'failover', providers: ['pagerduty', 'opsgenie'] }],
    holds: {},
    storm: null,
    revision: 1,
    ...overrides,
  };
}

export function delivery(overrides: Partial<Delivery> & Pick<Delivery, 'id' | 'incident_id'>): Delivery {
  return {
    provider_key: `ir-${overrides.incident_id}`,
    action: 'trigger',
    route: 'payments',
    mode: 'failover',
    candidates: ['pagerduty', 'opsgenie'],
    current: 0,
    status: 'pending',
    attempts: 0,
    attempts_on_current: 0,
    next_attempt_at: 0,
    created_at: '2025-01-01T00:00:00.000Z',
    updated_at: '2025-01-01T00:00:00.000Z',
    done_at: null,
    origin: null,
    note: null,
    last_error: null,
    result: null,
    exhausted: false,
    refused: [],
    ...overrides,
  };
}

export function audit(incidentId: string, type: string, message = type): Omit<AuditEntry, 'seq'> {
  return {
    incident_id: incidentId,
    at: '2025-01-01T00:00:00.000Z',
    type,
    actor: 'incident-router',
    provider: null,
    source_event_id: null,
    policy_version: '1',
    message,
  };
}
