// The local view of open incidents by fingerprint: the dedup lookup every decision makes, and the
// occurrence counters of repeats, counted here at once and written back in the background. It
// holds small references, not incidents, so 100,000 open incidents stay cheap. In cluster mode
// the other replicas' opens and resolves reach it through the state backend's watch.
import { openingLineMs, type Incident } from '../domain/incident.js';
import type { IncidentLookup } from '../policy/decide.js';
import type { IncidentRef } from '../state/backend.js';

export interface OpenRef {
  id: string;
  correlationId: string;
  service: string;
  /** Occurrences as last known to this process (written and unwritten). */
  occurrences: number;
  lastSeenMs: number;
  /**
   * The newest event time (the log line's own timestamp) among its occurrences seen here: a
   * recovery line older than this does not resolve it (a redelivered or late line, not news).
   */
  lastEventMs: number;
  /** Occurrences counted here and not written back yet. */
  unsaved: number;
  /** In the write-back queue (a flag, not a set: a repeat costs no hashing). */
  queued: boolean;
  /** Flap damping's re-triggers of its fingerprint, when its route damps (src/incidents/flap.ts). */
  flapRetriggers?: number[];
}

export function refOf(incident: Incident | IncidentRef): OpenRef {
  if ('correlationId' in incident)
    return {
      id: incident.id,
      correlationId: incident.correlationId,
      service: incident.service,
      occurrences: incident.occurrences,
      lastSeenMs: incident.lastSeenMs,
      lastEventMs: incident.lineMs ?? -Infinity,
      unsaved: 0,
      queued: false,
      ...(incident.flap === undefined ? {} : { flapRetriggers: incident.flap.retriggers }),
    };
  return {
    id: incident.id,
    correlationId: incident.correlation_id,
    service: incident.service,
    occurrences: incident.occurrences,
    lastSeenMs: Date.parse(incident.last_seen),
    lastEventMs: openingLineMs(incident),
    unsaved: 0,
    queued: false,
    ...(incident.flap === undefined ? {} : { flapRetriggers: incident.flap.retriggers }),
  };
}

export class OpenIncidents implements IncidentLookup {
  private readonly byFingerprint = new Map<string, OpenRef>();
  /** Refs with unwritten occurrences, open or resolved since: those whose `queued` is set. */
  private dirty: OpenRef[] = [];

  openIncident(fingerprint: string): { id: string } | null {
    return this.byFingerprint.get(fingerprint) ?? null;
  }

  get(fingerprint: string): OpenRef | undefined {
    return this.byFingerprint.get(fingerprint);
  }

  set(fingerprint: string, ref: OpenRef): void {
    this.byFingerprint.set(fingerprint, ref);
  }

  /** Forgets the fingerprint (resolved); its unwritten occurrences are still written back. */
  delete(fingerprint: string): void {
    this.byFingerprint.delete(fingerprint);
  }

  /** One more alert of an open incident: counted now, written at the next write-back. */
  repeat(fingerprint: string, ref: OpenRef, atMs: number, eventAtMs = -Infinity): void {
    ref.occurrences++;
    ref.unsaved++;
    if (atMs > ref.lastSeenMs) ref.lastSeenMs = atMs;
    // A line stamped ahead of our clock counts as now (src/correlate/recoveries.ts says why).
    const eventMsNow = Math.min(eventAtMs, atMs);
    if (eventMsNow > ref.lastEventMs) ref.lastEventMs = eventMsNow;
    this.queue(ref);
  }

  private queue(ref: OpenRef): void {
    if (ref.queued) return;
    ref.queued = true;
    this.dirty.push(ref);
  }

  /** `reserved` lost the race to open the fingerprint: its counts go to the winner's ref. */
  replace(fingerprint: string, reserved: OpenRef, winner: OpenRef): void {
    winner.occurrences += reserved.unsaved;
    winner.unsaved += reserved.unsaved;
    winner.lastSeenMs = Math.max(winner.lastSeenMs, reserved.lastSeenMs);
    winner.lastEventMs = Math.max(winner.lastEventMs, reserved.lastEventMs);
    if (winner.unsaved > 0) this.queue(winner);
    reserved.queued = false; // left in the queue, skipped there
    const current = this.byFingerprint.get(fingerprint);
    if (current === reserved || current === undefined) this.byFingerprint.set(fingerprint, winner);
  }

  /** What to write back now: each dirty ref and its count; call `written` once a count is stored. */
  takeDirty(): { ref: OpenRef; count: number }[] {
    const out: { ref: OpenRef; count: number }[] = [];
    for (const ref of this.dirty) {
      if (!ref.queued) continue;
      ref.queued = false;
      out.push({ ref, count: ref.unsaved });
    }
    this.dirty = [];
    return out;
  }

  written(ref: OpenRef, count: number): void {
    ref.unsaved -= count;
  }

  /** A write-back failed: the count stays unwritten and is tried again. */
  unwritten(ref: OpenRef): void {
    this.queue(ref);
  }

  get size(): number {
    return this.byFingerprint.size;
  }

  values(): IterableIterator<OpenRef> {
    return this.byFingerprint.values();
  }
}

/** An event's own time (RFC 3339, validated at the boundary) in epoch ms; -Infinity if unreadable. */
export function eventMs(timestamp: string): number {
  const ms = Date.parse(timestamp);
  return Number.isFinite(ms) ? ms : -Infinity;
}
