// The state backend: where incidents, their deliveries (the outbox entries and their history),
// their timelines, provider marks, webhook replay marks and breaker states live. Two
// implementations (docs/architecture.md, "State backends"): LevelDB in one process (leveldb.ts,
// the default) and NATS JetStream shared by every replica of a cluster (jetstream/).
//
// The incident core (src/incidents/incidents.ts) never writes anything else: a new incident is one
// `create`, every later change one `update`, a read-modify-write that the backend serialises (a
// per-incident lock in one process, compare-and-set on a revision across processes) and retries.
import type { AuditEntry, Delivery, Incident, IncidentState } from '../domain/incident.js';
import type { ProviderMark } from '../store/index.js';
import type { NewAuditEntry } from '../store/index.js';
import type { SilenceStore } from '../silences/model.js';
import type { FlapTrace } from '../domain/flap.js';
import type { IncidentFilter, IncidentPage } from '../domain/incident-filter.js';

export type { ProviderMark, NewAuditEntry };

/** What `update` reads before a change: the incident, and what the change asked for. */
export interface Snapshot {
  incident: Incident;
  /** This incident's deliveries, oldest first (only when asked for: `needs.deliveries`). */
  deliveries: readonly Delivery[];
  /** The newest event applied from each provider instance (only when asked for: `needs.marks`). */
  marks: Readonly<Record<string, ProviderMark>>;
  /** Whether a provider webhook with this replay id was applied to the incident already. */
  seen(webhookId: string): boolean;
}

/** One change of one incident: written whole or not at all. */
export interface Change {
  /** Its new version (the backend bumps the revision), or null when only the rest changes. */
  incident: Incident | null;
  /** New deliveries, and changed ones (status, attempts, results). */
  deliveries: readonly Delivery[];
  audit: readonly NewAuditEntry[];
  marks?: Readonly<Record<string, ProviderMark>>;
  /** Provider-side names to find it by (`<type>:<their id>`). */
  refs?: readonly string[];
  /** The provider webhook this change applies, marked in the same write (replays are refused). */
  webhookId?: string | null;
  /** Made durable before the promise resolves (LevelDB: fsync): opens, resolves, outbox changes. */
  durable: boolean;
}

/** A change's decision: what to write (or null: nothing), and what to tell the caller. */
export interface Decided<T> {
  change: Change | null;
  result: T;
}

export type Mutation<T> = (snapshot: Snapshot) => Decided<T>;

export interface UpdateNeeds {
  deliveries?: boolean;
  marks?: boolean;
  /** A webhook replay id `Snapshot.seen` will be asked about (LevelDB reads its mark first). */
  webhookId?: string | null;
}

/** The small facts the hot path keeps per open incident (dedup, counts, lists). */
export interface IncidentRef {
  id: string;
  correlationId: string;
  fingerprint: string;
  providerKey: string;
  service: string;
  state: IncidentState;
  occurrences: number;
  lastSeenMs: number;
  /** When its escalation timer fires, if one is pending (docs/architecture.md, "Escalation timers"). */
  escalationDueMs?: number;
  /** Flap damping's re-triggers of its fingerprint, and when it resolved (docs/policy-language.md, "Flap damping"). */
  flap?: { retriggers: number[]; resolvedAtMs: number | null };
  /** Resolved by a recovery line: that line's own time, epoch ms (the incident's `recovery_line_at`). */
  recoveryLineMs?: number;
  /**
   * The time of the line that opened it, epoch ms (its `event.timestamp`, at most its `opened_at`):
   * a recovery line older than this does not resolve it (cluster mode's key entries carry it).
   */
  lineMs?: number;
}

export interface IncidentDetail {
  incident: Incident;
  timeline: AuditEntry[];
  deliveries: Delivery[];
}

export type CreateOutcome = { created: true } | { created: false; existing: IncidentRef };

export type { IncidentFilter };

/** Persisted circuit-breaker states, by provider instance. */
export interface BreakerStore {
  getBreaker(name: string): Promise<unknown | undefined>;
  putBreaker(name: string, state: unknown): Promise<void>;
}

/** The latest incident of a fingerprint changed in another replica (cluster mode). */
export interface RemoteChanges {
  changed(ref: IncidentRef): void;
}

export interface StateBackend extends BreakerStore, SilenceStore {
  readonly kind: 'leveldb' | 'jetstream';
  /** Other replicas' opens and resolves, for the local view (none in one process). */
  follow?(listener: RemoteChanges): void;
  /** The open incidents, for the local view (dedup of repeats without a round trip). */
  openIncidents(): Promise<IncidentRef[]>;
  /** Damped fingerprints whose last incident is resolved: its resolve and re-triggers (src/incidents/flap.ts). */
  flapTraces(): Promise<Array<[string, FlapTrace]>>;
  /**
   * Fingerprints whose last incident a recovery line resolved, with that line's time
   * (src/correlate/recoveries.ts), for the incident core at start.
   */
  recoveries?(): Promise<Array<[string, number]>>;
  /**
   * A new incident with its first deliveries and timeline entries. Across replicas exactly one
   * incident of a fingerprint is open: a loser learns the winner.
   */
  create(
    incident: Incident,
    deliveries: readonly Delivery[],
    audit: readonly NewAuditEntry[],
    /** Written only once this settles; changes of the incident asked for meanwhile queue behind it. */
    after?: Promise<unknown>,
  ): Promise<CreateOutcome>;
  /** Read, decide, write one incident, serialised and retried on conflict; null when it does not exist. */
  update<T>(id: string, needs: UpdateNeeds, mutate: Mutation<T>): Promise<T | null>;
  /** Occurrences counted in memory since the last write-back (repeats never wait for this). */
  addOccurrences(id: string, count: number, lastSeenMs: number): Promise<void>;
  get(id: string): Promise<Incident | undefined>;
  /** One page, newest first (docs/http-api.md, "GET /api/v1/incidents"). */
  list(filter: IncidentFilter): Promise<IncidentPage>;
  /** One incident with its timeline and deliveries, as of one moment. */
  detail(id: string): Promise<IncidentDetail | null>;
  /**
   * Incidents known to providers by `ref` (a provider key, or `<type>:<their id>`), newest first.
   * `fresh`: as the store holds them now, not from a replica's view, which may trail another
   * replica's write by a moment (JetStream state; LevelDB has one writer).
   */
  findByRef(ref: string, limit: number, fresh?: boolean): Promise<string[]>;
  countByState(): Promise<Record<IncidentState, number>>;
  /** Marks a webhook that matched no incident; false when it was marked before (a replay). */
  markWebhook(id: string): Promise<boolean>;
  seenWebhook(id: string): Promise<boolean>;
  /**
   * Retention: deletes incidents resolved before `resolvedBefore` (with their deliveries and
   * timelines) and webhook replay marks older than `webhooksBefore`; returns how many incidents.
   */
  prune(cutoffs: { resolvedBefore: number; webhooksBefore: number }): Promise<number>;
  /** Bytes of storage in use (approximate). */
  storageBytes(): Promise<number>;
  /** Resolves when every change begun so far has been written. */
  idle(): Promise<void>;
  /**
   * Forgets what is only a cache of the stored state, sized for bursts (the process is at rest:
   * docs/runtime.md, "The heap at rest"); whatever it held is read again when asked for.
   */
  shed(): void;
  close(): Promise<void>;
}
