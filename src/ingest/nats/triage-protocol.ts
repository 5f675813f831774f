// What the main thread and the triage worker (triage.ts, triage-worker.ts) share. A batch is one
// SharedArrayBuffer: the main thread writes the raw events into it, and its status word says who
// judges them. The worker claims a pending batch and writes a verdict for each event; the main
// thread, once it reaches the batch, takes it back if the worker has not started it (and decides
// those events itself), or waits the few milliseconds until the worker is done.
import type { CompileInput } from '../../policy/compile.js';

export const Verdict = {
  /** Decide and apply it on the main thread, as without triage (also: invalid, or unknown). */
  Decide: 0,
  /** Changes nothing whatever the incident state (`changesNothing`): count it as ignored. */
  Skip: 1,
  /**
   * Neither pages nor resolves, but is recorded or suppressed (`alerts.recorded`): decided on the
   * main thread, except while the queue sheds load, when it is dropped before anything that may
   * page or resolve (docs/nats.md, "Load shedding").
   */
  Minor: 2,
} as const;

const Status = { Pending: 0, Working: 1, Done: 2, Taken: 3 } as const;

/** Int32 words at the start of a batch buffer. */
const STATUS = 0;
const COUNT = 1;
const GENERATION = 2;
const NOW_HIGH = 3;
const NOW_LOW = 4;
const HEADER_BYTES = 24;

/**
 * The layout of one batch: header, offsets (event i is payload bytes offsets[i] .. offsets[i + 1]),
 * verdicts, payload.
 */
export class BatchView {
  readonly header: Int32Array;
  readonly offsets: Uint32Array;
  readonly verdicts: Uint8Array;
  readonly payload: Uint8Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    const count = this.header[COUNT] as number;
    this.offsets = new Uint32Array(buffer, HEADER_BYTES, count + 1);
    const verdictsAt = HEADER_BYTES + (count + 1) * 4;
    this.verdicts = new Uint8Array(buffer, verdictsAt, count);
    this.payload = new Uint8Array(buffer, verdictsAt + count);
  }

  /** A batch for `payloads`, to be decided at `now` (epoch ms). */
  static create(payloads: readonly Uint8Array[], now: number): BatchView {
    let bytes = 0;
    for (const p of payloads) bytes += p.byteLength;
    const count = payloads.length;
    const buffer = new SharedArrayBuffer(HEADER_BYTES + (count + 1) * 4 + count + bytes);
    const header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    header[COUNT] = count;
    header[GENERATION] = -1;
    header[NOW_HIGH] = Math.floor(now / 2 ** 32);
    header[NOW_LOW] = (now % 2 ** 32) | 0;
    const view = new BatchView(buffer);
    let at = 0;
    for (let i = 0; i < count; i++) {
      const p = payloads[i] as Uint8Array;
      view.offsets[i] = at;
      view.payload.set(p, at);
      at += p.byteLength;
    }
    view.offsets[count] = at;
    return view;
  }

  get count(): number {
    return this.header[COUNT] as number;
  }

  get now(): number {
    return (this.header[NOW_HIGH] as number) * 2 ** 32 + ((this.header[NOW_LOW] as number) >>> 0);
  }

  /** The policy generation the verdicts were made with (the worker writes it). */
  get generation(): number {
    return this.header[GENERATION] as number;
  }

  set generation(value: number) {
    this.header[GENERATION] = value;
  }

  /** Whether the worker has written the verdicts (tests wait on it; the main thread uses waitDone). */
  get done(): boolean {
    return Atomics.load(this.header, STATUS) === Status.Done;
  }

  /** Worker: claim the batch; false if the main thread took it first. */
  claim(): boolean {
    return Atomics.compareExchange(this.header, STATUS, Status.Pending, Status.Working) === Status.Pending;
  }

  /** Worker: the verdicts are written. */
  markDone(): void {
    Atomics.store(this.header, STATUS, Status.Done);
    Atomics.notify(this.header, STATUS);
  }

  /** Main thread: take the batch back if the worker has not started it. */
  takeBack(): boolean {
    return Atomics.compareExchange(this.header, STATUS, Status.Pending, Status.Taken) === Status.Pending;
  }

  /** Main thread: block while the worker works on it, at most `timeoutMs`; false if it did not finish. */
  waitDone(timeoutMs: number): boolean {
    return Atomics.wait(this.header, STATUS, Status.Working, timeoutMs) !== 'timed-out';
  }
}

/** The policy to decide with (its patterns' verdicts included: the worker checks nothing itself). */
export interface TriageWorkerData {
  policy: CompileInput;
  generation: number;
}

export type TriageRequest =
  { type: 'batch'; buffer: SharedArrayBuffer } | ({ type: 'policy' } & TriageWorkerData);

/** The worker's one message: it has compiled the policy and takes batches. */
export interface TriageReady {
  type: 'ready';
}
