import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type CounterConfiguration,
} from 'prom-client';

/** A count kept as a plain number until its counter is read. */
export class Tally {
  n = 0;

  inc(): void {
    this.n++;
  }
}

/**
 * A counter of one label that per-event hot paths increment through tallies. prom-client hashes
 * and validates the labels on every `inc`, bound child or not: 3% of the sidecar's time at 60,000
 * events/s. A tally is a plain number, added to the counter whenever it is read (scrape or `get`).
 */
export class TalliedCounter<T extends string> extends Counter<T> {
  private readonly tallies = new Map<string, Tally>();

  constructor(config: CounterConfiguration<T> & { labelNames: readonly [T] }) {
    super({
      ...config,
      collect(this: Counter<T>) {
        (this as TalliedCounter<T>).settle();
      },
    });
  }

  /** The tally for one value of the label (the same object every time). */
  tally(value: string): Tally {
    let tally = this.tallies.get(value);
    if (tally === undefined) {
      tally = new Tally();
      this.tallies.set(value, tally);
    }
    return tally;
  }

  private settle(): void {
    const label = (this as unknown as { labelNames: readonly T[] }).labelNames[0] as T;
    for (const [value, tally] of this.tallies) {
      if (tally.n === 0) continue;
      this.inc({ [label]: value } as Partial<Record<T, string>>, tally.n);
      tally.n = 0;
    }
  }
}

const DEFAULT_PREFIX = 'incident_router_';
/**
 * prom-client's default collectors add these gauges beside `nodejs_active_{handles,requests,
 * resources}{type}`, whose sum they repeat. A `_total` gauge breaks the Prometheus naming rule
 * (`promtool check metrics` reports each), so the sum over `type` stands in for them.
 */
