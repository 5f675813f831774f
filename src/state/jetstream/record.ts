// One incident as the cluster stores it: a KV value holding the incident, its deliveries (the outbox
// entries and their history), its timeline, its provider marks and the webhooks recently applied to
// it. One value, so one compare-and-set changes all of it at once (docs/architecture.md, "Cluster
// mode").
import { BoundedMap } from '../../domain/bounded-map.js';
import { openingLineMs, type AuditEntry, type Delivery, type Incident } from '../../domain/incident.js';
import { escalationDueOf } from '../../domain/escalation.js';
import type { Change, IncidentRef, ProviderMark } from '../backend.js';

export const RECORD_VERSION = 1;
const decoder = new TextDecoder();
/** Webhook replay ids kept per incident; older ones are in the shared webhook bucket. */
const WEBHOOK_IDS_KEPT = 64;
/** Timeline entries kept per incident: the first (the decision) and the newest. */
const AUDIT_KEPT = 1_000;

export interface IncidentRecord {
  v: number;
  incident: Incident;
  deliveries: Delivery[];
  audit: AuditEntry[];
  marks: Record<string, ProviderMark>;
  webhooks: string[];
  /** The incident that held this provider key before, if any: its deliveries go first. */
  previous: string | null;
  /**
   * Whether the decision that opened it (the `opened` entry's `details.decision`, about a quarter of
   * a record) is kept apart, in the decisions bucket: written once, not rewritten by every change.
   */
  decisionApart?: true;
}

/** The latest incident of a provider key (one per fingerprint), as the key bucket holds it. */
export interface KeyEntry extends IncidentRef {
  team: string;
  severity: string;
  /** The incident's revision this entry was written from: an older never replaces a newer. */
  rev?: number;
}

/**
 * A new incident's record, and the decision that opened it when it goes apart (`decisionApart`):
 * the record's `opened` entry keeps everything else.
 */
export function newRecord(
  incident: Incident,
  deliveries: readonly Delivery[],
  audit: readonly Omit<AuditEntry, 'seq'>[],
  previous: string | null,
): { record: IncidentRecord; decision: unknown } {
  let decision: unknown = undefined;
  const entries = audit.map((a, i): AuditEntry => {
    if (i > 0 || a.type !== 'opened' || a.details?.['decision'] === undefined) return { seq: i + 1, ...a };
    const { decision: apart, ...details } = a.details;
    decision = apart;
    return { seq: i + 1, ...a, details };
  });
  const record: IncidentRecord = {
    v: RECORD_VERSION,
    incident,
    deliveries: [...deliveries],
    audit: entries,
    marks: {},
    webhooks: [],
    previous,
    ...(decision === undefined ? {} : { decisionApart: true as const }),
  };
  return { record, decision };
}

/** The record's timeline with the decision kept apart put back in its `opened` entry. */
export function timelineWith(record: IncidentRecord, decision: unknown): AuditEntry[] {
  const [first, ...rest] = record.audit;
  if (first === undefined || !record.decisionApart || decision === undefined) return record.audit;
  return [{ ...first, details: { decision, ...first.details } }, ...rest];
}

/** A record read from the bucket, or null with the reason when it is not one (never thrown). */
export function parseRecord(
  bytes: Uint8Array | string,
): { ok: true; record: IncidentRecord } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(typeof bytes === 'string' ? bytes : decoder.decode(bytes));
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  const r = value as Partial<IncidentRecord> | null;
  if (r === null || typeof r !== 'object' || r.v !== RECORD_VERSION)
    return { ok: false, reason: 'not a version 1 record' };
  if (typeof r.incident?.id !== 'string' || !Array.isArray(r.deliveries) || !Array.isArray(r.audit))
    return { ok: false, reason: 'missing incident, deliveries or audit' };
  return {
    ok: true,
    record: { marks: {}, webhooks: [], previous: null, ...r } as IncidentRecord,
  };
}

/** The record after `change`; `revision` is the record's stored revision of the incident. */
export function applyChange(record: IncidentRecord, change: Change): IncidentRecord {
  const incident =
    change.incident === null
      ? record.incident
      : { ...change.incident, revision: record.incident.revision + 1 };
  if (change.incident !== null) change.incident.revision = incident.revision;
  const deliveries = [...record.deliveries];
  for (const d of change.deliveries) {
    const i = deliveries.findIndex((x) => x.id === d.id);
    if (i === -1) deliveries.push(d);
    else deliveries[i] = d;
  }
  let audit = record.audit;
  if (change.audit.length > 0) {
    const last = record.audit.at(-1)?.seq ?? 0;
    audit = [...record.audit, ...change.audit.map((a, i) => ({ seq: last + i + 1, ...a }))];
    if (audit.length > AUDIT_KEPT) audit = [audit[0] as AuditEntry, ...audit.slice(-(AUDIT_KEPT - 1))];
  }
  const webhooks = change.webhookId
    ? [...record.webhooks, change.webhookId].slice(-WEBHOOK_IDS_KEPT)
    : record.webhooks;
  return { ...record, incident, deliveries, audit, marks: { ...record.marks, ...change.marks }, webhooks };
}

