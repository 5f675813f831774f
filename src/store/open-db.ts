// Opening the data directory: the LevelDB lock, the schema version, and the in-memory indexes
// that mirror the `open` sublevel and the incident counts.
import type { AbstractBatchOperation } from 'abstract-level';
import { Level } from 'level';
import type { IncidentState } from '../domain/incident.js';
import { StoreError, errorMessage } from '../errors.js';
import { prepareDataDir } from './data-dir.js';
import { IncidentIndex } from './incident-index.js';
import {
  META_INCIDENT_COUNTS,
  META_REFS_INDEXED,
  META_SCHEMA_VERSION,
  SCHEMA_VERSION,
  emptyCounts,
  openEntryOf,
  openSublevels,
  refKey,
} from './layout.js';
import type { Db, OpenEntry, Sublevels } from './layout.js';

export interface Opened {
  db: Db;
  subs: Sublevels;
  index: IncidentIndex;
  /** The open incidents read to build the index, as the small facts the incident core keeps. */
  open: OpenSummary[];
}

/** What the incident core's local view needs of an open incident (src/incidents/open-incidents.ts). */
export interface OpenSummary {
  id: string;
  correlationId: string;
  fingerprint: string;
  providerKey: string;
  service: string;
  state: IncidentState;
  occurrences: number;
  lastSeenMs: number;
  escalationDueMs?: number;
  flap?: { retriggers: number[]; resolvedAtMs: null };
}

export async function openDb(dir: string): Promise<Opened> {
  // Before the constructor: abstract-level starts opening on the next tick by itself.
  await prepareDataDir(dir);
  let db: Db;
  try {
    db = new Level<string, unknown>(dir, { keyEncoding: 'utf8', valueEncoding: 'json' });
    await db.open();
  } catch (err) {
    throw openError(dir, err);
  }
  try {
    const subs = openSublevels(db);
    await checkSchema(dir, db, subs);
    await indexRefs(db, subs);
    return { db, subs, ...(await loadIndex(db, subs)) };
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err instanceof StoreError
      ? err
      : new StoreError(`cannot read data directory ${dir}: ${errorMessage(err)}`, { cause: err });
  }
}

// classic-level reports a held LOCK as LEVEL_DATABASE_NOT_OPEN with cause.code LEVEL_LOCKED, for a
// second open from this process ("already held by process") and from another one ("Resource
// temporarily unavailable") alike.
function openError(dir: string, err: unknown): StoreError {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (cause?.code === 'LEVEL_LOCKED')
    return new StoreError(
      `data directory ${dir} is in use by another incident-router (LevelDB lock held); one sidecar per DATA_DIR`,
      { cause: err },
    );
  const detail =
    typeof cause?.message === 'string' ? `${errorMessage(err)}: ${cause.message}` : errorMessage(err);
  return new StoreError(`cannot open data directory ${dir}: ${detail}`, { cause: err });
}

async function checkSchema(dir: string, db: Db, subs: Sublevels): Promise<void> {
  const version = await subs.meta.get(META_SCHEMA_VERSION);
  if (version === undefined) await putMeta(db, subs, META_SCHEMA_VERSION, SCHEMA_VERSION);
  else if (version !== SCHEMA_VERSION)
    throw new StoreError(
      `data directory ${dir} holds store schema version ${JSON.stringify(version)}; this incident-router reads version ${SCHEMA_VERSION}`,
    );
}

/**
 * The open index, from the `open` sublevel alone: each entry carries what the incident core keeps
 * (layout.ts, `OpenEntry`), written in the same batch as its incident, so a start reads no
 * incident. Entries of an older store (an id alone) are checked against their incidents, and an
 * entry that disagrees with its incident (written from outside this code) is healed.
 */
async function loadIndex(db: Db, subs: Sublevels): Promise<{ index: IncidentIndex; open: OpenSummary[] }> {
  const open: OpenSummary[] = [];
  const bare: [fingerprint: string, id: string][] = [];
  for (const [fingerprint, entry] of await subs.open.iterator().all()) {
    if (typeof entry === 'string') bare.push([fingerprint, entry]);
    else open.push(summaryOf(fingerprint, entry));
  }
  const incidents = bare.length > 0 ? await subs.incidents.getMany(bare.map(([, id]) => id)) : [];
  // Healed and upgraded once: the next start reads the entries alone.
  const fixes: AbstractBatchOperation<Db, string, unknown>[] = [];
  bare.forEach(([fingerprint], i) => {
    const incident = incidents[i];
    if (!incident || incident.state === 'resolved' || incident.fingerprint !== fingerprint)
      fixes.push({ type: 'del', sublevel: subs.open, key: fingerprint });
    else {
      const entry = openEntryOf(incident);
      fixes.push({ type: 'put', sublevel: subs.open, key: fingerprint, value: entry });
      open.push(summaryOf(fingerprint, entry));
    }
  });
  if (fixes.length > 0) await db.batch(fixes, { sync: true });
  return { index: new IncidentIndex(open, await loadCounts(db, subs)), open };
}

function summaryOf(fingerprint: string, entry: OpenEntry): OpenSummary {
  return {
    id: entry.id,
    correlationId: entry.correlation_id,
    fingerprint,
    providerKey: entry.provider_key,
    service: entry.service,
    state: entry.state,
    occurrences: entry.occurrences,
    lastSeenMs: Date.parse(entry.last_seen),
    ...(entry.escalation_due === undefined ? {} : { escalationDueMs: entry.escalation_due }),
    ...(entry.flap_retriggers === undefined
      ? {}
      : { flap: { retriggers: entry.flap_retriggers, resolvedAtMs: null } }),
  };
}

async function loadCounts(db: Db, subs: Sublevels): Promise<Record<IncidentState, number>> {
  const stored = (await subs.meta.get(META_INCIDENT_COUNTS)) as Record<IncidentState, number> | undefined;
  if (stored) return { ...emptyCounts(), ...stored };
  // Written with every state change since schema 1; recount once if it is missing.
  const counts = emptyCounts();
  for await (const incident of subs.incidents.values()) counts[incident.state] += 1;
  await putMeta(db, subs, META_INCIDENT_COUNTS, counts);
  return counts;
}

/** A data directory written before the `refs` index existed: index every incident once. */
async function indexRefs(db: Db, subs: Sublevels): Promise<void> {
  if ((await subs.meta.get(META_REFS_INDEXED)) !== undefined) return;
  const ops: { type: 'put'; sublevel: Sublevels['refs']; key: string; value: string }[] = [];
  const put = (ref: string, id: string): void => {
    try {
      ops.push({ type: 'put', sublevel: subs.refs, key: refKey(ref, id), value: '' });
    } catch {
      // A ref that cannot be a key (never written by this code) is not indexed.
    }
  };
  for await (const incident of subs.incidents.values()) {
    put(incident.provider_key, incident.id);
    for (const hold of Object.values(incident.holds))
      if (hold.external_id) put(`${hold.type}:${hold.external_id}`, incident.id);
  }
  if (ops.length > 0) await db.batch(ops, { sync: true });
  await putMeta(db, subs, META_REFS_INDEXED, 1);
}

// Sublevel put() does not take `sync`; a one-op batch does.
async function putMeta(db: Db, subs: Sublevels, key: string, value: unknown): Promise<void> {
  await db.batch([{ type: 'put', sublevel: subs.meta, key, value }], { sync: true });
}