const REDUNDANT_TOTALS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * Every metric of the sidecar, on its own registry (tests build several apps in one process).
 * Names are part of the contract (docs/http-api.md, "GET /metrics") and keep their meaning across versions.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly eventsReceived = new TalliedCounter({
    name: 'incident_router_events_received_total',
    help: 'Log events and alerts received, by source (nats, http, alerts).',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly eventsInvalid = new TalliedCounter({
    name: 'incident_router_events_invalid_total',
    help: 'Received events refused by validation, by source.',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly eventsDropped = new TalliedCounter({
    name: 'incident_router_events_dropped_total',
    help: 'Events dropped under backpressure (core NATS only; JetStream redelivers), by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly decisions = new TalliedCounter({
    name: 'incident_router_decisions_total',
    help: 'Decisions by outcome: paged, recorded, suppressed, deduplicated, ignored, resolved.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly notifications = new Counter({
    name: 'incident_router_notifications_total',
    help: 'Requests a provider accepted (2xx), by provider instance.',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });
  readonly notificationsFailed = new Counter({
    name: 'incident_router_notifications_failed_total',
    help: 'Failed provider requests, by provider instance and reason.',
    labelNames: ['provider', 'reason'] as const,
    registers: [this.registry],
  });
  readonly notificationLatency = new Histogram({
    name: 'incident_router_notification_latency_seconds',
    help: 'Time from sending a request to a provider to its answer.',
    labelNames: ['provider'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly storeCommitSeconds = new Histogram({
    name: 'incident_router_store_commit_seconds',
    help: "Time one LevelDB batch took to commit, as its writers waited for it; sync: fsync'd.",
    labelNames: ['sync'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  /**
   * Where the pending gauge is read at each scrape when no dispatcher of this process sets it: in
   * cluster mode the outbox stream's waiting and unacked messages (the cluster's, as `/api/v1/health`
   * says them). Without it the gauge read 0 in cluster mode whatever waited.
   */
  private pendingSource: (() => Promise<number>) | null = null;
  readonly deliveriesPending = new Gauge({
    name: 'incident_router_deliveries_pending',
    help: 'Deliveries written to the outbox and not yet accepted by a provider.',
    registers: [this.registry],
    collect: async () => {
      if (this.pendingSource === null) return;
      const pending = await this.pendingSource().catch(() => null); // NATS away: the last value stays
      if (pending !== null) this.deliveriesPending.set(pending);
    },
  });

  /** Reads the pending gauge from `source` at each scrape (cluster mode). */
  countPendingWith(source: () => Promise<number>): void {
    this.pendingSource = source;
  }
  readonly breakerState = new Gauge({
    name: 'incident_router_breaker_state',
    help: 'Circuit breaker state per provider instance: 0 closed, 1 open, 2 half-open.',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });
  /** Incidents by state at scrape time; set by the incident core (src/incidents/incidents.ts). */
  incidentCounts: (() => Promise<Record<string, number>>) | null = null;
  readonly incidents = new Gauge({
    name: 'incident_router_incidents',
    help: 'Incidents by state.',
    labelNames: ['state'] as const,
    registers: [this.registry],
    // Read when scraped: setting it after every open and change was 1 KB of garbage per new incident.
    collect: async () => {
      const counts = await this.incidentCounts?.();
      if (counts === undefined) return;
      for (const [state, n] of Object.entries(counts)) this.incidents.set({ state }, n);
    },
  });
  readonly policyReloadSuccessful = new Gauge({
    name: 'incident_router_policy_last_reload_successful',
    help: '1 when the last policy load or reload succeeded, 0 when it was refused.',
    registers: [this.registry],
  });
  readonly policyReloads = new Counter({
    name: 'incident_router_policy_reloads_total',
    help: 'Policy reload attempts by result (success, failure).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly webhooks = new Counter({
    name: 'incident_router_webhooks_total',
    help: 'Provider webhooks received, by provider and result.',
    labelNames: ['provider', 'result'] as const,
    registers: [this.registry],
  });
  readonly deadLetters = new Counter({
    name: 'incident_router_dead_letters_total',
    help: 'Messages published to the dead-letter subject, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly natsConnected = new Gauge({
    name: 'incident_router_nats_connected',
    help: '1 while connected to NATS.',
    registers: [this.registry],
  });

  readonly staleResolves = new Counter({
    name: 'incident_router_stale_resolves_total',
    help: 'Recovery lines older than the newest failure of the incident they name: not applied.',
    registers: [this.registry],
  });
  readonly lateFailures = new Counter({
    name: 'incident_router_late_failures_total',
    help: 'Failure lines no newer than the recovery line that resolved their incident: nothing opened.',
    registers: [this.registry],
  });
  readonly overtakenLines = new Counter({
    name: 'incident_router_overtaken_lines_total',
    help: "Cluster mode: lines another replica's line overtook (a failure counted as a repeat of what an older recovery resolved there; a recovery before the open of an older failure there), applied again.",
    registers: [this.registry],
  });
  readonly escalations = new Counter({
    name: 'incident_router_escalations_total',
    help: 'Escalation tiers fired, by escalation policy and tier (1-based; tier 1 fires when an incident opens).',
    labelNames: ['policy', 'tier'] as const,
    registers: [this.registry],
  });
  readonly storageBytes = new Gauge({
    name: 'incident_router_storage_bytes',
    help: 'Bytes the state backend uses (LevelDB files, or the cluster’s JetStream buckets and outbox).',
    registers: [this.registry],
  });
  readonly clusterReplicas = new Gauge({
    name: 'incident_router_cluster_replicas',
    help: 'Live replicas of the cluster, as this replica sees them (cluster mode).',
    registers: [this.registry],
  });
  readonly heapCollectionsAtRest = new Counter({
    name: 'incident_router_heap_collections_at_rest_total',
    help: 'Full heap collections run once the process was quiet after its heap grew (each logged as heap_collected_at_rest).',
    registers: [this.registry],
  });
  readonly claimsLost = new Counter({
    name: 'incident_router_cluster_claims_lost_total',
    help: 'Writes that found the revision they started from claimed by another writer, and read again (cluster mode, NATS cluster).',
    registers: [this.registry],
  });
  readonly stateRecordsInvalid = new Counter({
    name: 'incident_router_state_records_invalid_total',
    help: 'Stored records that did not parse (logged with their key and skipped).',
    registers: [this.registry],
  });
  readonly streamClients = new Gauge({
    name: 'incident_router_stream_clients',
    help: 'Clients connected to the live stream (GET /api/v1/stream).',
    registers: [this.registry],
  });
  readonly streamDropped = new Counter({
    name: 'incident_router_stream_dropped_total',
    help: 'Live stream clients cut off, by reason (slow_client: stopped reading, its buffer past the bound).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  /** Silences by state at scrape time; set by whoever holds them (src/silences/silences.ts). */
  silenceCounts: (() => Record<'active' | 'pending' | 'expired', number>) | null = null;
  readonly silences = new Gauge({
    name: 'incident_router_silences',
    help: 'Silences by state (active, pending, expired) at scrape time.',
    labelNames: ['state'] as const,
    registers: [this.registry],
    collect: () => {
      const counts = this.silenceCounts?.();
      if (counts === undefined) return;
      for (const [state, n] of Object.entries(counts)) this.silences.set({ state }, n);
    },
  });
  /** Escalation timers pending in this process at scrape time; set by the scheduler's owner (src/app.ts). */
  escalationTimerCount: (() => number) | null = null;
  readonly escalationTimers = new Gauge({
    name: 'incident_router_escalation_timers',
    help: "Escalation timers pending in this replica's memory (incidents whose next tier, repeat or ack timeout is scheduled).",
    registers: [this.registry],
    collect: () => {
      const n = this.escalationTimerCount?.();
      if (n !== undefined) this.escalationTimers.set(n);
    },
  });
  readonly recentEventsLost = new Counter({
    name: 'incident_router_recent_events_lost_total',
    help: 'Events the recent-events ring did not keep: behind (its store fell behind) or write_failed.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly silenced = new Counter({
    name: 'incident_router_silenced_total',
    help: 'Alerts that would have paged, suppressed by a silence (recorded on alerts.recorded instead).',
    registers: [this.registry],
  });
  readonly silenceChanges = new Counter({
    name: 'incident_router_silence_changes_total',
    help: 'Silences created, updated (extended or moved) and expired through the API, by action.',
    labelNames: ['action'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (!options.defaultMetrics) return;
    collectDefaultMetrics({ register: this.registry, prefix: DEFAULT_PREFIX });
    for (const name of REDUNDANT_TOTALS) this.registry.removeSingleMetric(DEFAULT_PREFIX + name);
  }
}
