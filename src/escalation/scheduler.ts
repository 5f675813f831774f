// Escalation timers in memory (docs/architecture.md, "Escalation timers"): which incident's timer
// falls due when, rebuilt at start from the open incidents' summaries and kept by every write
// that changes one. The truth is the incident's own record; the queue only says when to look.
// Firing reads the incident and advances it in one write, so a stale or doubled entry (another
// replica's, one from before a restart) costs a read, never a second page.
import type { Clock } from '../domain/clock.js';
import { DueQueue } from '../deliver/due-queue.js';
import type { Logger } from '../telemetry/logger.js';

/**
 * At most this many timers are fired at once (a restart after hours may find thousands due). Their
 * writes share the store's group commits: 256 kept p99 lateness at 384 ms where 64 gave 636 ms
 * (30,000 timers over 30 s beside 1,000 events/s; docs/performance.md, "Escalation timers").
 */
const MAX_IN_FLIGHT = 256;
/** The timer wakes at least this often, so a clock that jumps (tests, NTP) is followed within it. */
const MAX_SLEEP_MS = 1_000;
/** A firing that failed (state unreachable) is tried again this much later. */
const RETRY_MS = 1_000;

export interface TimerSchedule {
  /** The incident's timer fires at `dueAt`; null: it has none. */
  schedule(id: string, dueAt: number | null): void;
}

export interface SchedulerDeps {
  clock: Clock;
  logger: Logger;
  /** Fires the incident's timer if it is due (reading the incident); it reschedules itself. */
  fire(id: string): Promise<void>;
}

export class EscalationScheduler implements TimerSchedule {
  private readonly queue = new DueQueue();
  private readonly inFlight = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private drained: Promise<void> = Promise.resolve();

  constructor(private readonly deps: SchedulerDeps) {}

  schedule(id: string, dueAt: number | null): void {
    if (dueAt === null) this.queue.delete(id);
    else this.queue.set(id, dueAt);
    if (this.running) this.arm();
  }

  get size(): number {
    return this.queue.size;
  }

  /** When the earliest timer fires, or null. */
  nextDue(): number | null {
    return this.queue.peek();
  }

  start(): void {
    this.running = true;
    this.arm();
  }

  /** Fires every timer due by now, MAX_IN_FLIGHT at a time; resolves when none is due (tests call it). */
  async runDue(): Promise<void> {
    const busy: string[] = [];
    // Each worker asks the clock again for its next timer: those falling due meanwhile go at once.
    const now = (): number => this.deps.clock.now();
    const worker = async (): Promise<void> => {
      for (let id = this.queue.takeDue(now()); id !== null; id = this.queue.takeDue(now())) {
        // Rescheduled by its own firing, still in flight: looked at again after this pass.
        if (this.inFlight.has(id)) busy.push(id);
        else await this.fireOne(id);
      }
    };
    await Promise.all(Array.from({ length: MAX_IN_FLIGHT }, worker));
    for (const id of busy) this.queue.add(id, now());
  }

  private async fireOne(id: string): Promise<void> {
    this.inFlight.add(id);
    try {
      await this.deps.fire(id);
    } catch (err) {
      this.deps.logger.warn(
        { event: 'escalation_fire_failed', incident: id, err },
        `could not fire the escalation timer of ${id}; trying again`,
      );
      this.queue.add(id, this.deps.clock.now() + RETRY_MS);
    } finally {
      this.inFlight.delete(id);
    }
  }

  /** Sleeps until the earliest timer (at most MAX_SLEEP_MS), then fires what is due. */
  private arm(): void {
    if (this.timer !== null) return;
    const next = this.queue.peek();
    if (next === null) return;
    const delay = Math.min(Math.max(0, next - this.deps.clock.now()), MAX_SLEEP_MS);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.drained = this.runDue().finally(() => {
        if (this.running) this.arm();
      });
    }, delay);
    this.timer.unref();
  }

  /** Stops firing; waits for firings in flight. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.drained.catch(() => undefined);
  }
}
