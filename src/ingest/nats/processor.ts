// The common half of both NATS modes: validate, decide in arrival order, apply, and keep the work
// in flight bounded. Decisions are made one after another (a resolve never overtakes its trigger);
// durability is awaited concurrently, up to `maxInFlight` outcomes at a time.
import { eventToInput } from '../../domain/log-event.js';
import type { Decided, Pipeline } from '../../pipeline.js';
import type { Metrics } from '../../telemetry/metrics.js';
import { parseEvent, type ParsedEvent } from '../validate.js';
import { ShareWindow } from './share-window.js';
import type { LogEvent } from '../../domain/log-event.js';

export interface Outcome {
  ok: boolean;
  error?: unknown;
}

const OK: Outcome = Object.freeze({ ok: true });
/** Decisions over which `ignoredShare` is measured. */
const SHARE_WINDOW = 1_024;

export class OrderedProcessor {
  private inFlight = 0;
  /** Decisions that changed nothing, among all made or counted here. */
  private readonly ignoredWindow = new ShareWindow(SHARE_WINDOW);
  private waiters: (() => void)[] = [];
  private readonly received;
  private readonly invalid;
  private readonly ignored;

  constructor(
    private readonly pipeline: Pipeline,
    metrics: Metrics,
    private readonly maxInFlight: number,
  ) {
    // Tallies: a label lookup per message is measurable at 50,000 messages/s (metrics.ts).
    this.received = metrics.eventsReceived.tally('nats');
    this.invalid = metrics.eventsInvalid.tally('nats');
    this.ignored = metrics.decisions.tally('ignored');
  }

  /**
   * An event the triage worker decided changes nothing: received, and decided `ignored`; its
   * payload is parsed again only if the recent-events sample keeps it.
   */
  countIgnored(data?: Uint8Array): void {
    this.received.inc();
    this.ignored.inc();
    this.tallyOutcome(true);
    if (data !== undefined)
      this.pipeline.sampleIgnored(() => {
        const v = parseEvent(data);
        return v.ok ? { event: v.value, text: v.text } : null;
      });
  }

  /** Never throws: whatever a payload makes the checks do, it is an invalid event with the reason. */
  validate(data: Uint8Array): ParsedEvent {
    this.received.inc();
    let v: ParsedEvent;
    try {
      v = parseEvent(data);
    } catch (err) {
      v = { ok: false, errors: [`cannot be validated: ${err instanceof Error ? err.message : String(err)}`] };
    }
    if (!v.ok) this.invalid.inc();
    return v;
  }

  /**
   * Decide now (in order), apply, and call `done` once the outcome is durable or has failed.
   * Returns a promise only when the next message must wait: for json-rules-engine, or for room in
   * flight. Most events are decided and applied synchronously, without a microtask turn.
   */
  submit(event: LogEvent, done: (outcome: Outcome) => void, text?: string): Promise<void> | undefined {
    let decided;
    try {
      decided = this.pipeline.decide(eventToInput(event, text));
    } catch (error) {
      done({ ok: false, error });
      return undefined;
    }
    if (decided instanceof Promise)
      return decided.then(
        (d) => this.apply(d, done),
        (error: unknown) => done({ ok: false, error }),
      );
    return this.apply(decided, done);
  }

  private apply(decided: Decided, done: (outcome: Outcome) => void): Promise<void> | undefined {
    let result;
    try {
      result = this.pipeline.apply(decided);
    } catch (error) {
      done({ ok: false, error });
      return undefined;
    }
    if (!(result instanceof Promise)) {
      this.tallyOutcome(result.outcome === 'ignored');
      done(OK);
      return undefined;
    }
    this.tallyOutcome(false);
    this.inFlight++;
    result.then(
      () => this.finish(done, OK),
      (error: unknown) => this.finish(done, { ok: false, error }),
    );
    if (this.inFlight < this.maxInFlight) return undefined;
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private finish(done: (outcome: Outcome) => void, outcome: Outcome): void {
    this.inFlight--;
    try {
      done(outcome);
    } finally {
      this.waiters.shift()?.();
    }
  }

  private tallyOutcome(ignored: boolean): void {
    this.ignoredWindow.add(1, ignored ? 1 : 0);
  }

  /**
   * The share of recent decisions made here that changed nothing: what a triage worker could have
   * spared this thread (core.ts starts one only when it is worth it). Over the last complete
   * window, or the current one before there is any.
   */
  ignoredShare(): number {
    return this.ignoredWindow.share;
  }

  pending(): number {
    return this.inFlight;
  }

  /** Resolves when nothing is in flight (shutdown drains). */
  async drained(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }
}
