// Triage on a second core. Core NATS under load hands raw events to a worker thread in batches; the
// worker parses, validates and decides each one (triage-worker.ts) and marks those that change
// nothing. The main thread counts those (most log lines) and decides and applies the rest itself,
// in order, as it would without triage. So incident state stays on one thread, and no verdict
// made with another policy than the one in force is used.
//
// The two threads share the work: the worker judges batches from the front of the queue, and when
// the main thread reaches a batch the worker has not started, it takes it back and decides those
// events itself, so neither core idles. It never gives the event loop a turn per batch (a batch
// being judged is waited for with Atomics.wait, a few ms at most): it reads the NATS socket no more
// often than without triage, so a publisher that outruns it is held back by TCP and nats-server
// rather than read, parsed and dropped here.
//
// The worker starts with the first batch and stops after a quiet spell, so an idle sidecar holds no
// second isolate. If it fails or stalls, the main thread does all the work (slower, never wrong).
import { Worker } from 'node:worker_threads';
import type { Clock } from '../../domain/clock.js';
import type { ActivePolicy } from '../../policy/active.js';
import type { PolicyManager } from '../../policy/manager.js';
import type { Logger } from '../../telemetry/logger.js';
import { ShareWindow } from './share-window.js';
import { projectFile } from '../../project-files.js';
import {
  BatchView,
  Verdict,
  type TriageReady,
  type TriageRequest,
  type TriageWorkerData,
} from './triage-protocol.js';

/** The built worker, whether this module runs built or (in tests) from `src/`. `npm test` builds first. */
const WORKER_URL = projectFile('dist/ingest/nats/triage-worker.js');
const IDLE_STOP_MS = 30_000;
/** Judged events over which the share of skipped ones is weighed, the least share worth a core, and the pause below it. */
const WEIGH_EVENTS = 2_048;
export const MIN_SKIP_SHARE = 0.25;
const PAUSE_MS = 60_000;
/** A batch takes the worker about 3 ms; far longer means it is stuck. */
const STALL_MS = 2_000;

/** What the worker needs to decide as the main thread does: the policy, and its patterns' checks. */
function policyData(policy: ActivePolicy, generation: number): TriageWorkerData {
  const { document, version, revision, verdicts } = policy.loaded;
  return { policy: { document, version, revision, verdicts }, generation };
}

export class Triage {
  private worker: Worker | null = null;
  private ready = false;
  private failed = false;
  /** Counts policy changes; a batch's verdicts count only if made with the current one. */
  private generation = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  /** Batches sent and not yet collected: the worker may not stop while there are any. */
  private outstanding = 0;
  /** Skippable events among those the worker judged. */
  private readonly skipWindow = new ShareWindow(WEIGH_EVENTS);
  private pausedUntil = 0;
  private stopped = false;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly deps: {
      policies: PolicyManager;
      clock: Clock;
      logger: Logger;
      idleStopMs?: number;
      /** Tests: another worker script. */
      workerUrl?: URL;
    },
  ) {}

  /**
   * Whether batches can go to the worker now. The first call starts it; until it has compiled the
   * policy (a few hundred ms) the main thread carries on alone.
   */
  available(): boolean {
    if (this.failed || this.stopped || this.paused()) return false;
    if (this.worker === null) this.start();
    return this.ready;
  }

  private paused(): boolean {
    return performance.now() < this.pausedUntil;
  }

  /** For health: idle without a backlog, starting while it compiles the policy, running, or failed for good. */
  get state(): 'idle' | 'starting' | 'running' | 'paused' | 'failed' {
    if (this.failed) return 'failed';
    if (this.paused()) return 'paused';
    if (this.worker === null) return 'idle';
    return this.ready ? 'running' : 'starting';
  }

  /** Hand a batch to the worker; `verdicts` later says what it found. */
  send(payloads: readonly Uint8Array[]): BatchView {
    this.keepAlive();
    const batch = BatchView.create(payloads, this.deps.clock.now());
    this.outstanding++;
    (this.worker as Worker).postMessage({ type: 'batch', buffer: batch.buffer } satisfies TriageRequest);
    return batch;
  }

  /**
   * Whether the batch's verdicts may be used: the worker judged it with the policy in force. If the
   * worker has not started it, the main thread takes it back (false: decide them all here); if it
   * is at work on it, this blocks until it is done. False also when the worker failed or stalled.
   */
  verdicts(batch: BatchView): boolean {
    this.outstanding--;
    let usable = false;
    if (!batch.takeBack()) {
      if (this.worker === null) return false; // stopped mid-batch: nothing will come
      if (!batch.waitDone(STALL_MS)) {
        this.fail(new Error(`no verdicts within ${STALL_MS} ms`));
        return false;
      }
      usable = this.current(batch);
      if (usable) this.weigh(batch);
    }
    if (this.paused() && this.outstanding === 0 && this.worker !== null) void this.stopWorker();
    return usable;
  }

  /** Whether the batch was judged with the policy in force now. */
  current(batch: BatchView): boolean {
    return batch.generation === this.generation;
  }

  /**
   * Triage pays only when most events change nothing. When the main thread must decide most of
   * them anyway (a storm of pages, a burst of new incidents), the worker only costs a core and
   * memory: it pauses, and the worker stops once its last batch is collected.
   */
  private weigh(batch: BatchView): void {
    let skips = 0;
    for (const v of batch.verdicts) if (v === Verdict.Skip) skips++;
    const share = this.skipWindow.add(batch.count, skips);
    if (share !== null && share < MIN_SKIP_SHARE) this.pausedUntil = performance.now() + PAUSE_MS;
  }

  private start(): void {
    const { policies } = this.deps;
    const workerData = policyData(policies.current(), this.generation);
    let worker: Worker;
    try {
      worker = new Worker(this.deps.workerUrl ?? WORKER_URL, { workerData });
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    worker.on('message', (message: TriageReady) => {
      if (message.type === 'ready' && this.worker === worker) this.ready = true;
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.fail(new Error(`triage worker exited with code ${code}`));
    });
    worker.unref();
    this.unsubscribe = policies.onChange((policy) => {
      this.generation++;
      worker.postMessage({ type: 'policy', ...policyData(policy, this.generation) } satisfies TriageRequest);
    });
    this.worker = worker;
    this.keepAlive();
  }

  private keepAlive(): void {
    if (this.idleTimer !== null) this.idleTimer.refresh();
    else {
      this.idleTimer = setTimeout(() => {
        if (this.outstanding > 0) this.idleTimer?.refresh();
        else void this.stopWorker();
      }, this.deps.idleStopMs ?? IDLE_STOP_MS);
      this.idleTimer.unref();
    }
  }

  private fail(err: Error): void {
    if (!this.failed)
      this.deps.logger.error(
        { event: 'triage_worker_failed', err: err.message },
        'the triage worker failed; NATS events are now all decided on the main thread',
      );
    this.failed = true;
    void this.stopWorker();
  }

  private async stopWorker(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    this.generation++; // whatever it judged before is not to be used after

    this.ready = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    await worker?.terminate();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.stopWorker();
  }
}
