// The shapes the dashboard reads (docs/http-api.md); only the fields it shows.
export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';
export type IncidentState = 'triggered' | 'acknowledged' | 'resolved';

export interface RouteChoice {
  name: string;
  mode: string;
  providers: string[];
  escalation?: string;
}

export interface Incident {
  id: string;
  correlation_id: string;
  fingerprint: string;
  provider_key: string;
  state: IncidentState;
  severity: Severity;
  title: string;
  service: string;
  team: string;
  rule: string;
  occurrences: number;
  opened_at: string;
  last_seen: string;
  acknowledged_at: string | null;
  resolved_at: string | null;
  routes: RouteChoice[];
  holds: Record<string, { state: string; route?: string; ref?: string | null }>;
  event: Record<string, unknown>;
  escalation?: {
    policy: string;
    status: string;
    fired_tier: number;
    next: { tier: number; at: string } | null;
    tiers: { tier: number; after: string; at: string | null }[];
  };
}

export interface AuditEntry {
  seq: number;
  at: string;
  type: string;
  actor: string;
  provider: string | null;
  message: string;
  details?: Record<string, unknown>;
}

export interface Delivery {
  id: string;
  action: string;
  status: string;
  route: string;
  mode: string;
  candidates: string[];
  current: number;
  attempts: number;
  origin: string | null;
  last_error: { provider: string; reason: string; status: number | null; message: string; at: string } | null;
  result: { provider: string; status: number; ref: string | null; latency_ms: number; at: string } | null;
  tier?: number;
}

export interface IncidentDetail extends Incident {
  timeline: AuditEntry[];
  deliveries: Delivery[];
}

export interface RuleTrace {
  name: string;
  matched: boolean;
  at?: string;
  reason?: string;
}

export interface Decision {
  at: string;
  service: string;
  team: string;
  severity: Severity;
  classification: { rule: string; severity: Severity };
  upgrades: { rule: string; from: Severity; to: Severity }[];
  suppressed: boolean;
  suppressed_by: { rule: string; reason?: string } | null;
  paged: boolean;
  recorded: boolean;
  title: string;
  fingerprint: string;
  route: RouteChoice | null;
  routes: RouteChoice[];
  resolves: string | null;
  incident: { open: boolean; id: string | null };
  trace: { stage: string; rules: RuleTrace[]; skipped?: string }[];
  escalation?: { policy: string; tiers: { tier: number; at: string; people: string[]; skipped: string[] }[] };
}

export interface ProviderHealth {
  name: string;
  type: string;
  breaker: { kind: 'closed' | 'open' | 'half_open' };
  health: {
    success_rate: number | null;
    latency_p50_ms: number | null;
    latency_p99_ms: number | null;
    requests: number;
    failures: number;
    last_success_at: string | null;
    last_failure_at: string | null;
    last_error: string | null;
  };
  pending: number;
}

export interface PolicyInfo {
  version: string;
  revision: string;
  files: { name: string; sha256: string }[];
  loaded_at: string;
  warnings: string[];
  notes: string[];
  last_reload: {
    ok: boolean;
    trigger: string;
    at: string;
    changed: boolean;
    errors: string[];
    warnings: string[];
  } | null;
  document: { services?: Record<string, { team?: string; criticality?: string }> } & Record<string, unknown>;
}
