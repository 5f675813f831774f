// Where the live stream's items come from (docs/architecture.md, "Live stream"): the lifecycle bus,
// every breaker, the policy manager's reloads, the outbox's delivery hooks, the metrics' counters.
// Each producer builds an item only while a client listens (`hub.listening`).
import type { Clock } from '../domain/clock.js';
import type { DeliveryHooks } from '../deliver/attempts.js';
import type { Breakers } from '../deliver/breakers.js';
import type { LifecycleBus } from '../incidents/lifecycle.js';
import type { PolicyManager } from '../policy/manager.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { StreamHub } from './hub.js';
import type { CountersItem, DeliveryItem } from './items.js';
import type { Delivery } from '../domain/incident.js';

export function feedStream(
  hub: StreamHub,
  sources: {
    clock: Clock;
    /** This process's lifecycle changes; null in cluster mode, where the bridge feeds them (cluster.ts). */
    lifecycle: LifecycleBus | null;
    breakers: Pick<Breakers, 'onChange'>;
    policies: Pick<PolicyManager, 'onReload'>;
  },
): () => void {
  const at = (): string => new Date(sources.clock.now()).toISOString();
  const unsubscribe = [
    sources.lifecycle?.subscribe({ incident: (event) => hub.incident(event) }) ?? (() => true),
    sources.breakers.onChange((provider, from, to) => {
      if (hub.listening) hub.push({ type: 'breaker', at: at(), provider, from, to });
    }),
    sources.policies.onReload((outcome) => {
      if (hub.listening) hub.push({ type: 'policy', ...outcome });
    }),
  ];
  return () => unsubscribe.forEach((u) => u());
}

/**
 * The outbox's hooks, also telling the stream of every attempt's outcome. While nobody listens
 * they are the recorder's own calls: no extra promise, no item.
 */
export function streamedHooks(hooks: DeliveryHooks, hub: StreamHub, clock: Clock): DeliveryHooks {
  const at = (): string => new Date(clock.now()).toISOString();
  return {
    request: (delivery, provider, incident) => hooks.request(delivery, provider, incident),
    delivered(delivery, provider, response, request, latencyMs) {
      const recorded = hooks.delivered(delivery, provider, response, request, latencyMs);
      if (!hub.listening) return recorded;
      return recorded.then((followUps) => {
        hub.push({
          ...attempt(delivery, provider, at()),
          outcome: 'delivered',
          status: response.status,
          latency_ms: Math.round(latencyMs),
        });
        return followUps;
      });
    },
    failed(delivery, provider, error, outcome) {
      const recorded = hooks.failed(delivery, provider, error, outcome);
      if (!hub.listening) return recorded;
      return recorded.then(() =>
        hub.push({
          ...attempt(delivery, provider, at()),
          outcome: outcome.kind,
          status: error.status,
          latency_ms: null,
          reason: error.reason,
          ...(outcome.kind === 'failover' ? { to: outcome.to } : {}),
        }),
      );
    },
  };
}

function attempt(
  delivery: Delivery,
  provider: string,
  at: string,
): Pick<
  DeliveryItem,
  'type' | 'at' | 'delivery_id' | 'incident_id' | 'action' | 'provider' | 'attempts' | 'failover'
> {
  return {
    type: 'delivery',
    at,
    delivery_id: delivery.id,
    incident_id: delivery.incident_id,
    action: delivery.action,
    provider,
    attempts: delivery.attempts,
    failover: provider !== delivery.candidates[0],
  };
}

/** Totals of the counters the stream sends once a second (read like a scrape: tallies settle). */
export async function counterTotals(
  metrics: Pick<Metrics, 'eventsReceived' | 'eventsDropped' | 'deadLetters' | 'decisions'>,
): Promise<Omit<CountersItem, 'type' | 'at'>> {
  const [received, dropped, dead, decisions] = await Promise.all([
    metrics.eventsReceived.get(),
    metrics.eventsDropped.get(),
    metrics.deadLetters.get(),
    metrics.decisions.get(),
  ]);
  return {
    events_received: byLabel(received.values, 'source'),
    events_dropped: byLabel(dropped.values, 'reason'),
    dead_letters: byLabel(dead.values, 'reason'),
    decisions: byLabel(decisions.values, 'outcome'),
  };
}

function byLabel(
  values: readonly { labels: Partial<Record<string, string | number>>; value: number }[],
  label: string,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) {
    const key = String(v.labels[label] ?? '');
    out[key] = (out[key] ?? 0) + v.value;
  }
  return out;
}
