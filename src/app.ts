// Wiring only: build every component from the validated configuration; start, stop, reload.
import { createServer, type Server } from 'node:http';
import type { DestinationStream } from 'pino';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config/config.js';
import { systemClock, type Clock } from './domain/clock.js';
import { createApi } from './api/app.js';
import { errorMessage } from './errors.js';
import { healthRouter, type HealthSource, type WebhookAuth } from './api/routes/health.js';
import { incidentsRouter } from './api/routes/incidents.js';
import { ingestRouter } from './api/routes/ingest.js';
import { policyRouter } from './api/routes/policy.js';
import { diffRouter } from './api/routes/diff.js';
import { schedulesRouter } from './api/routes/schedules.js';
import { silencesRouter } from './api/routes/silences.js';
import { streamRouter } from './api/routes/stream.js';
import { systemRouter } from './api/routes/system.js';
import { webhooksRouter } from './api/routes/webhooks.js';
import { Breakers } from './deliver/breakers.js';
import { Dispatcher } from './deliver/dispatcher.js';
import type { DeliveryEngine } from './deliver/engine.js';
import { ProviderRuntime } from './deliver/provider-runtime.js';
import { DeliveryRecorder } from './incidents/delivery-outcomes.js';
import { Incidents } from './incidents/incidents.js';
import { LifecycleBus } from './incidents/lifecycle.js';
import type { NatsIngest } from './ingest/nats/index.js';
import { CoverageChecker } from './oncall/coverage-checker.js';
import { dashboardRouter } from './dashboard/routes.js';
import { Pipeline } from './pipeline.js';
import { LevelDbRing } from './diff/recent/leveldb-ring.js';
import { RecentEvents } from './diff/recent/recent-events.js';
import type { ProviderRegistry } from './providers/registry.js';
import type { LoadedPolicy } from './policy/load.js';
import { parseCache } from './policy/load/parse-cache.js';
import { PolicyManager } from './policy/manager.js';
import { PatternChecker } from './policy/redos.js';
import type { Sandbox } from './sandbox/index.js';
import type { StateBackend } from './state/backend.js';
import type { Membership } from './state/jetstream/membership.js';
import type { JetStreamState } from './state/jetstream/state.js';
import { LevelDbState } from './state/leveldb.js';
import { Silences } from './silences/silences.js';
import { Retention } from './state/retention.js';
import { EscalationScheduler } from './escalation/scheduler.js';
import { IdGenerator } from './store/index.js';
import { createLogger, SecretScrubber, type Logger } from './telemetry/logger.js';
import { Metrics } from './telemetry/metrics.js';
import { StreamHub, counterTotals, feedStream, streamedHooks } from './stream/index.js';
import { UnmatchedWebhooks, webhookSecrets } from './webhooks/index.js';
import { tokenList } from './config/tokens.js';
import { projectFile } from './project-files.js';

export const VERSION = (JSON.parse(readFileSync(projectFile('package.json'), 'utf8')) as { version: string })
  .version;

export interface AppOptions {
  clock?: Clock;
  logger?: Logger;
  /** Where logs go when no logger is given (default stdout); tests capture them. */
  logDestination?: DestinationStream;
  /** Watch the policy directory for changes (off in some tests). */
  watchPolicy?: boolean;
  /** Sandbox mode: use these simulators instead of starting new ones (tests drive them directly). */
  sandbox?: Sandbox;
  random?: () => number;
  /** How long a request's headers, and the whole request, may take to arrive (tests shorten them). */
  httpTimeouts?: { headersMs: number; requestMs: number };
}

const HTTP_TIMEOUTS = { headersMs: 10_000, requestMs: 30_000 };
/** The recent-events ring is written once a second at most, and holds this many events waiting. */
const RECENT_FLUSH_MS = 1_000;
const RECENT_MAX_PENDING = 50_000;
/**
 * The sandbox runs inside this process: its simulators forget the oldest resolved incidents and
 * closed alerts past these, so a demo left running does not grow with every incident it saw.
 */
const SANDBOX_BOUNDS = { pagerduty: { keepResolved: 10_000 }, opsgenie: { keepClosed: 10_000 } };

