// The cluster's outbox sender (docs/architecture.md, "Cluster mode"): every replica consumes the
// outbox work queue through one shared durable consumer, so each delivery goes to one replica at a
// time. The record is the truth: a message whose delivery no record holds (its write failed after
// the publish) is dropped once it is old enough; one already done or withdrawn is acked. Retries
// and backoff are naks with a delay (never sooner than Retry-After: attempts.ts decides when); a
// replica that dies mid-delivery leaves it to another after ack_wait. Order per provider key and
// provider: a delivery waits (a short nak) while an older one of the same key and provider is
// pending, in its incident or in the incidents that held the key before (`isTurn`).
import { jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { Clock } from '../../domain/clock.js';
import type { Delivery } from '../../domain/incident.js';
import { BoundedMap } from '../../domain/bounded-map.js';
import { cloneJson } from '../../domain/json-shape.js';
import { Attempts, RECORDING_PER_SLOT, slotTaken, type AttemptsDeps } from '../../deliver/attempts.js';
import type { DeliveryEngine } from '../../deliver/engine.js';
import type { ProviderHealth } from '../../deliver/health.js';
import type { DeliverySettings } from '../../deliver/settings.js';
import type { ProviderSpec } from '../../providers/spec.js';
import type { ProviderRegistry } from '../../providers/registry.js';
import type { Logger } from '../../telemetry/logger.js';
import type { IncidentRecord, StoredRecord } from './record.js';
import type { JetStreamState } from './state.js';

/** A message whose delivery no record holds is dropped after this long (the write that would have recorded it failed). */
const ORPHAN_AFTER_MS = 30_000;
/** How soon a delivery waiting for its turn (an older one pending) is looked at again. */
const TURN_WAIT_MS = 200;
/** How long a first-time message waits for the open that published it to complete (`whenOpened`). */
const OPEN_WAIT_MS = 1_000;
const KEEPALIVE_MS = 10_000;
/** How long a withdrawn delivery may still be in flight elsewhere: an attempt's timeout and its record. */
const IN_FLIGHT_AT_MOST_MS = 10_000;
const RESTART_MS = 2_000;
/** Settled records of the keys' chains kept for the turn check (`chainRecord`). */
const SETTLED_KEPT = 4_096;

/** An outbox message: the delivery, its incident and (since it was added) its provider key. */
interface OutboxRef {
  incident: string;
  delivery: string;
  key?: unknown;
}

export interface OutboxWorkerDeps extends AttemptsDeps {
  state: JetStreamState;
  clock: Clock;
  logger: Logger;
  maxInFlight?: number;
  /** How old a message whose delivery no record holds must be to be dropped (tests shorten it). */
  orphanAfterMs?: number;
  /** How soon a message that cannot go yet is handed out again (TURN_WAIT_MS; tests lengthen it). */
  turnWaitMs?: number;
}

export class OutboxWorker implements DeliveryEngine {
  private readonly attempts: Attempts;
  private messages: ConsumerMessages | null = null;
  private readonly inFlight = new Map<string, string>(); // delivery id → provider
  /** Records of the keys' chains that no longer change what the turn check reads (`chainRecord`). */
  private readonly settled = new BoundedMap<string, IncidentRecord>(SETTLED_KEPT);
  /** Of those, the ones not yet answered by their provider: at most `maxInFlight`. */
  private sending = 0;
  private slotWaiters: (() => void)[] = [];
  private running = false;
  private stopped = false;

  private readonly turnWaitMs: number;

  constructor(private readonly deps: OutboxWorkerDeps) {
    this.attempts = new Attempts(deps);
    this.turnWaitMs = deps.turnWaitMs ?? TURN_WAIT_MS;
  }

  configure(
    providers: ProviderRegistry,
    specs: Readonly<Record<string, ProviderSpec>>,
    settings: DeliverySettings,
  ): void {
    this.attempts.configure(providers, specs, settings);
    if (!this.running && !this.stopped) {
      this.running = true;
      void this.loop();
    }
  }

  /** The backend published each new delivery with the write that made it. */
  enqueue(): void {}

  /** Withdrawn deliveries are marked in their record; a worker that picks one up acks it. */
  withdraw(): void {}

  healthOf(provider: string): ProviderHealth {
    return this.attempts.healthOf(provider);
  }

  /** This replica's deliveries in flight, by provider (the cluster's waiting ones are in `pendingCount`). */
  pendingByProvider(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const provider of this.inFlight.values())
      if (provider !== '') out[provider] = (out[provider] ?? 0) + 1;
    return out;
  }

  /** Deliveries the whole cluster has still to send: the outbox stream's waiting and unacked messages. */
  async pendingCount(): Promise<number> {
    const { jsm, outbox } = this.deps.state.buckets;
    const info = await jsm.consumers.info(outbox.stream, outbox.consumer);
    return info.num_pending + info.num_ack_pending;
  }

  async idle(): Promise<void> {
    while (this.inFlight.size > 0 || (await this.pendingCount()) > 0)
      await new Promise((r) => setTimeout(r, 50));
  }

  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    await this.messages?.close().catch(() => undefined);
    const deadline = Date.now() + graceMs;
    while (this.inFlight.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  private async loop(): Promise<void> {
    const { buckets } = this.deps.state;
    const max = this.deps.maxInFlight ?? 64;
    while (!this.stopped) {
      try {
        const consumer = await jetstream(buckets.nc).consumers.get(
          buckets.outbox.stream,
          buckets.outbox.consumer,
        );
        // A short expiry: a lost consumer leader is noticed in seconds, not after 30 s.
        this.messages = await consumer.consume({ max_messages: max, expires: 5_000 });
        for await (const m of this.messages) {
          if (!this.hasSlot(max)) await this.slotFor(m, max);
          void this.handle(m);
          if (this.stopped) break;
        }
      } catch (err) {
        if (this.stopped) return;
        this.deps.logger.error({ event: 'outbox_consume_failed', err }, 'outbox consumer failed; restarting');
        await new Promise((r) => setTimeout(r, RESTART_MS));
      }
    }
  }

  /**
   * Waits for an attempt to finish. The message is ours meanwhile: it says so every KEEPALIVE_MS,
   * or past ack_wait the server hands it to another replica while it still waits here, and both
   * send it (docs/performance.md, "Delivery path").
   */
  private async slotFor(m: JsMsg, max: number): Promise<void> {
    const keepalive = setInterval(() => m.working(), KEEPALIVE_MS);
    try {
      while (!this.hasSlot(max)) await new Promise<void>((r) => this.slotWaiters.push(r));
    } finally {
      clearInterval(keepalive);
    }
  }

  private hasSlot(max: number): boolean {
    return this.sending < max && this.inFlight.size < max * RECORDING_PER_SLOT;
  }

  private async handle(m: JsMsg): Promise<void> {
    let ref: OutboxRef;
    try {
      ref = m.json<OutboxRef>();
    } catch {
      m.term(); // not ours to read: nothing can ever send it
      return;
    }
    this.inFlight.set(ref.delivery, '');
    this.sending++;
    const answered = slotTaken(() => {
      this.sending--;
      this.slotWaiters.shift()?.();
    });
    const keepalive = setInterval(() => m.working(), KEEPALIVE_MS);
    try {
      await this.deliver(m, ref, answered);
    } catch (err) {
      this.deps.logger.warn(
        { event: 'outbox_delivery_failed', delivery: ref.delivery, err },
        'outbox delivery failed; it comes back',
      );
      m.nak(1_000);
    } finally {
      clearInterval(keepalive);
      answered();
      this.inFlight.delete(ref.delivery);
      this.slotWaiters.shift()?.();
    }
  }

  private async deliver(m: JsMsg, ref: OutboxRef, answered: () => void): Promise<void> {
    const { clock, state } = this.deps;
    // A message handed out for the first time has been sent by no replica, so the record this
    // replica last wrote or read will do: another replica's change since (a resolve superseding
    // the trigger) is the race a fresh read has too, between the read and the send, and the outcome
    // is written with a compare-and-set on the record as it is then. A message coming back (a nak,
    // an expired ack_wait) is read afresh: a replica may have sent it and died before its ack.
    let read = m.info.redelivered ? await state.read(ref.incident) : await state.readRecent(ref.incident);
    // A message handed out for the first time may come before its open has written the record and
    // the key (an open publishes its deliveries with its record): wait for the open here, or at
    // another replica through the key view, instead of giving the message back for TURN_WAIT_MS;
    // then read again (an open that did not complete in that time is read afresh, as a message
    // coming back is).
    if (
      !m.info.redelivered &&
      (read === null || !state.knownWinner(ref.incident, read.record.incident.provider_key))
    )
      read = (await state.whenOpened(
        ref.incident,
        typeof ref.key === 'string' ? ref.key : undefined,
        OPEN_WAIT_MS,
      ))
        ? await state.readRecent(ref.incident)
        : await state.read(ref.incident);
    // The record is shared and frozen (RecentRecords): the attempt changes a copy of its delivery.
    const found = read?.record.deliveries.find((x) => x.id === ref.delivery);
    let d = found === undefined ? undefined : cloneJson(found);
    if (read === null || d === undefined || !(await this.won(read.record))) {
      const ageMs = Date.now() - Number(m.info.timestampNanos) / 1_000_000;
      if (ageMs < (this.deps.orphanAfterMs ?? ORPHAN_AFTER_MS)) return m.nak(this.turnWaitMs);
      m.ack(); // its write never happened, or its open lost to another replica's: nothing to send
      // What the open left behind goes too: a decision with no record, or a record no key names (a
      // resolved one is an old incident whose key has moved on: retention's).
      if (read === null) await this.dropUnopened(ref.incident, null);
      else if (d !== undefined && read.record.incident.state !== 'resolved')
        await this.dropUnopened(ref.incident, read);
      return;
    }
    if (d.status !== 'pending') return m.ack();
    this.inFlight.set(d.id, Attempts.providerOf(d));
    const chain = memoized((id) => this.chainRecord(id));
    const judged: InFlightMemo = new Map(); // the two checks below judge each withdrawn trigger once
    if (!(await isTurn(read.record, d, clock.now(), chain, judged))) return m.nak(this.turnWaitMs);
    // A trigger whose turn came after it was made is read again now, after the walk saw what it
    // waited for settle: a withdrawal recorded before that moment then always stops it here, which
    // is what lets the next incident's trigger not wait for it (`couldBeInFlight`).
    if (
      d.action === 'trigger' &&
      (await turnFrom(read.record, d, chain, 0, judged)) > Date.parse(d.created_at)
    ) {
      read = await state.read(ref.incident);
      const again = read?.record.deliveries.find((x) => x.id === ref.delivery);
      if (read === null || again === undefined) return m.nak(this.turnWaitMs);
      if (again.status !== 'pending') return m.ack();
      d = cloneJson(again);
    }
    const now = clock.now();
    if (d.next_attempt_at > now + 5) return m.nak(d.next_attempt_at - now);
    // The request is built from the record read here: the one that holds this delivery pending (a
    // resolve's holds with it), one leader read fewer per delivery on a NATS cluster.
    await this.attempts.run(d, undefined, answered, read.record.incident);
    if (d.status === 'pending') m.nak(Math.max(0, d.next_attempt_at - clock.now()));
    else m.ack();
  }

  /**
   * A record of the key's chain, for the turn check. One that can no longer change what the check
   * reads (resolved, nothing pending, its last change older than a withdrawn trigger's in-flight
   * window) is kept: during a long outage a flapping key's chain grows by an incident every few
   * seconds, and every waiting trigger walks it every TURN_WAIT_MS.
   */
  private async chainRecord(id: string): Promise<IncidentRecord | null> {
    const kept = this.settled.get(id);
    if (kept !== undefined) return kept;
    const record = (await this.deps.state.read(id))?.record ?? null;
    if (record !== null && settledFor(record, this.deps.clock.now()))
      this.settled.set(id, { ...record, audit: [], webhooks: [], marks: {} });
    return record;
  }

  private async dropUnopened(id: string, read: StoredRecord | null): Promise<void> {
    await this.deps.state
      .dropUnopened(id, read)
      .catch((err: unknown) =>
        this.deps.logger.warn(
          { event: 'unopened_drop_failed', incident: id, err },
          `incident ${id}: could not delete what its unfinished open left`,
        ),
      );
  }

  /**
   * Whether the incident won its provider key (the record of a replica that lost the race to open
   * it is deleted, but a failed delete must not page anyone): it is the key's latest incident, or
   * one before it. A winner's key is written moments after its record: asked again a few times.
   */
  private async won(record: IncidentRecord): Promise<boolean> {
    const { state } = this.deps;
    const id = record.incident.id;
    if (state.knownWinner(id, record.incident.provider_key)) return true;
    for (let attempt = 0; attempt < 4; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 5 * 2 ** attempt));
      if (await this.inChain(record.incident.provider_key, id)) {
        state.markWinner(id);
        return true;
      }
    }
    return false;
  }

  private async inChain(key: string, id: string): Promise<boolean> {
    let current = await this.deps.state.latestOf(key);
    for (let hops = 0; current !== null && hops < 5; hops++) {
      if (current === id) return true;
      current = (await this.deps.state.read(current))?.record.previous ?? null;
    }
    return false;
  }
}

