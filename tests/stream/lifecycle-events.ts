// Lifecycle events as the incident core publishes them, for tests that need many quickly.
import type { LifecycleEvent } from '../../src/incidents/lifecycle.js';

export function lifecycleEvent(n: number, overrides: Partial<LifecycleEvent> = {}): LifecycleEvent {
  return {
    kind: 'triggered',
    at: '2026-11-24T15:00:00.000Z',
    correlation_id: `c-${n}`,
    incident_id: `storm-${n}`,
    fingerprint: `storm:${n}`,
    provider_key: `ir-${n}`,
    severity: 'high',
    service: 'search',
    team: 'applications',
    title: `Storm incident ${n}`,
    state: 'triggered',
    providers: { pagerduty: { state: 'pending', ref: null } },
    policy_version: 'test',
    actor: 'incident-router',
    source: 'pipeline',
    ...overrides,
  };
}
