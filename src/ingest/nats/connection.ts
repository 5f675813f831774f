// One NATS connection for the sidecar: it reconnects by itself for ever, never blocks start-up
// (HTTP keeps serving while NATS is away), and reports its state to metrics, health and the log.
// The client's defaults give up after ~20 s; a sidecar must not (docs/nats.md, "Connection and shutdown").
import type { NatsConnection } from '@nats-io/transport-node';
import type { NatsAuth } from '../../config/nats-auth.js';
import { connect } from '../../nats/connect.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';

export interface ConnectionState {
  connected: boolean;
  server: string | null;
  since: string | null;
  reconnects: number;
  last_error: string | null;
}

export class NatsLink {
  private nc: NatsConnection | null = null;
  private closing = false;
  readonly state: ConnectionState = {
    connected: false,
    server: null,
    since: null,
    reconnects: 0,
    last_error: null,
  };
  private readonly onConnectListeners: ((nc: NatsConnection) => void)[] = [];

  constructor(
    private readonly deps: {
      servers: string[];
      auth: NatsAuth;
      logger: Logger;
      metrics: Metrics;
      name?: string;
    },
  ) {}

  /** Connects in the background; listeners run once the first connection is up. */
  start(): void {
    void this.connectLoop();
  }

  onConnect(listener: (nc: NatsConnection) => void): void {
    this.onConnectListeners.push(listener);
    if (this.nc) listener(this.nc);
  }

  connection(): NatsConnection | null {
    return this.nc;
  }

  private async connectLoop(): Promise<void> {
    let attempt = 0;
    while (!this.closing && this.nc === null) {
      try {
        const nc = await connect(
          {
            servers: this.deps.servers,
            name: this.deps.name ?? 'incident-router',
            maxReconnectAttempts: -1,
            reconnectTimeWait: 500,
            reconnectJitter: 250,
            pingInterval: 10_000,
            maxPingOut: 3,
          },
          this.deps.auth,
        );
        if (this.closing) {
          await nc.close();
          return;
        }
        this.nc = nc;
        this.up(nc.getServer());
        this.deps.logger.info(
          { event: 'nats_connected', server: nc.getServer() },
          `connected to NATS at ${nc.getServer()}`,
        );
        void this.watch(nc);
        for (const l of this.onConnectListeners) l(nc);
      } catch (err) {
        this.state.last_error = (err as Error).message;
        if (attempt++ % 20 === 0)
          this.deps.logger.warn(
            { event: 'nats_connect_failed', err: (err as Error).message },
            `cannot reach NATS at ${this.deps.servers.join(',')}; retrying (HTTP keeps serving)`,
          );
        await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * 2 ** Math.min(attempt, 5))));
      }
    }
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      switch (s.type) {
        case 'disconnect':
          this.down(`disconnected from ${s.server}`);
          this.deps.logger.warn(
            { event: 'nats_disconnected', server: s.server },
            'NATS disconnected; reconnecting',
          );
          break;
        case 'reconnect':
          this.state.reconnects++;
          this.up(s.server);
          this.deps.logger.info({ event: 'nats_reconnected', server: s.server }, 'NATS reconnected');
          break;
        case 'error':
          this.state.last_error = String((s as { error?: unknown }).error ?? 'error');
          break;
        default:
          break;
      }
    }
  }

  private up(server: string): void {
    this.state.connected = true;
    this.state.server = server;
    this.state.since = new Date().toISOString();
    this.deps.metrics.natsConnected.set(1);
  }

  private down(reason: string): void {
    this.state.connected = false;
    this.state.last_error = reason;
    this.state.since = new Date().toISOString();
    this.deps.metrics.natsConnected.set(0);
  }

  /** Publish what is buffered, then close. */
  async close(): Promise<void> {
    this.closing = true;
    const nc = this.nc;
    this.nc = null;
    if (nc && !nc.isClosed()) {
      await nc.drain().catch(() => nc.close());
    }
    this.down('closed');
  }
}
