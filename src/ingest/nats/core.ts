// Core NATS (docs/nats.md, "Core mode"): a queue-group subscription on NATS_SUBJECT. At-most-once by
// nature: a message is gone once delivered, so a bounded queue drops (and counts) what the sidecar
// cannot take rather than growing memory without bound. JetStream mode is the no-loss mode.
//
// Messages are handled in arrival order. While the queue is short each is handled at once; when it
// builds up, runs of it go to the triage worker first (triage.ts), which leaves the main thread only
// the events that change something.
//
// Load shedding (docs/nats.md, "Load shedding"): from half of NATS_MAX_PENDING queued, the main thread
// drops queued events that neither page nor resolve (`noise_shed`) rather than anything newer: by the
// worker's verdicts (recorded or suppressed events), or by the cheap check of the raw bytes
// (shed-filter.ts) for what it decides itself. At NATS_MAX_PENDING, that check drops arriving noise and
// keeps what may page or resolve, up to twice NATS_MAX_PENDING; only beyond that, or when the policy
// cannot be checked that way, are messages dropped unjudged (`queue_full`).
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';
import type { DeadLetters } from './dead-letter.js';
import type { OrderedProcessor } from './processor.js';
import type { ActivePolicy } from '../../policy/active.js';
import type { PolicyManager } from '../../policy/manager.js';
import { shedFilter, type ShedFilter } from './shed-filter.js';
import { MIN_SKIP_SHARE, type Triage } from './triage.js';
import { Verdict, type BatchView } from './triage-protocol.js';

export const QUEUE_GROUP = 'incident-router';
/** The longest the queue is worked without letting other work run. */
const SLICE_MS = 20;
/** Queued messages before triage is worth a round trip to the worker. */
const TRIAGE_FROM = 64;
const BATCH = 128;
/** Batches offered to the worker at once: it works ahead while the main thread finishes one. */
const BATCHES_AHEAD = 16;

interface Batch {
  msgs: Msg[];
  view: BatchView;
}

export class CoreIngest {
  private sub: Subscription | null = null;
  private queue: Msg[] = [];
  private head = 0;
  private readonly batches: Batch[] = [];
  private batched = 0;
  /** Events the triage worker judged to change nothing, only counted here (health). */
  skipped = 0;
  private running = false;
  private readonly dropped;
  private readonly shed;
  /** Depth from which load is shed (see the top of this file). */
  private readonly shedFrom: number;
  /** The cheap check for the policy it was built from (rebuilt when the policy changes). */
  private filter: ShedFilter | null = null;
  private filterFor: ActivePolicy | null = null;

  constructor(
    private readonly deps: {
      subject: string;
      maxPending: number;
      processor: OrderedProcessor;
      deadLetters: DeadLetters;
      metrics: Metrics;
      logger: Logger;
      triage: Triage | null;
      policies: PolicyManager;
    },
  ) {
    this.dropped = deps.metrics.eventsDropped.tally('queue_full');
    this.shed = deps.metrics.eventsDropped.tally('noise_shed');
    this.shedFrom = Math.max(1, Math.floor(deps.maxPending / 2));
  }

  start(nc: NatsConnection): void {
    this.sub = nc.subscribe(this.deps.subject, {
      queue: QUEUE_GROUP,
      callback: (err, msg) => {
        if (err) {
          this.deps.logger.error(
            { event: 'nats_subscription_error', err: err.message },
            'NATS subscription error',
          );
          return;
        }
        this.enqueue(nc, msg);
      },
    });
    this.deps.logger.info(
      { event: 'nats_subscribed', subject: this.deps.subject, queue: QUEUE_GROUP },
      `subscribed to ${this.deps.subject} (core NATS, queue ${QUEUE_GROUP})`,
    );
  }

  private enqueue(nc: NatsConnection, msg: Msg): void {
    const depth = this.depth();
    if (depth >= this.deps.maxPending && !this.keepWhenFull(msg, depth)) return;
    this.queue.push(msg);
    if (!this.running) void this.run(nc);
  }

  /** The queue is full: drop `msg` unless it may page or resolve and there is still room for that. */
  private keepWhenFull(msg: Msg, depth: number): boolean {
    const filter = this.currentFilter();
    if (filter !== null && depth < 2 * this.deps.maxPending) {
      if (filter.mayMatter(msg.data)) return true;
      this.shed.inc();
      return false;
    }
    this.dropped.inc();
    return false;
  }

  /** The cheap check for the policy in force, or null when it cannot be built for it. */
  private currentFilter(): ShedFilter | null {
    const policy = this.deps.policies.current();
    if (policy !== this.filterFor) {
      this.filter = shedFilter(policy.loaded.document, policy.compiled.patterns);
      this.filterFor = policy;
    }
    return this.filter;
  }

  private take(): Msg {
    const msg = this.queue[this.head] as Msg;
    this.queue[this.head++] = undefined as unknown as Msg;
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return msg;
  }

