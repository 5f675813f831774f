// Escalations as shown (docs/http-api.md, "GET /api/v1/incidents/:id" and "POST
// /api/v1/policy/dry-run"): an incident's plan with its next tier and when, and a decision's plan
// with each tier's absolute time and whom it would reach then. Credentials are masked.
import type { Decision } from '../domain/decision.js';
import { formatDuration as durationText } from '../domain/duration.js';
import type { EscalationPlan, EscalationTarget, IncidentEscalation } from '../domain/escalation.js';
import type { DeliveryTarget } from '../domain/incident.js';
import { maskSecret } from '../domain/secrets.js';
import { planOf } from './compile.js';
import { tierTriggers, type ProviderTypeOf } from './deliveries.js';
import { reachOf, type Directory } from './reach.js';

export interface EscalationView {
  policy: string;
  route: string;
  /** `running` while a timer is pending, `acknowledged` while `ack_timeout` runs, else `stopped`. */
  status: 'running' | 'acknowledged' | 'stopped';
  round: number;
  fired_tier: number;
  next: { tier: number; at: string } | null;
  ack_timeout_at: string | null;
  tiers: {
    tier: number;
    after: string;
    at: string;
    targets: EscalationTarget[];
    deliver: EscalationPlan['tiers'][number]['deliver'];
  }[];
  repeat: { times: number; after: string } | null;
  ack_timeout: string | null;
}

/** An incident's escalation: where it stands, and the whole plan with the current round's times. */
export function incidentEscalationView(esc: IncidentEscalation): EscalationView {
  const due = esc.due_at === null ? null : iso(esc.due_at);
  return {
    policy: esc.plan.name,
    route: esc.plan.route.name,
    status: esc.due === 'tier' ? 'running' : esc.due === 'ack_timeout' ? 'acknowledged' : 'stopped',
    round: esc.round,
    fired_tier: esc.fired_tier,
    next: esc.due === 'tier' && due !== null ? { tier: esc.next_tier + 1, at: due } : null,
    ack_timeout_at: esc.due === 'ack_timeout' ? due : null,
    ...planShape(esc.plan, esc.started_at),
  };
}

function planShape(
  plan: EscalationPlan,
  startMs: number,
): Pick<EscalationView, 'tiers' | 'repeat' | 'ack_timeout'> {
  return {
    tiers: plan.tiers.map((t, i) => ({
      tier: i + 1,
      after: formatDuration(t.after_ms),
      at: iso(startMs + t.after_ms),
      targets: t.targets.map(maskTarget),
      deliver: t.deliver,
    })),
    repeat:
      plan.repeat === null ? null : { times: plan.repeat.times, after: formatDuration(plan.repeat.after_ms) },
    ack_timeout: plan.ack_timeout_ms === null ? null : formatDuration(plan.ack_timeout_ms),
  };
}

export interface PlannedTier {
  tier: number;
  after: string;
  /** The tier's absolute time for the dry-run's `at`, if nobody acknowledges. */
  at: string;
  /** Whom it would reach at that time. */
  people: string[];
  deliveries: { mode: string; providers: string[]; targets: Record<string, DeliveryTarget> }[];
  skipped: string[];
}

export interface EscalationPreview {
  policy: string;
  route: string;
  tiers: PlannedTier[];
  repeat: { times: number; after: string; rounds_at: string[] } | null;
  ack_timeout: string | null;
}

/** The dry-run's plan: each tier at its absolute time for `atMs`, with whom it would reach then. */
export function previewEscalation(
  decision: Decision,
  policy: { escalations: ReadonlyMap<string, Parameters<typeof planOf>[0]> } & Directory,
  typeOf: ProviderTypeOf,
  atMs: number,
): EscalationPreview | null {
  if (!decision.paged) return null;
  const route = decision.routes.find(
    (r) => r.escalation !== undefined && policy.escalations.has(r.escalation),
  );
  if (route === undefined) return null;
  const plan = planOf(
    policy.escalations.get(route.escalation as string) as Parameters<typeof planOf>[0],
    route,
  );
  const tiers = plan.tiers.map((t, i) => {
    const at = atMs + t.after_ms;
    const reach = reachOf(t.targets, at, policy);
    const triggers = tierTriggers(t, i + 1, reach, route.name, typeOf);
    return {
      tier: i + 1,
      after: formatDuration(t.after_ms),
      at: iso(at),
      people: reach.people,
      deliveries: triggers.map((d) => ({
        mode: d.mode,
        providers: d.candidates,
        targets: Object.fromEntries(
          Object.entries(d.targets ?? {}).map(([p, v]) => [p, maskDeliveryTarget(v)]),
        ),
      })),
      skipped: reach.skipped,
    };
  });
  const repeat = plan.repeat;
  const lastMs = (plan.tiers.at(-1) as EscalationPlan['tiers'][number]).after_ms;
  return {
    policy: plan.name,
    route: route.name,
    tiers,
    repeat:
      repeat === null
        ? null
        : {
            times: repeat.times,
            after: formatDuration(repeat.after_ms),
            rounds_at: Array.from({ length: repeat.times }, (_, k) =>
              iso(atMs + (k + 1) * (lastMs + repeat.after_ms)),
            ),
          },
    ack_timeout: plan.ack_timeout_ms === null ? null : formatDuration(plan.ack_timeout_ms),
  };
}

export function maskDeliveryTarget(target: DeliveryTarget): DeliveryTarget {
  return target.routing_key === undefined
    ? target
    : { ...target, routing_key: maskSecret(target.routing_key) };
}

function maskTarget(target: EscalationTarget): EscalationTarget {
  return 'pagerduty' in target
    ? { pagerduty: { routing_key: maskSecret(target.pagerduty.routing_key) } }
    : target;
}

/** As the policy writes it: a first tier's `0m`, not `0h`. */
function formatDuration(ms: number): string {
  return ms === 0 ? '0m' : durationText(ms);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
