// The in-memory mirror of the `open` sublevel (fingerprint ↔ open incident; and provider key → open
// incident) and of the incident counts by state. The writer is the only thing that changes them,
// one flush at a time, and only after LevelDB accepted the batch; so they always equal what is on
// disk, and a lookup during the hot path (dedup, occurrence counters, webhooks) never needs a read.
import type { IncidentState } from '../domain/incident.js';

export interface IndexedIncident {
  fingerprint: string;
  /** Its provider key (`ir-…`, or its storm's). */
  providerKey: string;
  state: IncidentState;
}

export type OpenIndexOp =
  { type: 'put'; fingerprint: string; id: string } | { type: 'del'; fingerprint: string };

export class IncidentIndex {
  /** Incidents that are not resolved, with their fingerprint and state. */
  readonly byId = new Map<string, IndexedIncident>();
  /** Exactly the `open` sublevel. */
  readonly byFingerprint = new Map<string, string>();
  /**
   * Open incidents by provider key: a key's newest incident is its open one when it has one (a key
   * opens a new incident only once its last is resolved), which is what a webhook asks first
   * (src/webhooks/match.ts). Kept for every open incident, so a burst larger than the ref cache
   * still answers without a range read (docs/performance.md, "Delivery path").
   */
  readonly byProviderKey = new Map<string, string>();

  constructor(
    open: Iterable<{ id: string } & IndexedIncident>,
    public counts: Record<IncidentState, number>,
  ) {
    for (const { id, fingerprint, providerKey, state } of open) {
      this.byId.set(id, { fingerprint, providerKey, state });
      this.byFingerprint.set(fingerprint, id);
      this.openKey(providerKey, id);
    }
  }

  /** The newest open incident of a key keeps it (two would be the dedup layer's bug). */
  openKey(providerKey: string, id: string): void {
    const holder = this.byProviderKey.get(providerKey);
    if (holder === undefined || holder <= id) this.byProviderKey.set(providerKey, id);
  }

  closeKey(providerKey: string, id: string): void {
    if (this.byProviderKey.get(providerKey) === id) this.byProviderKey.delete(providerKey);
  }

  /**
   * A working copy for one flush. `prior` holds what disk says about every incident the flush
   * writes that is not open (null: it does not exist yet).
   */
  draft(prior: ReadonlyMap<string, IndexedIncident | null>): IndexDraft {
    return new IndexDraft(this, prior);
  }
}

export class IndexDraft {
  private readonly current = new Map<string, IndexedIncident | null>();
  private readonly owners = new Map<string, string | null>();
  readonly counts: Record<IncidentState, number>;
  countsChanged = false;

  constructor(
    private readonly index: IncidentIndex,
    private readonly prior: ReadonlyMap<string, IndexedIncident | null>,
  ) {
    this.counts = { ...index.counts };
  }

  /** Records that incident `id` is now `next`; returns the `open` index writes that follow. */
  put(id: string, next: IndexedIncident): OpenIndexOp[] {
    const prev = this.known(id);
    this.current.set(id, next);
    if (prev?.state !== next.state) {
      if (prev) this.counts[prev.state] -= 1;
      this.counts[next.state] += 1;
      this.countsChanged = true;
    }
    const ops: OpenIndexOp[] = [];
    const wasIndexed = prev && prev.state !== 'resolved' ? prev.fingerprint : null;
    const isIndexed = next.state !== 'resolved' ? next.fingerprint : null;
    // Delete only our own entry: if another incident took the fingerprint, it is theirs now.
    if (wasIndexed !== null && wasIndexed !== isIndexed && this.owner(wasIndexed) === id) {
      ops.push({ type: 'del', fingerprint: wasIndexed });
      this.owners.set(wasIndexed, null);
    }
    // Last writer wins: two open incidents for one fingerprint is the dedup layer's bug, and
    // refusing the write would lose a page; the newer incident gets the index entry.
    if (isIndexed !== null && this.owner(isIndexed) !== id) {
      ops.push({ type: 'put', fingerprint: isIndexed, id });
      this.owners.set(isIndexed, id);
    }
    return ops;
  }

  /** A resolved incident deleted by retention: it leaves the counts. */
  forget(id: string): void {
    const prev = this.known(id);
    if (prev === null) return;
    this.counts[prev.state] -= 1;
    this.countsChanged = true;
    this.current.set(id, null);
  }

  /** Makes the draft the truth; call only after the batch is on disk. */
  apply(): void {
    for (const [id, value] of this.current) {
      const before = this.index.byId.get(id);
      const open = value !== null && value.state !== 'resolved';
      if (before !== undefined && (!open || before.providerKey !== value.providerKey))
        this.index.closeKey(before.providerKey, id);
      if (open) {
        // Keep the strings the index already holds: a change's record is a parsed or cloned copy,
        // and each copy of an open incident's key and fingerprint would stay until it resolves.
        const same =
          before !== undefined &&
          before.fingerprint === value.fingerprint &&
          before.providerKey === value.providerKey;
        if (same && before.state === value.state) continue;
        this.index.byId.set(id, same ? { ...before, state: value.state } : value);
        this.index.openKey(value.providerKey, id);
      } else this.index.byId.delete(id);
    }
    for (const [fingerprint, id] of this.owners) {
      if (id === null) this.index.byFingerprint.delete(fingerprint);
      else this.index.byFingerprint.set(fingerprint, id);
    }
    this.index.counts = this.counts;
  }

  private known(id: string): IndexedIncident | null {
    const drafted = this.current.get(id);
    if (drafted !== undefined) return drafted;
    return this.index.byId.get(id) ?? this.prior.get(id) ?? null;
  }

  /** The state of an incident as of this draft (before its next `put`), or null when unknown. */
  stateOf(id: string): IncidentState | null {
    return this.known(id)?.state ?? null;
  }

  /** The incident that holds `fingerprint` in the `open` index once this draft applies. */
  ownerOf(fingerprint: string): string | undefined {
    return this.owner(fingerprint);
  }

  private owner(fingerprint: string): string | undefined {
    const drafted = this.owners.get(fingerprint);
    if (drafted !== undefined) return drafted ?? undefined;
    return this.index.byFingerprint.get(fingerprint);
  }
}