  private async run(nc: NatsConnection): Promise<void> {
    this.running = true;
    try {
      let sliceStart = performance.now();
      for (;;) {
        this.sendBatches();
        const batch = this.batches.shift();
        if (batch !== undefined) {
          const waiting = this.finish(nc, batch);
          if (waiting) await waiting;
        } else if (this.head < this.queue.length) {
          const msg = this.take();
          if (this.depth() + 1 >= this.shedFrom && this.currentFilter()?.mayMatter(msg.data) === false)
            this.shed.inc();
          else {
            const waiting = this.handle(nc, msg);
            if (waiting) await waiting;
          }
        } else break;
        // Most events are handled synchronously; a long run of them must still let timers,
        // HTTP and the store's writes have their turn.
        if (performance.now() - sliceStart > SLICE_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          sliceStart = performance.now();
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** Hand runs of the queue to the triage worker, keeping a few batches ahead of the main thread. */
  private sendBatches(): void {
    const triage = this.deps.triage;
    if (triage === null || this.queue.length - this.head < TRIAGE_FROM) return;
    // Start a worker only if it would spare this thread enough (not for a burst of pages).
    if (triage.state === 'idle' && this.deps.processor.ignoredShare() < MIN_SKIP_SHARE) return;
    while (this.batches.length < BATCHES_AHEAD && this.queue.length - this.head >= TRIAGE_FROM) {
      if (!triage.available()) return;
      const msgs: Msg[] = [];
      while (msgs.length < BATCH && this.head < this.queue.length) msgs.push(this.take());
      this.batched += msgs.length;
      this.batches.push({ msgs, view: triage.send(msgs.map((m) => m.data)) });
    }
  }

  /** A batch's events in order: the skipped ones counted, the others handled as without triage. */
  private finish(nc: NatsConnection, batch: Batch): Promise<void> | undefined {
    const triage = this.deps.triage as Triage; // there are batches only with triage
    const shedding = this.depth() >= this.shedFrom;
    this.batched -= batch.msgs.length;
    const usable = triage.verdicts(batch.view);
    this.sendBatches(); // the worker works on the next ones meanwhile
    return this.finishFrom(nc, batch, 0, usable, triage, shedding);
  }

  /** Synchronous unless an event's handling waits; then it goes on from the next one. */
  private finishFrom(
    nc: NatsConnection,
    batch: Batch,
    from: number,
    usable: boolean,
    triage: Triage,
    shedding: boolean,
  ): Promise<void> | undefined {
    // After a wait the policy may have changed: the marks then no longer count.
    const verdicts = usable && (from === 0 || triage.current(batch.view)) ? batch.view.verdicts : null;
    // Without verdicts, shedding goes by the cheap check instead (it only clears noise).
    const filter = shedding && verdicts === null ? this.currentFilter() : null;
    for (let i = from; i < batch.msgs.length; i++) {
      const verdict = verdicts?.[i];
      const msg = batch.msgs[i] as Msg;
      if (filter !== null && !filter.mayMatter(msg.data)) {
        this.shed.inc();
        continue;
      }
      if (verdict === Verdict.Skip) {
        this.deps.processor.countIgnored(msg.data);
        this.skipped++;
        continue;
      }
      if (verdict === Verdict.Minor && shedding) {
        this.shed.inc();
        continue;
      }
      const waiting = this.handle(nc, msg);
      if (waiting)
        return waiting.then(() => this.finishFrom(nc, batch, i + 1, verdicts !== null, triage, shedding));
    }
    return undefined;
  }

  /**
   * One message, guarded: whatever it throws goes to the dead-letter subject with the reason, and
   * the next message is handled as if it had not been there.
   */
  private handle(nc: NatsConnection, msg: Msg): Promise<void> | undefined {
    try {
      return this.handleUnguarded(nc, msg)?.catch((err: unknown) => this.failed(nc, msg, err));
    } catch (err) {
      this.failed(nc, msg, err);
      return undefined;
    }
  }

  private failed(nc: NatsConnection, msg: Msg, err: unknown): void {
    const error = err instanceof Error ? err.message : String(err);
    this.deps.logger.error(
      { event: 'event_failed', err, subject: msg.subject },
      'an event could not be processed',
    );
    this.deps.deadLetters.publish(nc, {
      subject: msg.subject,
      payload: msg.data,
      reason: 'failed',
      errors: [error],
    });
  }

  private handleUnguarded(nc: NatsConnection, msg: Msg): Promise<void> | undefined {
    const v = this.deps.processor.validate(msg.data);
    if (!v.ok) {
      this.deps.deadLetters.publish(nc, {
        subject: msg.subject,
        payload: msg.data,
        reason: 'invalid',
        errors: v.errors,
      });
      return undefined;
    }
    return this.deps.processor.submit(
      v.value,
      (outcome) => {
        if (!outcome.ok) this.failed(nc, msg, outcome.error);
      },
      v.text,
    );
  }

  /** Messages taken and not yet handled (queued, or at the triage worker; not the batch being finished). */
  depth(): number {
    return this.queue.length - this.head + this.batched;
  }

  /** Stop taking messages; what is queued is still processed. */
  async stop(timeoutMs: number): Promise<void> {
    this.sub?.unsubscribe();
    this.sub = null;
    const deadline = Date.now() + timeoutMs;
    while ((this.running || this.depth() > 0) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
  }
}
