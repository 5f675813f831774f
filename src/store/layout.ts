// The data directory's whole key layout. Every key the store reads or writes is built here.
//
// One LevelDB database (`level`, classic-level on Node); each sublevel prefixes its keys with
// `!<name>!`. Values are JSON text.
//
//   sublevel      key                               value
//   incidents     <incident id>                     Incident
//   open          <fingerprint>                     incident id: present only while that incident is
//                                                   not resolved (the dedup index)
//   deliveries    <delivery id>                     Delivery (the outbox and its history)
//   pending       <delivery id>                     '' while that delivery's status is `pending`
//   by_incident   <incident id>!<delivery id>       '' (lists an incident's deliveries without a scan)
//   audit         <incident id>!<seq, 10 digits>    AuditEntry (the timeline; seq from 1, per incident)
//   breakers      <provider instance name>          BreakerState
//   silences      <silence id>                      Silence (src/silences/model.ts), its newest version
//   flaps         <fingerprint>                     FlapTrace (src/incidents/flap.ts): the last resolve
//                                                   and re-triggers of a damped fingerprint, written
//                                                   with the resolve of its incident
//   recoveries    <fingerprint>                     epoch ms: the own time of the recovery line that
//                                                   resolved the fingerprint's last incident, written
//                                                   with that resolve (src/correlate/recoveries.ts);
//                                                   deleted with that incident by retention
//   webhooks      <webhook delivery id>             { at: epoch ms } (replay de-duplication)
//   refs          <ref>!<incident id>               '': finds incidents by what providers call them:
//                                                   the provider key (`ir-…`, every incident, written
//                                                   when it opens) and `<provider type>:<their id>`
//                                                   (PagerDuty incident id, OpsGenie alert id, learned
//                                                   from webhooks). Several incidents share a provider
//                                                   key when a fingerprint opens again after a resolve;
//                                                   ids sort by creation, so the newest is last.
//   counts        <incident id>                     CountsAhead: occurrences counted since the
//                                                   incident's record was last written, written back
//                                                   alone (a small put instead of the whole record);
//                                                   every read adds them to the record, and the
//                                                   record's next write folds them in and deletes
//                                                   the key in the same batch. Only open incidents
//                                                   have one.
//   provider_events <incident id>!<provider instance> ProviderMark: the provider's time of the newest
//                                                   event applied from that provider (stale webhooks)
//   meta          schema_version                    1
//                 incident_counts                   Record<IncidentState, number>
//                 refs_indexed                      1 once `refs` covers every incident
//
// Ids are time-sortable (ids.ts), so key order is creation order. Incident ids never contain `!`,
// which makes `<incident id>!` an exact range prefix: `"` is the next byte after `!`, so the range
// [`<id>!`, `<id>"`) holds one incident's keys and nothing of `<id>0…`.
import type { AbstractSublevel } from 'abstract-level';
import type { Level } from 'level';
import { StoreError } from '../errors.js';
import type { AuditEntry, Delivery, Incident, IncidentState } from '../domain/incident.js';
import { escalationDueOf } from '../domain/escalation.js';
import type { Silence } from '../silences/model.js';
import type { FlapTrace } from '../domain/flap.js';

export const SCHEMA_VERSION = 1;

export type Db = Level<string, unknown>;
export type Sublevel<V> = AbstractSublevel<Db, string | Buffer | Uint8Array, string, V>;

export interface Sublevels {
  incidents: Sublevel<Incident>;
  /** Fingerprint → its open incident: an `OpenEntry`, or (written before schema 1's entries) its id. */
  open: Sublevel<OpenEntry | string>;
  deliveries: Sublevel<Delivery>;
  pending: Sublevel<string>;
  byIncident: Sublevel<string>;
  audit: Sublevel<AuditEntry>;
  breakers: Sublevel<unknown>;
  silences: Sublevel<Silence>;
  flaps: Sublevel<FlapTrace>;
  recoveries: Sublevel<number>;
  webhooks: Sublevel<{ at: number }>;
  refs: Sublevel<string>;
  providerEvents: Sublevel<ProviderMark>;
  counts: Sublevel<CountsAhead>;
  meta: Sublevel<unknown>;
}

/** Occurrences of an open incident counted since its record was last written (`counts`). */
export interface CountsAhead {
  /** Added to the record's `occurrences` (and to `storm.folded` when it folds a storm). */
  added: number;
  /** The newest occurrence among them, epoch ms: the incident's `last_seen` when later than the record's. */
  last_seen: number;
}

/** The newest event applied to an incident from one provider instance, by the provider's clock. */
export interface ProviderMark {
  /** The provider's time of the event, epoch ms. */
  at: number;
  event_id: string;
}

/**
 * What the incident core keeps of an open incident (src/incidents/open-incidents.ts), kept in the
 * `open` index beside its id and rewritten with every write of the incident that changes it while
 * it is open: a start reads these small entries, never the 100,000 incidents behind them.
 */
export interface OpenEntry {
  id: string;
  correlation_id: string;
  provider_key: string;
  service: string;
  state: IncidentState;
  occurrences: number;
  last_seen: string;
  /** When its escalation timer fires (epoch ms), if one is pending: a start rebuilds its timers from these. */
  escalation_due?: number;
  /** Flap damping's re-triggers of its fingerprint (epoch ms), when its route damps. */
  flap_retriggers?: number[];
}