/** Incidents before this one of a provider key that a trigger looks through for older deliveries. */
const TURN_HOPS = 512;
/** How far replicas' clocks may disagree when times they wrote are compared (`couldBeInFlight`). */
const CLOCK_SKEW_MS = 1_000;

type ReadRecord = (id: string) => Promise<IncidentRecord | null>;

/**
 * Whether `d` may go now: no older delivery to the same provider and key is pending in its own
 * incident, nor in the incidents that held the key before it. A trigger walks back through them
 * (`previous`) until one that reached this provider: that one's own trigger waited for this check,
 * so nothing older was pending then. An incident that never reached it (its trigger withdrawn by a
 * quick resolve, or failed over elsewhere) proves nothing about the one before: a resolve of that one
 * may still be with a replica that died holding it (back after the consumer's ack wait, 30 s), and
 * a trigger sent meanwhile would fold into the provider's incident that resolve then closes.
 * `read` is asked for a record more than once: the caller memoizes it (`memoized`).
 */
export async function isTurn(
  record: IncidentRecord,
  d: Delivery,
  nowMs: number,
  read: ReadRecord,
  inFlight: InFlightMemo = new Map(),
): Promise<boolean> {
  if (olderPending(record.deliveries, d)) return false;
  if (d.action !== 'trigger') return true;
  let previousId = record.previous;
  for (let hops = 0; previousId !== null && hops < TURN_HOPS; hops++) {
    const previous = await read(previousId);
    if (previous === null) return true;
    if (olderPending(previous.deliveries, d)) return false;
    for (const x of previous.deliveries)
      if (
        x.status === 'superseded' &&
        sameLane(x, d) &&
        nowMs - Date.parse(x.updated_at) < IN_FLIGHT_AT_MOST_MS &&
        (await couldBeInFlight(previous, x, read, hops + 1, inFlight))
      )
        return false;
    if (reached(previous.deliveries, d)) return true;
    previousId = previous.previous;
  }
  return true;
}

