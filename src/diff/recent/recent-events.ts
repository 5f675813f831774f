// The recent-events sample (docs/policy-diff.md, "The recent-events ring"): what `diff --recorded` and
// POST /api/v1/policy/diff replay. Every event that paged, resolved, was recorded or was suppressed
// is kept, and 1 in `sampleEvery` of the rest (a deterministic counter: uniform over arrival order).
// Events are masked before they are written, in batches off the hot path: `offer` never waits on a
// store; a store that falls behind loses the newest sampled events, counted, never blocks. An event
// that came with its text (NATS) is stored as that text when the text is one line without escapes
// (an escape could spell a secret the scrubber would not see) and no attribute is named like a
// credential; otherwise the event is serialized with those attributes masked.
import type { Decision } from '../../domain/decision.js';
import type { LogEvent } from '../../domain/log-event.js';
import { maskSecret, SECRET_HEADER } from '../../domain/secrets.js';

/** Where the ring lives: a LevelDB of its own (leveldb-ring.ts) or a JetStream stream (jetstream-ring.ts). */
export interface RingStore {
  /** Append serialized events; the store drops the oldest beyond its bounds. */
  append(lines: readonly string[]): Promise<void>;
  /** Every kept event, oldest first, as serialized. */
  read(): AsyncIterable<string>;
  close(): Promise<void>;
}

export interface RecentEventsSettings {
  sampleEvery: number;
  flushMs: number;
  /** Events waiting for the store beyond this are dropped (and counted). */
  maxPending: number;
}

/** Masks what may be a credential: known secrets anywhere, and attributes named like one. */
export type Masker = (text: string) => string;

export class RecentEvents {
  /** Kept events: the text they came as, when it can be stored as it is, else the event. */
  private pending: (LogEvent | string)[] = [];
  private others = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  dropped = 0;
  failures = 0;

  constructor(
    private readonly store: RingStore,
    private readonly settings: RecentEventsSettings,
    private readonly mask: Masker,
    /** Told of a batch the store refused (its events are lost; the sidecar carries on). */
    private readonly onWriteFailed: (err: unknown, events: number) => void = () => undefined,
    /** Told of a sampled event dropped because the store is behind. */
    private readonly onDropped: () => void = () => undefined,
  ) {}

  /**
   * Hot path: a counter, or an array push. Masking and serializing wait for the flush, which runs once
   * a second on a whole batch (validated events are never changed afterwards, so keeping the
   * reference is safe).
   */
  offer(event: LogEvent, decision: Decision, text?: string): void {
    // A repeat of an open incident (its first event was kept) takes its turn with the everyday
    // events: a storm of repeats must not push the rest out of the ring, nor keep every repeat
    // alive until the flush (docs/policy-diff.md, "The recent-events ring").
    const notable =
      (decision.paged && !decision.incident.open) ||
      decision.suppressed ||
      decision.recorded ||
      decision.resolves !== null;
    if (!notable && this.others++ % this.settings.sampleEvery !== 0) return;
    this.keep(event, text);
  }

  /**
   * An event the NATS triage worker found changes nothing, decided off this thread: it takes its
   * turn in the sample of everyday events like any other, and is read (`read`: parse its payload)
   * only when the sample keeps it.
   */
  offerIgnored(read: () => { event: LogEvent; text: string } | null): void {
    if (this.others++ % this.settings.sampleEvery !== 0) return;
    const parsed = read();
    if (parsed !== null) this.keep(parsed.event, parsed.text);
  }

  /** Queues a kept event for the next flush, or drops it (counted) when the store is behind. */
  private keep(event: LogEvent, text: string | undefined): void {
    if (this.pending.length >= this.settings.maxPending) {
      this.dropped++;
      this.onDropped();
      return;
    }
    this.pending.push(text !== undefined && storableAsIs(text, event) ? text : event);
    this.timer ??= setTimeout(() => void this.flush(), this.settings.flushMs);
  }

  /** Masks and serializes a batch: the only form in which an event leaves for a store. */
  serialize(events: readonly (LogEvent | string)[]): string[] {
    return events.map((e) => this.mask(typeof e === 'string' ? e : JSON.stringify(maskAttributes(e))));
  }

  /** Writes what is pending; one batch at a time. */
  async flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    while (this.flushing !== null) await this.flushing;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.store.append(this.serialize(batch)).then(
      () => undefined,
      (err: unknown) => {
        this.failures++;
        this.onWriteFailed(err, batch.length);
      },
    );
    await this.flushing;
    this.flushing = null;
  }

  read(): AsyncIterable<string> {
    return this.store.read();
  }

  async close(): Promise<void> {
    await this.flush();
    await this.store.close();
  }
}

/** One line, no escape, no attribute named like a credential: the text can be stored as it came. */
function storableAsIs(text: string, event: LogEvent): boolean {
  return !text.includes('\\') && !text.includes('\n') && !hasSecretNamedAttribute(event);
}

function hasSecretNamedAttribute(event: LogEvent): boolean {
  const attributes = event.attributes;
  if (attributes === undefined || attributes === null) return false;
  for (const k in attributes) if (SECRET_HEADER.test(k)) return true;
  return false;
}

function maskAttributes(event: LogEvent): LogEvent {
  const attributes = event.attributes;
  if (attributes === undefined || attributes === null || !hasSecretNamedAttribute(event)) return event;
  const masked: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(attributes))
    masked[k] = SECRET_HEADER.test(k) ? maskSecret(typeof v === 'string' ? v : JSON.stringify(v)) : v;
  return { ...event, attributes: masked };
}