/** Everything that exists once the app has started. */
export interface Running {
  state: StateBackend;
  incidents: Incidents;
  /** What sends the outbox: the dispatcher (LevelDB) or the cluster's outbox workers (JetStream). */
  engine: DeliveryEngine;
  /** Cluster mode (JetStream state): the shared state and this replica's membership. */
  cluster: Cluster | null;
  pipeline: Pipeline;
  /** The recent-events ring (docs/policy-diff.md); null when RECENT_EVENTS_MAX=0. */
  recent: RecentEvents | null;
  retention: Retention;
  providers: ProviderRuntime;
  breakers: Breakers;
  lifecycle: LifecycleBus;
  sandbox: Sandbox | null;
  nats: NatsIngest | null;
  unmatched: UnmatchedWebhooks;
  /** On-call coverage: checks every schedule at start, on policy changes and periodically. */
  coverage: CoverageChecker;
  /** Escalation timers (docs/architecture.md, "Escalation timers"). */
  escalations: EscalationScheduler;
  /** The live stream's hub and its feeds (docs/architecture.md, "Live stream"). */
  stream: { hub: StreamHub; stop: () => void };
  /** Silences made at run time (docs/http-api.md, "Silences"). */
  silences: Silences;
}

/** The backend chosen by STATE, and in cluster mode what the replicas share. */
type Backend = { state: LevelDbState; cluster: null } | { state: JetStreamState; cluster: Cluster };

export interface Cluster {
  state: JetStreamState;
  membership: Membership;
}

/** The credentials inbound webhooks must carry (PagerDuty signing secrets, the OpsGenie token). */
interface WebhookCredentials {
  pagerdutySecrets: string[];
  opsgenieTokens: string[];
}

export class App {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics = new Metrics({ defaultMetrics: true });
  readonly scrubber = new SecretScrubber();
  /** One regular-expression checker for the policy on disk and candidates alike (redos.ts). */
  private readonly checker: PatternChecker;
  private get parsesFile(): string {
    return join(this.config.dataDir, 'policy-parses.json');
  }
  readonly policies: PolicyManager;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private running: Running | null = null;
  private ownsSandbox = false;
  /** The shutdown step under way (`serve` names it when shutdown overruns its deadline). */
  stopping: string | null = null;
  private readonly startedAt: number;
  private readonly webhookCredentials: WebhookCredentials;

  constructor(
    readonly config: Config,
    private readonly options: AppOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.startedAt = this.clock.now();
    this.webhookCredentials = webhookCredentialsFor(config);
    this.checker = new PatternChecker(join(config.dataDir, 'policy-regex-verdicts.json'));
    // The policy files read by the last run: a restart with them unchanged parses no YAML.
    parseCache.believe(this.parsesFile);
    this.scrubber.set('config', [
      ...config.secretValues,
      config.apiToken,
      ...tokenList(config.apiToken),
      config.pagerdutyWebhookSecret,
      config.opsgenieWebhookToken,
      ...this.webhookCredentials.pagerdutySecrets,
      ...this.webhookCredentials.opsgenieTokens,
    ]);
    this.logger =
      options.logger ??
      createLogger({
        level: config.logLevel,
        scrubber: this.scrubber,
        ...(options.logDestination ? { destination: options.logDestination } : {}),
      });
    this.policies = new PolicyManager({
      dir: config.policyDir,
      env: config.env,
      sandbox: config.sandbox,
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
      scrubber: this.scrubber,
      checker: this.checker,
    });
  }

  get parts(): Running {
    if (this.running === null) throw new Error('the app has not started');
    return this.running;
  }