/**
 * Whether a trigger withdrawn moments ago may still be in flight at another replica: if it lands,
 * its catch-up resolve must go before the next incident's trigger. Only one that was tried, or
 * whose turn could have come before it was withdrawn, can be: a trigger whose turn came after it was
 * made is read afresh once its turn has come (`OutboxWorker.deliver`), so one withdrawn before then
 * is not sent. Times written by different replicas are compared with CLOCK_SKEW_MS to spare. Without this a key that flaps
 * faster than IN_FLIGHT_AT_MOST_MS was never paged again: each withdrawn trigger held the next
 * incident's for that long, that one was withdrawn in turn, and so on (found by the soak in cluster
 * mode, where it withdrew twice the triggers the LevelDB backend did).
 */
function couldBeInFlight(
  record: IncidentRecord,
  x: Delivery,
  read: ReadRecord,
  depth: number,
  memo: InFlightMemo,
): Promise<boolean> {
  if (x.attempts > 0) return Promise.resolve(true);
  let answer = memo.get(x.id);
  if (answer === undefined) {
    answer = turnFrom(record, x, read, depth, memo).then(
      (from) => from <= Date.parse(x.updated_at) + CLOCK_SKEW_MS,
    );
    memo.set(x.id, answer);
  }
  return answer;
}