/** Deliveries of `change` that the record did not hold: the ones to publish to the outbox. */
export function newDeliveries(record: IncidentRecord | null, change: Change): Delivery[] {
  const known = new Set(record?.deliveries.map((d) => d.id) ?? []);
  return change.deliveries.filter((d) => d.status === 'pending' && !known.has(d.id));
}

export function keyEntryOf(incident: Incident): KeyEntry {
  const due = escalationDueOf(incident);
  const lineMs = openingLineMs(incident);
  return {
    id: incident.id,
    correlationId: incident.correlation_id,
    fingerprint: incident.fingerprint,
    providerKey: incident.provider_key,
    service: incident.service,
    team: incident.team,
    severity: incident.severity,
    rev: incident.revision,
    state: incident.state,
    occurrences: incident.occurrences,
    lastSeenMs: Date.parse(incident.last_seen),
    ...(Number.isFinite(lineMs) ? { lineMs } : {}),
    ...(due === null ? {} : { escalationDueMs: due }),
    ...(incident.recovery_line_at === undefined
      ? {}
      : { recoveryLineMs: Date.parse(incident.recovery_line_at) }),
    ...(incident.flap === undefined
      ? {}
      : {
          flap: {
            retriggers: incident.flap.retriggers,
            resolvedAtMs: incident.resolved_at === null ? null : Date.parse(incident.resolved_at),
          },
        }),
  };
}

/** A record as stored, with the revision a compare-and-set of it names. */
export interface StoredRecord {
  record: IncidentRecord;
  revision: number;
}

/**
 * The records this replica wrote or read last, as their JSON, with their revisions: a change starts
 * from one instead of reading the bucket. One that another replica has changed since loses its
 * claim or fails its compare-and-set, is dropped, and the change reads the bucket
 * (docs/architecture.md, "Cluster mode"). The newest few are also kept parsed, shared by every
 * caller that asks (an incident's deliveries, their outcomes and its webhooks come within moments
 * of each other): callers read them and never change them. The incident, its deliveries and the
 * record itself are frozen, so a change to them throws instead of corrupting what the next caller
 * reads; a caller that needs to change one copies it (the outbox worker its delivery).
 */
export class RecentRecords {
  private readonly records: BoundedMap<string, { json: string; revision: number }>;
  private readonly parsed: BoundedMap<string, StoredRecord>;

  /** `max`: records kept at most (half of them at least); `parsedMax`: of those, kept parsed. */
  constructor(max: number, parsedMax: number) {
    this.records = new BoundedMap(max);
    this.parsed = new BoundedMap(parsedMax);
  }

  get(id: string): StoredRecord | undefined {
    const kept = this.records.get(id);
    if (kept === undefined) return undefined;
    const parsed = this.parsed.get(id);
    if (parsed !== undefined && parsed.revision === kept.revision) return parsed;
    const read = parseRecord(kept.json);
    if (!read.ok) return undefined;
    return this.keepParsed(id, read.record, kept.revision);
  }

  /** Keeps `json` at `revision` (parsed when first asked for). */
  set(id: string, json: string, revision: number): void {
    this.records.set(id, { json, revision });
    this.parsed.delete(id);
  }

  /** Keeps `json` at `revision` with `record`, its parse: frozen here, and returned so. */
  setParsed(id: string, json: string, revision: number, record: IncidentRecord): StoredRecord {
    this.records.set(id, { json, revision });
    return this.keepParsed(id, record, revision);
  }

  delete(id: string): void {
    this.records.delete(id);
    this.parsed.delete(id);
  }

  /** Forgets every record (the process is at rest): the next change of each reads the bucket. */
  shed(): void {
    this.records.shed();
    this.parsed.shed();
  }

  private keepParsed(id: string, record: IncidentRecord, revision: number): StoredRecord {
    for (const d of record.deliveries) Object.freeze(d);
    Object.freeze(record.deliveries);
    Object.freeze(record.incident);
    const stored = { record: Object.freeze(record), revision };
    this.parsed.set(id, stored);
    return stored;
  }
}
