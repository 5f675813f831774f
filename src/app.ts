// Wiring only: build every component from the validated configuration; start, stop, reload.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Config } from './config/config.js';
import { systemClock, type Clock } from './domain/clock.js';
import { createApi } from './api/app.js';
import { policyRouter } from './api/routes/policy.js';
import { systemRouter } from './api/routes/system.js';
import { PolicyManager } from './policy/manager.js';
import { createLogger, SecretScrubber, type Logger } from './telemetry/logger.js';
import { Metrics } from './telemetry/metrics.js';

export interface AppOptions {
  clock?: Clock;
  logger?: Logger;
  /** Watch the policy directory for changes (off in some tests). */
  watchPolicy?: boolean;
}

export class App {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics = new Metrics({ defaultMetrics: true });
  readonly scrubber = new SecretScrubber();
  readonly policies: PolicyManager;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly config: Config,
    private readonly options: AppOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.scrubber.set([config.apiToken, config.pagerdutyWebhookSecret, config.opsgenieWebhookToken]);
    this.logger = options.logger ?? createLogger({ level: config.logLevel, scrubber: this.scrubber });
    this.policies = new PolicyManager({
      dir: config.policyDir,
      env: config.env,
      sandbox: config.sandbox,
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
      scrubber: this.scrubber,
    });
  }

  /** Load the policy (throws PolicyError with every problem), then listen. */
  async start(): Promise<{ url: string }> {
    await this.policies.start();
    const api = createApi({
      logger: this.logger,
      routers: [
        systemRouter({
          metrics: this.metrics,
          readiness: [{ name: 'policy', ready: () => this.policies.isLoaded() }],
        }),
        policyRouter({
          policies: this.policies,
          clock: this.clock,
          apiToken: this.config.apiToken,
          sandbox: this.config.sandbox,
          env: this.config.env,
        }),
      ],
    });
    const server = createServer(api.callback());
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    // Keep-alive connections must not outlive a shutdown by more than the grace period.
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port, this.config.host, () => resolve());
    });
    this.server = server;
    if (this.options.watchPolicy ?? true) this.policies.watch();
    const url = this.url();
    this.logger.info(
      { event: 'listening', url, sandbox: this.config.sandbox },
      `incident-router listening on ${url}`,
    );
    return { url };
  }

  url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('not listening');
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  /** Graceful: stop accepting, let requests in flight finish (up to graceMs), then close the rest. */
  async stop(graceMs = 5_000): Promise<void> {
    this.policies.stop();
    const server = this.server;
    this.server = null;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => {
        for (const socket of this.sockets) socket.destroy();
      }, graceMs);
      await closed;
      clearTimeout(timer);
    }
    this.logger.info({ event: 'stopped' }, 'incident-router stopped');
    this.logger.flush();
  }
}