/** One turn check's answers of `couldBeInFlight`, by delivery: each withdrawn trigger is judged once. */
export type InFlightMemo = Map<string, Promise<boolean>>;

/**
 * The earliest time `x`'s turn can have come: when the older deliveries of its lane that existed
 * when it was made (in its incident, and for a trigger in the incidents before, as `isTurn` walks
 * them) had stopped being pending. Later ones are left out and times are those recorded at the
 * change, so the answer errs early: towards "it may have gone", the safe side.
 */
export async function turnFrom(
  record: IncidentRecord,
  x: Delivery,
  read: ReadRecord,
  depth: number,
  memo: InFlightMemo = new Map(),
): Promise<number> {
  const made = Date.parse(x.created_at);
  let from = made;
  const older = (y: Delivery) => sameLane(y, x) && y.id !== x.id && Date.parse(y.created_at) <= made;
  for (const y of record.deliveries) {
    if (y.id === x.id) break;
    if (older(y)) from = Math.max(from, settledAt(y));
  }
  if (x.action !== 'trigger') return from;
  let previousId = record.previous;
  for (let hops = depth; previousId !== null && hops < TURN_HOPS; hops++) {
    const previous = await read(previousId);
    if (previous === null) break;
    for (const y of previous.deliveries) {
      if (!older(y)) continue;
      let until = settledAt(y);
      // A window that would end before `from` changes nothing: not worth judging.
      if (
        y.status === 'superseded' &&
        until + IN_FLIGHT_AT_MOST_MS > from &&
        (await couldBeInFlight(previous, y, read, hops + 1, memo))
      )
        until += IN_FLIGHT_AT_MOST_MS;
      from = Math.max(from, until);
    }
    if (from === Infinity || reached(previous.deliveries, x)) break;
    previousId = previous.previous;
  }
  return from;
}

