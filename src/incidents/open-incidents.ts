// The open incidents by fingerprint, in memory: the dedup lookup every decision makes, and the
// occurrence counters of repeats, written back in batches. It holds small references, not
// incidents, so 100,000 open incidents stay cheap.
import type { IncidentLookup } from '../policy/decide.js';

export interface OpenRef {
  id: string;
  correlationId: string;
  service: string;
  occurrences: number;
  lastSeenMs: number;
  /** Occurrences counted since the last write-back. */
  unsaved: number;
}

export class OpenIncidents implements IncidentLookup {
  private readonly byFingerprint = new Map<string, OpenRef>();
  private readonly dirty = new Set<string>();
  /** Refs removed (resolved) with occurrences not yet written back. */
  private retired: OpenRef[] = [];

  openIncident(fingerprint: string): { id: string } | null {
    return this.byFingerprint.get(fingerprint) ?? null;
  }

  get(fingerprint: string): OpenRef | undefined {
    return this.byFingerprint.get(fingerprint);
  }

  set(fingerprint: string, ref: OpenRef): void {
    this.byFingerprint.set(fingerprint, ref);
  }

  delete(fingerprint: string): void {
    const ref = this.byFingerprint.get(fingerprint);
    if (ref && this.dirty.delete(fingerprint)) this.retired.push(ref);
    this.byFingerprint.delete(fingerprint);
  }

  /** One more alert of an open incident: counted now, persisted at the next write-back. */
  repeat(fingerprint: string, ref: OpenRef, atMs: number): void {
    ref.occurrences++;
    ref.unsaved++;
    if (atMs > ref.lastSeenMs) ref.lastSeenMs = atMs;
    this.dirty.add(fingerprint);
  }

  /** Refs with unsaved occurrences (open ones and those resolved meanwhile); clears the list. */
  takeDirty(): OpenRef[] {
    const out: OpenRef[] = this.retired;
    this.retired = [];
    for (const fp of this.dirty) {
      const ref = this.byFingerprint.get(fp);
      if (ref) out.push(ref);
    }
    this.dirty.clear();
    return out;
  }

  get size(): number {
    return this.byFingerprint.size;
  }
}
