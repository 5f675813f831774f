// What a decision means for incident state, before anything is written (docs/architecture.md,
// "The flow of one event"): a new incident, a repeat of an open one (dedup), a fold into the
// service's storm incident, the resolution of an open one, a record for trends, or nothing.
// Pure but for the storm guard's count, which `admit` keeps.
import { changesNothing, type Decision } from '../domain/decision.js';
import type { Recoveries } from './recoveries.js';
import { stormFingerprint } from './storm.js';

export interface OpenLookup<R extends { lastEventMs: number }> {
  get(fingerprint: string): R | undefined;
}

export type Correlation<R> =
  /** Not paged, not recorded, not a resolve: most log lines. */
  | { kind: 'ignore' }
  /** An info-classified or suppressed alert: published for trends, never paged. */
  | { kind: 'record' }
  /** A resolve rule: the open incident it names, if any. */
  | { kind: 'resolve'; fingerprint: string; ref: R | undefined }
  /**
   * A resolve rule whose line is older than the newest failure of the incident it names: a late or
   * redelivered recovery (JetStream redelivers what a crash left unacked after ack_wait, behind
   * newer lines). Resolving would close an incident whose failure is current: ignored.
   */
  | { kind: 'stale_resolve'; fingerprint: string; ref: R }
  /**
   * A paged alert whose fingerprint has no open incident, no newer than the recovery line that
   * resolved the last one (src/correlate/recoveries.ts): a late or redelivered failure, ignored.
   */
  | { kind: 'late_failure'; fingerprint: string }
  /** A paged alert whose fingerprint (or its service's storm incident) is open already. */
  | { kind: 'repeat'; fingerprint: string; ref: R; storm: boolean }
  /** A paged alert that opens an incident: its own, or the service's storm incident. */
  | { kind: 'open'; storm: boolean };

/**
 * `admit(service)`: whether the storm guard lets one more new incident of the service open now.
 * `eventMs`: the event's own time. `recoveries`: the recovery lines that resolved incidents.
 */
export function correlate<R extends { lastEventMs: number }>(
  decision: Decision,
  eventMs: number,
  open: OpenLookup<R>,
  admit: (service: string) => boolean,
  recoveries: Pick<Recoveries, 'covers'>,
): Correlation<R> {
  if (decision.resolves !== null) {
    const ref = open.get(decision.resolves);
    if (ref !== undefined && eventMs < ref.lastEventMs)
      return { kind: 'stale_resolve', fingerprint: decision.resolves, ref };
    return { kind: 'resolve', fingerprint: decision.resolves, ref };
  }
  if (!decision.paged) return changesNothing(decision) ? { kind: 'ignore' } : { kind: 'record' };
  const existing = open.get(decision.fingerprint);
  if (existing !== undefined)
    return { kind: 'repeat', fingerprint: decision.fingerprint, ref: existing, storm: false };
  if (recoveries.covers(decision.fingerprint, eventMs))
    return { kind: 'late_failure', fingerprint: decision.fingerprint };
  if (admit(decision.service)) return { kind: 'open', storm: false };
  const storm = stormFingerprint(decision.service);
  const stormRef = open.get(storm);
  if (stormRef !== undefined) return { kind: 'repeat', fingerprint: storm, ref: stormRef, storm: true };
  return { kind: 'open', storm: true };
}