  /** Load the policy (throws PolicyError with every problem), open the store, resume the outbox, listen. */
  async start(): Promise<{ url: string }> {
    // The state opens while the policy loads: LevelDB's open runs on libuv's threads, cluster mode's
    // on NATS round trips, and the policy's load is all on this one (docs/performance.md, "Restart
    // and footprint"). A policy that does not load is still the error reported, as before.
    const opening = this.openState();
    opening.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    try {
      await this.policies.start();
    } catch (err) {
      await opening.then(
        (backend) => backend.state.close(),
        () => undefined,
      );
      throw err;
    }
    const backend = await opening;
    void this.checker.persist();
    // Saved once DATA_DIR exists (the store made it), and again whenever the policy changes.
    const persistParses = (loaded: LoadedPolicy): Promise<void> =>
      parseCache.persist(
        this.parsesFile,
        loaded.files.map((f) => f.sha256),
      );
    void persistParses(this.policies.current().loaded);
    this.policies.onChange((p) => void persistParses(p.loaded));
    try {
      this.running = await this.build(backend);
    } catch (err) {
      await backend.state.close();
      throw err;
    }
    // A client that sends its headers or body slowly (a slowloris) holds a socket only this long;
    // Node's own default for a whole request is 300 s.
    const timeouts = this.options.httpTimeouts ?? HTTP_TIMEOUTS;
    const server = createServer(
      {
        headersTimeout: timeouts.headersMs,
        requestTimeout: timeouts.requestMs,
        connectionsCheckingInterval: Math.min(1_000, timeouts.headersMs),
      },
      this.api().callback(),
    );
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port, this.config.host, () => resolve());
    });
    this.server = server;
    this.pointSandboxWebhooksHere();
    if (this.options.watchPolicy ?? true) this.policies.watch();
    this.running.nats?.start(); // in the background: HTTP serves whether or not NATS is there
    await this.running.coverage.start();
    await this.running.cluster?.membership.start(this.url());
    if (this.running.engine instanceof Dispatcher) this.running.engine.release();
    const url = this.url();
    this.logger.info(
      { event: 'listening', url, sandbox: this.config.sandbox, data_dir: this.config.dataDir },
      `incident-router listening on ${url}`,
    );
    return { url };
  }

  /** LevelDB in this process, or the cluster's JetStream buckets (failing clearly without NATS). */
  private async openState(): Promise<Backend> {
    const { cluster, nats } = this.config;
    if (cluster === null || nats === null)
      return {
        state: await LevelDbState.open(this.config.dataDir, this.clock, (seconds, sync) =>
          this.metrics.storeCommitSeconds.observe({ sync: String(sync) }, seconds),
        ),
        cluster: null,
      };
    this.metrics.registry.setDefaultLabels({ replica: cluster.replica });
    // Loaded only here: one sidecar on LevelDB never pays for the cluster's modules (memory, start).
    const [{ openBuckets }, { JetStreamState }, { Membership }] = await Promise.all([
      import('./state/jetstream/buckets.js'),
      import('./state/jetstream/state.js'),
      import('./state/jetstream/membership.js'),
    ]);
    const started = performance.now();
    const buckets = await openBuckets(nats.servers, cluster, nats.auth, (err, attempt, waitMs) =>
      this.logger.warn(
        { event: 'cluster_open_retry', attempt, wait_ms: waitMs, err },
        `cluster mode: JetStream buckets not opened yet (${errorMessage(err)}); trying again in ${waitMs} ms`,
      ),
    );
    const opened = performance.now();
    const state = new JetStreamState(buckets, this.logger, this.metrics);
    await state.start();
    const timing = {
      open_ms: Math.round(opened - started),
      replay_ms: Math.round(performance.now() - opened),
    };
    const self = {
      replica: cluster.replica,
      version: VERSION,
      started_at: new Date(this.startedAt).toISOString(),
    };
    const membership = new Membership(buckets.members, self, this.logger, this.metrics);
    this.logger.info(
      {
        event: 'cluster_state',
        cluster: cluster.name,
        replica: cluster.replica,
        replicas: cluster.replicas,
        ...timing,
      },
      `cluster mode: state in NATS JetStream (${cluster.name}), replica ${cluster.replica}`,
    );
    return { state, cluster: { state, membership } };
  }

  private async build(backend: Backend): Promise<Running> {
    const { clock, logger, metrics } = this;
    const { state, cluster } = backend;
    const sandbox = await this.sandbox();
    const policy = (): ReturnType<PolicyManager['current']>['compiled'] => this.policies.current().compiled;
    const lifecycle = new LifecycleBus();
    // Read only while a client listens, after everything below exists.
    const hub = new StreamHub({
      clock,
      metrics,
      scrubber: this.scrubber,
      providers: () => providerSnapshots(engine, providers, breakers),
      counters: () => counterTotals(metrics),
      ...(this.config.cluster ? { replica: this.config.cluster.replica } : {}),
    });
    const breakers = new Breakers(
      { store: state, clock, logger, metrics },
      policy().settings.delivery.breaker,
    );
    await breakers.restore(Object.keys(policy().providers));
    const ids = new IdGenerator(clock);
    // A fired tier's triggers go to the outbox like any other (its retries, breakers, failover).
    const escalations = new EscalationScheduler({
      clock,
      logger,
      fire: async (id) => {
        const fired = await incidents.fireEscalation(id);
        if (fired.fired) engine.enqueue(fired.deliveries);
      },
    });
    metrics.escalationTimerCount = () => escalations.size;
    // Made below (it reads the incidents' open view); a tier that finds a schedule empty asks it.
    let coverage: CoverageChecker | null = null;
    const incidents = new Incidents({
      ...{ state, ids, clock, lifecycle, logger, metrics, policy },
      timers: escalations,
      onEmptySchedules: (schedules) => coverage?.checkSoon(schedules),
    });
    const recorder = new DeliveryRecorder({
      state,
      live: (incident) => incidents.live(incident),
      providers: (): ProviderRegistry => providers.current(),
      clock,
      lifecycle,
      logger,
      policyVersion: () => policy().stamp.version,
      incidentUrl: (id) => `${this.config.publicUrl}/?incident=${encodeURIComponent(id)}`,
      deliveryId: () => ids.deliveryId(),
    });
    const attempts = {
      clock,
      random: this.options.random ?? Math.random,
      breakers,
      hooks: streamedHooks(recorder, hub, clock),
      logger,
      metrics,
    };
    let engine: DeliveryEngine;
    if (cluster === null) {
      const dispatcher = new Dispatcher(attempts);
      // Released once this process listens (start): a resumed outbox must not hold up ready.
      dispatcher.hold();
      engine = dispatcher;
    } else {
      const [{ OutboxWorker }, { ClusterLimiter }] = await Promise.all([
        import('./state/jetstream/outbox-worker.js'),
        import('./state/jetstream/rate-limit.js'),
      ]);
      const worker = new OutboxWorker({
        ...attempts,
        state: cluster.state,
        limiters: (limit) => new ClusterLimiter(cluster.state.buckets.rates, cluster.state.claims, limit),
      });
      metrics.countPendingWith(() => worker.pendingCount());
      engine = worker;
    }
    const { pointAtSandbox } = sandbox ? await import('./sandbox/wire.js') : { pointAtSandbox: null };
    const providers: ProviderRuntime = new ProviderRuntime({
      engine,
      breakers,
      rewrite: sandbox && pointAtSandbox ? pointAtSandbox(sandbox) : (specs) => ({ ...specs }),
      // The simulators of --sandbox are in this process: never through a proxy.
      http: { proxy: sandbox ? null : this.config.proxy },
    });
    await incidents.start();
    const silences = new Silences({
      store: state,
      clock,
      logger,
      metrics,
      verdicts: (sources) => this.checker.verdicts(sources, 'candidate'),
      retentionMs: this.config.retentionMs,
    });
    await silences.start();
    if (cluster === null) await this.resumeOutbox(backend.state, engine as Dispatcher);
    else {
      const waiting = await engine.pendingCount();
      if (waiting > 0)
        logger.info(
          { event: 'outbox_resumed', pending: waiting },
          `resuming ${waiting} pending deliveries (the cluster's outbox)`,
        );
    }
    providers.apply(policy());
    this.policies.onChange((p) => providers.apply(p.compiled));
    const stream = await this.streamFeeds(hub, { cluster, lifecycle, breakers });
    // Timers that fell due while the sidecar was down fire now, each once.
    escalations.start();
    const recent = await this.recentEvents(backend);
    const pipeline = new Pipeline({
      policies: this.policies,
      incidents,
      outbox: engine,
      clock,
      metrics,
      logger,
      silences,
      ...(recent === null ? {} : { recent }),
    });
    // Cluster mode: a line applied here before another replica's older line is applied again
    // (docs/nats.md, "Ordering and backpressure").
    incidents.onOvertaken((input) =>
      pipeline
        .process(input)
        .catch((err: unknown) =>
          logger.error({ event: 'overtaken_line_failed', err }, 'could not apply an overtaken line again'),
        ),
    );
    const nats = this.config.nats
      ? new (await import('./ingest/nats/index.js')).NatsIngest(this.config.nats, {
          pipeline,
          policies: this.policies,
          clock,
          lifecycle,
          metrics,
          logger,
        })
      : null;
    const retention = new Retention({
      state,
      clock,
      logger,
      retentionMs: this.config.retentionMs,
      ...(cluster ? { mayRun: () => cluster.membership.leads() } : {}),
    });
    retention.start();
    const unmatched = new UnmatchedWebhooks();
    // Every replica checks; the gap's fingerprint makes their alerts one incident.
    const checker = new CoverageChecker({
      policy,
      pipeline,
      clock,
      logger,
      isOpen: (fingerprint) => incidents.open.openIncident(fingerprint) !== null,
    });
    coverage = checker;
    this.policies.onChange(() => void checker.check());
    return {
      state,
      incidents,
      engine,
      cluster,
      pipeline,
      recent,
      retention,
      providers,
      breakers,
      lifecycle,
      sandbox,
      nats,
      unmatched,
      coverage: checker,
      escalations,
      stream,
      silences,
    };
  }

  /** LevelDB: a database of its own beside the store; cluster mode: a bounded JetStream stream. */
  private async recentEvents(backend: Backend): Promise<RecentEvents | null> {
    const { maxEvents, maxBytes, sampleEvery } = this.config.recentEvents;
    if (maxEvents === 0) return null;
    const bounds = { maxEvents, maxBytes };
    const store =
      backend.cluster === null || this.config.cluster === null
        ? await LevelDbRing.open(this.config.dataDir, bounds)
        : await (
            await import('./diff/recent/jetstream-ring.js')
          ).JetStreamRing.open(backend.cluster.state.buckets.nc, this.config.cluster, bounds);
    const settings = { sampleEvery, flushMs: RECENT_FLUSH_MS, maxPending: RECENT_MAX_PENDING };
    return new RecentEvents(
      store,
      settings,
      (text) => this.scrubber.scrub(text),
      (err, events) => {
        this.metrics.recentEventsLost.inc({ reason: 'write_failed' }, events);
        this.logger.warn(
          { event: 'recent_events_write_failed', err, events },
          `the recent-events ring could not store ${events} events; diff --recorded will miss them`,
        );
      },
      () => this.metrics.recentEventsLost.inc({ reason: 'behind' }),
    );
  }

  /** One replica's own changes, or in cluster mode every replica's (docs/architecture.md, "Live stream"). */
  private async streamFeeds(
    hub: StreamHub,
    parts: { cluster: Cluster | null; lifecycle: LifecycleBus; breakers: Breakers },
  ): Promise<Running['stream']> {
    const { cluster, lifecycle, breakers } = parts;
    const named = this.config.cluster;
    const local = cluster === null || named === null;
    const unfeed = feedStream(hub, {
      clock: this.clock,
      lifecycle: local ? lifecycle : null,
      breakers,
      policies: this.policies,
    });
    if (local) return { hub, stop: unfeed };
    const { bridgeCluster } = await import('./stream/cluster.js');
    const unbridge = bridgeCluster(hub, {
      nc: cluster.state.buckets.nc,
      cluster: named.name,
      replica: named.replica,
      lifecycle,
      logger: this.logger,
    });
    return { hub, stop: () => (unfeed(), unbridge()) };
  }

  /** Every pending delivery goes back to the dispatcher: a restart is a new chance, so waiting ones go now. */
  private async resumeOutbox(state: LevelDbState, engine: Dispatcher): Promise<void> {
    const pending = await state.pendingDeliveries();
    const now = this.clock.now();
    for (const d of pending) d.next_attempt_at = Math.min(d.next_attempt_at, now);
    engine.enqueue(pending);
    if (pending.length > 0)
      this.logger.info(
        { event: 'outbox_resumed', pending: pending.length },
        `resuming ${pending.length} pending deliveries`,
      );
  }

  /** Sandbox mode: the simulators, beside the sidecar's own port (PORT+1..3) so a person can look at /__sim. */
  private async sandbox(): Promise<Sandbox | null> {
    if (!this.config.sandbox) return null;
    const base = this.config.port;
    const ports =
      base === 0 || base > 65532 ? undefined : { pagerduty: base + 1, opsgenie: base + 2, webhook: base + 3 };
    const { startSandbox } = await import('./sandbox/index.js');
    const sandbox =
      this.options.sandbox ??
      (await startSandbox({ host: this.config.host, ...(ports ? { ports } : {}), ...SANDBOX_BOUNDS }).catch(
        () => startSandbox({ host: this.config.host, ...SANDBOX_BOUNDS }),
      ));
    this.ownsSandbox = this.options.sandbox === undefined;
    this.logger.info(
      { event: 'sandbox_started', urls: sandbox.urls },
      'sandbox: providers point at the built-in simulators',
    );
    return sandbox;
  }

  /** Sandbox: the simulators send their webhooks here, signed with the credentials this app requires. */
  private pointSandboxWebhooksHere(): void {
    const sandbox = this.running?.sandbox;
    if (!sandbox) return;
    const base = this.listenUrl(true);
    const [secret, ...additionalSecrets] = this.webhookCredentials.pagerdutySecrets;
    const token = this.webhookCredentials.opsgenieTokens[0];
    if (secret !== undefined)
      sandbox.pagerduty.configureWebhook({
        url: `${base}/api/v1/webhooks/pagerduty`,
        secret,
        additionalSecrets,
      });
    if (token !== undefined)
      sandbox.opsgenie.configureWebhook({ url: `${base}/api/v1/webhooks/opsgenie`, token });
  }

  private api() {
    const r = this.parts;
    const health: HealthSource = {
      providers: () => providerSnapshots(r.engine, r.providers, r.breakers),
      incidentsByState: () => r.state.countByState(),
      deliveriesPending: () => r.engine.pendingCount().catch(() => -1),
      policy: () => {
        if (!this.policies.isLoaded()) return null;
        const { stamp } = this.policies.current().compiled;
        return { ...stamp, last_reload_ok: this.policies.lastReload()?.ok ?? true };
      },
      nats: () => r.nats?.status() ?? null,
      state: async () => {
        const bytes = await r.state.storageBytes().catch(() => 0);
        this.metrics.storageBytes.set(bytes);
        return { backend: r.state.kind, storage_bytes: bytes };
      },
      cluster: async () => {
        const cluster = r.cluster;
        if (cluster === null || this.config.cluster === null) return null;
        const replicas = cluster.membership.live();
        const pending = await r.engine.pendingCount().catch(() => -1);
        return {
          name: this.config.cluster.name,
          replica: this.config.cluster.replica,
          replicas,
          deliveries_pending: pending,
        };
      },
      webhooks: () => ({
        pagerduty: webhookAuth(this.webhookCredentials.pagerdutySecrets),
        opsgenie: webhookAuth(this.webhookCredentials.opsgenieTokens),
        unmatched: r.unmatched.total,
      }),
    };
    return createApi({
      logger: this.logger,
      scrubber: this.scrubber,
      routers: [
        dashboardRouter(),
        systemRouter({
          metrics: this.metrics,
          readiness: [
            { name: 'policy', ready: () => this.policies.isLoaded() },
            { name: 'store', ready: () => this.running !== null },
            { name: 'state', ready: () => this.running?.cluster?.state.reachable() ?? this.running !== null },
          ],
        }),
        policyRouter({
          policies: this.policies,
          clock: this.clock,
          apiToken: this.config.apiToken,
          sandbox: this.config.sandbox,
          candidateEnv: this.config.candidateEnv,
          checker: this.checker,
          incidents: r.incidents.open,
          silences: r.silences,
          flaps: (fingerprint, damping, nowMs) => r.incidents.flapOutlook(fingerprint, damping, nowMs),
        }),
        diffRouter({
          policies: this.policies,
          recent: r.recent,
          clock: this.clock,
          apiToken: this.config.apiToken,
          sandbox: this.config.sandbox,
          candidateEnv: this.config.candidateEnv,
          checker: this.checker,
        }),
        ingestRouter({
          pipeline: r.pipeline,
          clock: this.clock,
          metrics: this.metrics,
          apiToken: this.config.apiToken,
        }),
        silencesRouter({ silences: r.silences, clock: this.clock, apiToken: this.config.apiToken }),
        schedulesRouter({ policy: () => this.policies.current().compiled, clock: this.clock }),
        streamRouter({ hub: r.stream.hub }),
        incidentsRouter({
          incidents: r.incidents,
          state: r.state,
          outbox: r.engine,
          apiToken: this.config.apiToken,
        }),
        webhooksRouter({
          incidents: r.incidents,
          state: r.state,
          outbox: r.engine,
          providers: () => this.policies.current().compiled.providers,
          ...this.webhookCredentials,
          unmatched: r.unmatched,
          clock: this.clock,
          logger: this.logger,
          metrics: this.metrics,
        }),
        healthRouter({
          source: health,
          metrics: this.metrics,
          clock: this.clock,
          startedAt: this.startedAt,
          version: VERSION,
        }),
      ],
    });
  }

  url(): string {
    return this.listenUrl(false);
  }

  /**
   * Forgets what only speeds up a burst: the state backend's caches and storm control's services
   * outside their window (docs/runtime.md, "The heap at rest"). Called when the process is at rest.
   */
  shed(): void {
    if (this.running === null) return;
    this.running.state.shed();
    this.running.incidents.shed(this.clock.now());
  }

  /** `wildcardAsLoopback`: how a local client (the sandbox) reaches a 0.0.0.0 or :: listener. */
  private listenUrl(wildcardAsLoopback: boolean): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('not listening');
    const wildcard = address.address === '0.0.0.0' || address.address === '::';
    const host =
      wildcard && wildcardAsLoopback
        ? '127.0.0.1'
        : address.family === 'IPv6'
          ? `[${address.address}]`
          : address.address;
    return `http://${host}:${address.port}`;
  }

  /**
   * Graceful: stop accepting requests and let those in flight finish, stop starting deliveries and
   * let attempts in flight finish, write back counters, close the store. Pending deliveries stay in
   * the outbox for the next start.
   */
  async stop(graceMs = 5_000): Promise<void> {
    this.policies.stop();
    const server = this.server;
    this.server = null;
    if (server) {
      this.stopping = 'http';
      // Open streams end first: the server's close waits for every connection.
      this.running?.stream.hub.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => {
        for (const socket of this.sockets) socket.destroy();
      }, graceMs);
      await closed;
      clearTimeout(timer);
    }
    const running = this.running;
    this.running = null;
    if (running) {
      const step = async (name: string, run: () => unknown): Promise<void> => {
        this.stopping = name;
        this.logger.debug({ event: 'stopping', step: name }, `stopping: ${name}`);
        await run();
      };
      await step('nats', () => running.nats?.stop(graceMs));
      await step('coverage', () => running.coverage.stop());
      await step('retention', () => running.retention.stop());
      await step('escalations', () => running.escalations.stop());
      running.silences.stop();
      await step('deliveries', () => running.engine.stop(graceMs));
      await step('incidents', () => running.incidents.stop());
      await step('recent events', () => running.recent?.close());
      await step('state writes', () => running.state.idle());
      if (running.sandbox) {
        running.sandbox.pagerduty.configureWebhook(null);
        running.sandbox.opsgenie.configureWebhook(null);
      }
      await step('providers', () => running.providers.close());
      running.stream.stop();
      await step('membership', () => running.cluster?.membership.stop());
      await step('state', () => running.state.close());
      if (running.sandbox && this.ownsSandbox) await step('sandbox', () => running.sandbox?.stop());
    }
    this.stopping = 'done';
    this.logger.info({ event: 'stopped' }, 'incident-router stopped');
    this.logger.flush();
  }
}

