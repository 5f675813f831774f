// Lifecycle events (docs/nats.md, "Lifecycle events"): what happened to incidents, for NATS subscribers
// downstream (`incidents.<kind>`, `alerts.recorded`) and the dashboard's live stream. Publishing is
// fire-and-forget: a subscriber's failure never blocks or fails the pipeline.
import type { Severity } from '../domain/severity.js';

export const LIFECYCLE_KINDS = [
  'triggered',
  'acknowledged',
  'escalated',
  'resolved',
  'delivery_failed',
  /** A re-trigger held open by flap damping (docs/policy-language.md, "Flap damping"). */
  'flapping',
] as const;
export type LifecycleKind = (typeof LIFECYCLE_KINDS)[number];

export interface LifecycleEvent {
  kind: LifecycleKind;
  at: string;
  correlation_id: string;
  incident_id: string;
  fingerprint: string;
  provider_key: string;
  severity: Severity;
  service: string;
  team: string;
  title: string;
  state: string;
  /** Provider instances that hold the incident, and their references. */
  providers: Record<string, { state: string; ref: string | null }>;
  policy_version: string;
  actor: string;
  /** Where a state change came from: a provider name, `api`, `pipeline`. */
  source: string;
  details?: Record<string, unknown>;
}

/** An info-classified or suppressed alert, for digests and trend reports (`alerts.recorded`). */
export interface RecordedAlert {
  at: string;
  reason: 'info' | 'suppressed';
  service: string;
  team: string;
  severity: Severity;
  rule: string;
  fingerprint: string;
  message: string;
  suppressed_by: string | null;
  /** The silence that suppressed it, when one did (docs/nats.md, `alerts.recorded`). */
  silence_id: string | null;
  policy_version: string;
}

export interface LifecycleListener {
  incident?(event: LifecycleEvent): void;
  recorded?(alert: RecordedAlert): void;
}

export class LifecycleBus {
  private readonly listeners = new Set<LifecycleListener>();

  subscribe(listener: LifecycleListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  incident(event: LifecycleEvent): void {
    for (const l of this.listeners) safely(() => l.incident?.(event));
  }

  recorded(alert: RecordedAlert): void {
    for (const l of this.listeners) safely(() => l.recorded?.(alert));
  }
}

function safely(f: () => void): void {
  try {
    f();
  } catch {
    // A listener's failure is its own (it logs it); the pipeline goes on.
  }
}
