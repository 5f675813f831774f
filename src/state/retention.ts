// Retention (docs/configuration.md, RETENTION): resolved incidents, their timelines and their
// delivered outbox entries are kept for a while, then deleted, so storage stays bounded. Webhook
// replay marks go after the replay window. In a cluster one replica prunes at a time (`mayRun`).
import type { Clock } from '../domain/clock.js';
import type { Logger } from '../telemetry/logger.js';
import { WEBHOOK_ID_RETENTION_MS } from '../webhooks/index.js';
import type { StateBackend } from './backend.js';

const EVERY_MS = 10 * 60_000;
const FIRST_AFTER_MS = 30_000;

export class Retention {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    private readonly deps: {
      state: Pick<StateBackend, 'prune'>;
      clock: Clock;
      logger: Logger;
      retentionMs: number;
      /** Whether this replica prunes now (cluster: one at a time); default always. */
      mayRun?: () => boolean;
    },
  ) {}

  start(): void {
    const tick = (): void => {
      void this.runOnce();
      this.timer = setTimeout(tick, EVERY_MS);
      this.timer.unref();
    };
    this.timer = setTimeout(tick, FIRST_AFTER_MS);
    this.timer.unref();
  }

  /** One pass; never throws (a failure is logged and the next pass tries again). */
  runOnce(): Promise<number> {
    if (this.deps.mayRun && !this.deps.mayRun()) return Promise.resolve(0);
    this.running ??= this.prune().finally(() => (this.running = null));
    return this.running;
  }

  private async prune(): Promise<number> {
    const now = this.deps.clock.now();
    try {
      const deleted = await this.deps.state.prune({
        resolvedBefore: now - this.deps.retentionMs,
        webhooksBefore: now - WEBHOOK_ID_RETENTION_MS,
      });
      if (deleted > 0)
        this.deps.logger.info(
          { event: 'retention_pruned', incidents: deleted },
          `retention: deleted ${deleted} resolved incident(s) past ${Math.round(this.deps.retentionMs / 86_400_000)} days`,
        );
      return deleted;
    } catch (err) {
      this.deps.logger.warn(
        { event: 'retention_failed', err },
        'retention pass failed; the next one retries',
      );
      return 0;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