export function openEntryOf(incident: Incident): OpenEntry {
  const due = escalationDueOf(incident);
  return {
    id: incident.id,
    correlation_id: incident.correlation_id,
    provider_key: incident.provider_key,
    service: incident.service,
    state: incident.state,
    occurrences: incident.occurrences,
    last_seen: incident.last_seen,
    ...(due === null ? {} : { escalation_due: due }),
    ...(incident.flap === undefined ? {} : { flap_retriggers: incident.flap.retriggers }),
  };
}

/**
 * Whether two open entries hold the same (their fields are strings, numbers and arrays of numbers):
 * a write whose entry equals the one of the version it replaces need not rewrite it.
 */
export function sameOpenEntry(a: OpenEntry, b: OpenEntry): boolean {
  const keys = Object.keys(a) as (keyof OpenEntry)[];
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    const x = a[key];
    const y = b[key];
    if (x === y) continue;
    if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  }
  return true;
}

export function openSublevels(db: Db): Sublevels {
  const sub = <V>(name: string): Sublevel<V> =>
    db.sublevel<string, V>(name, { keyEncoding: 'utf8', valueEncoding: 'json' });
  return {
    incidents: sub<Incident>('incidents'),
    open: sub<OpenEntry | string>('open'),
    deliveries: sub<Delivery>('deliveries'),
    pending: sub<string>('pending'),
    byIncident: sub<string>('by_incident'),
    audit: sub<AuditEntry>('audit'),
    breakers: sub<unknown>('breakers'),
    silences: sub<Silence>('silences'),
    flaps: sub<FlapTrace>('flaps'),
    recoveries: sub<number>('recoveries'),
    webhooks: sub<{ at: number }>('webhooks'),
    refs: sub<string>('refs'),
    providerEvents: sub<ProviderMark>('provider_events'),
    counts: sub<CountsAhead>('counts'),
    meta: sub<unknown>('meta'),
  };
}

export const META_SCHEMA_VERSION = 'schema_version';
export const META_INCIDENT_COUNTS = 'incident_counts';
/** Set once `refs` holds every incident (a data directory from before `refs` is indexed at open). */
export const META_REFS_INDEXED = 'refs_indexed';

export interface KeyRange {
  gt: string;
  lt: string;
}

const SEQ_DIGITS = 10;
const MAX_KEY_CHARS = 512;

/** A plain key: any non-empty text of sane length (fingerprints, provider names, webhook ids). */
export function plainKey(what: string, key: string): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_CHARS)
    throw new StoreError(
      `invalid ${what} key ${JSON.stringify(key)}: expected 1-${MAX_KEY_CHARS} characters`,
    );
  return key;
}

/** An id that may head a composite key: no `!`, no control characters. */
export function idKey(what: string, id: string): string {
  plainKey(what, id);
  // eslint-disable-next-line no-control-regex
  if (/[!\u0000-\u001f]/.test(id))
    throw new StoreError(
      `invalid ${what} ${JSON.stringify(id)}: ids must not contain "!" or control characters`,
    );
  return id;
}

export function auditKey(incidentId: string, seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 1 || seq >= 10 ** SEQ_DIGITS)
    throw new StoreError(`invalid audit seq ${seq} for incident ${incidentId}`);
  return `${idKey('incident id', incidentId)}!${String(seq).padStart(SEQ_DIGITS, '0')}`;
}

export function auditRange(incidentId: string): KeyRange {
  return prefixRange(idKey('incident id', incidentId));
}

export function seqOfAuditKey(key: string): number {
  return Number(key.slice(key.lastIndexOf('!') + 1));
}

export function incidentDeliveryKey(incidentId: string, deliveryId: string): string {
  return `${idKey('incident id', incidentId)}!${idKey('delivery id', deliveryId)}`;
}

export function incidentDeliveriesRange(incidentId: string): KeyRange {
  return prefixRange(idKey('incident id', incidentId));
}

export function deliveryIdOfIncidentKey(key: string): string {
  return key.slice(key.indexOf('!') + 1);
}

/** A ref as providers name an incident: a provider key, or `<provider type>:<their id>`. */
export function refKey(ref: string, incidentId: string): string {
  return `${idKey('incident ref', ref)}!${idKey('incident id', incidentId)}`;
}

export function refRange(ref: string): KeyRange {
  return prefixRange(idKey('incident ref', ref));
}

export function incidentIdOfRefKey(key: string): string {
  return key.slice(key.lastIndexOf('!') + 1);
}

export function providerMarksRange(incidentId: string): KeyRange {
  return prefixRange(idKey('incident id', incidentId));
}

export function providerMarkKey(incidentId: string, provider: string): string {
  return `${idKey('incident id', incidentId)}!${plainKey('provider', provider)}`;
}

export function incidentIdOfMarkKey(key: string): string {
  return key.slice(0, key.indexOf('!'));
}

export function providerOfMarkKey(key: string): string {
  return key.slice(key.indexOf('!') + 1);
}

function prefixRange(id: string): KeyRange {
  return { gt: `${id}!`, lt: `${id}"` };
}

export function emptyCounts(): Record<IncidentState, number> {
  return { triggered: 0, acknowledged: 0, resolved: 0 };
}
