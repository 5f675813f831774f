// NATS ingest (docs/nats.md): one connection, core or JetStream mode, dead letters, lifecycle events out.
import type { NatsConfig } from '../../config/config.js';
import type { Clock } from '../../domain/clock.js';
import type { LifecycleBus } from '../../incidents/lifecycle.js';
import type { Pipeline } from '../../pipeline.js';
import type { PolicyManager } from '../../policy/manager.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';
import { NatsLink } from './connection.js';
import { CoreIngest } from './core.js';
import { DeadLetters } from './dead-letter.js';
import { JetStreamIngest } from './jetstream.js';
import { publishLifecycle } from './lifecycle-publisher.js';
import { OrderedProcessor } from './processor.js';
import { Triage } from './triage.js';

export interface NatsStatus {
  connected: boolean;
  mode: 'core' | 'jetstream';
  url: string;
  subject: string;
  stream: string | null;
  consuming: boolean;
  queue_depth: number;
  in_flight: number;
  /** Core mode's triage worker (triage.ts): its state and the events it let the main thread skip. */
  triage: { state: string; skipped: number } | null;
  reconnects: number;
  last_error: string | null;
}

export class NatsIngest {
  private readonly link: NatsLink;
  private readonly processor: OrderedProcessor;
  private readonly core: CoreIngest | null;
  private readonly triage: Triage | null;
  private readonly js: JetStreamIngest | null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly config: NatsConfig,
    deps: {
      pipeline: Pipeline;
      policies: PolicyManager;
      clock: Clock;
      lifecycle: LifecycleBus;
      metrics: Metrics;
      logger: Logger;
    },
  ) {
    this.link = new NatsLink({
      servers: config.servers,
      auth: config.auth,
      logger: deps.logger,
      metrics: deps.metrics,
    });
    this.processor = new OrderedProcessor(deps.pipeline, deps.metrics, config.maxInFlight);
    const deadLetters = new DeadLetters({
      subject: config.deadLetterSubject,
      metrics: deps.metrics,
      logger: deps.logger,
    });
    this.triage =
      config.stream === null && config.triage
        ? new Triage({ policies: deps.policies, clock: deps.clock, logger: deps.logger })
        : null;
    this.core =
      config.stream === null
        ? new CoreIngest({
            subject: config.subject,
            maxPending: config.maxPending,
            processor: this.processor,
            deadLetters,
            metrics: deps.metrics,
            logger: deps.logger,
            triage: this.triage,
            policies: deps.policies,
          })
        : null;
    this.js =
      config.stream === null
        ? null
        : new JetStreamIngest({
            settings: {
              stream: config.stream,
              durable: config.durable,
              subject: config.subject,
              maxDeliver: config.maxDeliver,
              ackWaitMs: config.ackWaitMs,
              batch: Math.min(1_000, config.maxInFlight),
            },
            processor: this.processor,
            deadLetters,
            logger: deps.logger,
          });
    this.unsubscribe = publishLifecycle(deps.lifecycle, this.link);
  }

  start(): void {
    this.link.onConnect((nc) => (this.core ? this.core.start(nc) : this.js?.start(nc)));
    this.link.start();
  }

  status(): NatsStatus {
    const s = this.link.state;
    return {
      connected: s.connected,
      mode: this.js ? 'jetstream' : 'core',
      url: this.config.url,
      subject: this.config.subject,
      stream: this.config.stream,
      consuming: this.js ? this.js.isConsuming() : s.connected,
      queue_depth: this.core?.depth() ?? 0,
      in_flight: this.processor.pending(),
      triage: this.triage ? { state: this.triage.state, skipped: this.core?.skipped ?? 0 } : null,
      reconnects: s.reconnects,
      last_error: s.last_error,
    };
  }

  /** Graceful: stop pulling, finish what is in flight (JetStream acks it), flush, close. */
  async stop(timeoutMs = 5_000): Promise<void> {
    await this.core?.stop(timeoutMs);
    await this.triage?.stop();
    await this.js?.stop();
    await this.processor.drained(timeoutMs);
    this.js?.flush();
    this.unsubscribe?.();
    await this.link.close();
  }
}