/** Whether nothing the turn check reads of `record` can change any more (`OutboxWorker.chainRecord`). */
function settledFor(record: IncidentRecord, nowMs: number): boolean {
  if (record.incident.state !== 'resolved') return false;
  let last = Date.parse(record.incident.resolved_at ?? '');
  for (const d of record.deliveries) {
    if (d.status === 'pending') return false;
    last = Math.max(last, Date.parse(d.updated_at), settledAt(d));
  }
  return Number.isFinite(last) && nowMs - last > IN_FLIGHT_AT_MOST_MS + CLOCK_SKEW_MS;
}

/** When a delivery stopped being pending (never, while it is). */
function settledAt(d: Delivery): number {
  if (d.status === 'pending') return Infinity;
  return Date.parse(d.done_at ?? d.updated_at);
}

/** `read`, asked once per record: one turn check reads each incident of the chain once. */
export function memoized(read: ReadRecord): ReadRecord {
  const seen = new Map<string, Promise<IncidentRecord | null>>();
  return (id) => {
    let found = seen.get(id);
    if (found === undefined) seen.set(id, (found = read(id)));
    return found;
  };
}

/** Whether a delivery to the same provider and key as `d` was done (the provider took it). */
function reached(deliveries: readonly Delivery[], d: Delivery): boolean {
  return deliveries.some((x) => x.status === 'done' && sameLane(x, d));
}

/** Whether `x` goes to the same provider under the same key as `d`: the unit of order. */
function sameLane(x: Delivery, d: Delivery): boolean {
  return x.provider_key === d.provider_key && Attempts.providerOf(x) === Attempts.providerOf(d);
}

/** Whether a delivery before `d` to the same provider and key is still to go. */
function olderPending(deliveries: readonly Delivery[], d: Delivery): boolean {
  for (const x of deliveries) {
    if (x.id === d.id) return false;
    if (sameLane(x, d) && x.status === 'pending') return true;
  }
  return false;
}
