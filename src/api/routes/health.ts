// GET /api/v1/health in the brief's shape plus breakers, provider health and the outbox, and
// GET /api/v1/metrics: a JSON summary of the Prometheus metrics.
import Router from '@koa/router';
import type { Clock } from '../../domain/clock.js';
import type { BreakerState } from '../../deliver/breaker.js';
import type { HealthSnapshot } from '../../deliver/health.js';
import type { Metrics } from '../../telemetry/metrics.js';
import { answer } from '../middleware.js';

/**
 * Whether a provider's webhooks can authenticate, and whether a rotation is under way (several
 * secrets or tokens in force: the old one is still to be dropped).
 */
export interface WebhookAuth {
  configured: boolean;
  rotating: boolean;
}

export interface HealthSource {
  providers(): {
    name: string;
    type: string;
    breaker: BreakerState;
    health: HealthSnapshot;
    pending: number;
  }[];
  incidentsByState(): Promise<Record<string, number>>;
  deliveriesPending(): Promise<number>;
  policy(): { version: string; revision: string; last_reload_ok: boolean } | null;
  nats(): { connected: boolean; mode: string } | null;
  /** Where state lives, and the bytes it uses. */
  state(): Promise<{ backend: string; storage_bytes: number }>;
  /** Cluster mode: this replica, the live ones, the cluster's pending deliveries; null in one process. */
  cluster(): Promise<{
    name: string;
    replica: string;
    replicas: unknown[];
    deliveries_pending: number;
  } | null>;
  /** Whether inbound webhooks can be authenticated, and how many matched no incident. */
  webhooks(): { pagerduty: WebhookAuth; opsgenie: WebhookAuth; unmatched: number };
}

export function healthRouter(deps: {
  source: HealthSource;
  metrics: Metrics;
  clock: Clock;
  startedAt: number;
  version: string;
}): Router {
  const router = new Router({ prefix: '/api/v1' });

  router.get('/health', async (ctx) => {
    const providers = deps.source.providers();
    const integrations = Object.fromEntries(
      providers.map((p) => {
        const healthy =
          p.breaker.kind === 'closed' && (p.health.success_rate === null || p.health.success_rate >= 0.5);
        return [
          p.name,
          { healthy, type: p.type, breaker: p.breaker.kind, pending_deliveries: p.pending, ...p.health },
        ];
      }),
    );
    const incidents = await deps.source.incidentsByState();
    const policy = deps.source.policy();
    const nats = deps.source.nats();
    const healthyCount = Object.values(integrations).filter((i) => i.healthy).length;
    const status =
      policy === null || (providers.length > 0 && healthyCount === 0)
        ? 'unhealthy'
        : healthyCount < providers.length || !policy.last_reload_ok || (nats !== null && !nats.connected)
          ? 'degraded'
          : 'healthy';
    answer(ctx, {
      system_status: status,
      integrations,
      active_incidents: (incidents['triggered'] ?? 0) + (incidents['acknowledged'] ?? 0),
      incidents,
      deliveries_pending: await deps.source.deliveriesPending(),
      policy,
      nats,
      state: await deps.source.state(),
      cluster: await deps.source.cluster(),
      webhooks: deps.source.webhooks(),
      uptime_seconds: Math.round((deps.clock.now() - deps.startedAt) / 1000),
      version: deps.version,
    });
  });

  router.get('/metrics', async (ctx) => {
    const json = await deps.metrics.registry.getMetricsAsJSON();
    const byName = new Map(json.map((m) => [m.name, m]));
    const sum = (name: string, label?: string): Record<string, number> | number => {
      const values = (byName.get(name)?.values ?? []) as {
        value: number;
        labels: Record<string, string | number>;
        metricName?: string;
      }[];
      const plain = values.filter((v) => v.metricName === undefined || v.metricName === name);
      if (!label) return plain.reduce((a, v) => a + v.value, 0);
      const out: Record<string, number> = {};
      for (const v of plain) out[String(v.labels[label])] = (out[String(v.labels[label])] ?? 0) + v.value;
      return out;
    };
    const uptime = Math.max(1, (deps.clock.now() - deps.startedAt) / 1000);
    const received = sum('incident_router_events_received_total') as number;
    answer(ctx, {
      uptime_seconds: Math.round(uptime),
      events: {
        received: sum('incident_router_events_received_total', 'source'),
        invalid: sum('incident_router_events_invalid_total', 'source'),
        dropped: sum('incident_router_events_dropped_total', 'reason'),
        per_second_average: Number((received / uptime).toFixed(2)),
      },
      decisions: sum('incident_router_decisions_total', 'outcome'),
      notifications: {
        sent: sum('incident_router_notifications_total', 'provider'),
        failed: sum('incident_router_notifications_failed_total', 'provider'),
      },
      providers: Object.fromEntries(
        deps.source
          .providers()
          .map((p) => [p.name, { breaker: p.breaker.kind, pending: p.pending, ...p.health }]),
      ),
      deliveries_pending: await deps.source.deliveriesPending(),
      webhooks: sum('incident_router_webhooks_total', 'result'),
    });
  });
  return router;
}