/** Each provider instance's breaker, health and pending deliveries (health and the live stream). */
function providerSnapshots(
  engine: DeliveryEngine,
  providers: ProviderRuntime,
  breakers: Breakers,
): ReturnType<HealthSource['providers']> {
  const pending = engine.pendingByProvider();
  return Object.entries(providers.effectiveSpecs()).map(([name, spec]) => ({
    name,
    type: spec.type,
    breaker: breakers.get(name).state(),
    health: engine.healthOf(name).snapshot(),
    pending: pending[name] ?? 0,
  }));
}

/** What health says of a provider's webhook credentials (never the credentials). */
function webhookAuth(credentials: readonly string[]): WebhookAuth {
  return { configured: credentials.length > 0, rotating: credentials.length > 1 };
}

/**
 * PAGERDUTY_WEBHOOK_SECRET and OPSGENIE_WEBHOOK_TOKEN (each several during a rotation). The sandbox
 * makes up random ones when they are unset, so its simulators' webhooks are authenticated too.
 */
function webhookCredentialsFor(config: Config): WebhookCredentials {
  const pagerdutySecrets = webhookSecrets(config.pagerdutyWebhookSecret);
  const opsgenieTokens = tokenList(config.opsgenieWebhookToken);
  const made = (): string => randomBytes(24).toString('base64url');
  return {
    pagerdutySecrets: pagerdutySecrets.length === 0 && config.sandbox ? [made()] : pagerdutySecrets,
    opsgenieTokens: opsgenieTokens.length === 0 && config.sandbox ? [made()] : opsgenieTokens,
  };
}
