// The recovery lines that resolved incidents, by fingerprint (docs/nats.md, "Ordering and
// backpressure"): a failure line that is not newer than the recovery line that resolved its
// fingerprint's last incident happened before that recovery. It arrived late (JetStream redelivers
// what a crash or a lost ack left unacked after ack_wait, behind newer lines; publishers race) and
// opens nothing: a new incident would page for a problem already over and never be resolved, as
// its recovery has passed. Ties go to the recovery, as a recovery line as old as the newest failure
// still resolves. Times ahead of the sidecar's clock count as its now, here and for the newest
// failure a recovery is compared with (src/incidents/open-incidents.ts): a publisher whose clock runs
// fast would otherwise make every genuine line until then look late. Bounded: the longest
// remembered go first.
import { BoundedMap } from '../domain/bounded-map.js';

const REMEMBERED = 20_000;

export class Recoveries {
  private readonly lineMs: BoundedMap<string, number>;

  /** `max`: fingerprints remembered at most (half of them at least). */
  constructor(max = REMEMBERED) {
    this.lineMs = new BoundedMap(max);
  }

  /** The recovery line at `lineMs` (its own time) resolved `fingerprint`'s incident. */
  remember(fingerprint: string, lineMs: number): void {
    if (!Number.isFinite(lineMs)) return;
    const known = this.lineMs.get(fingerprint);
    if (known !== undefined && known >= lineMs) return;
    this.lineMs.set(fingerprint, lineMs);
  }

  /** Whether a failure line of `fingerprint` at `eventMs` is no newer than the recovery that resolved it. */
  covers(fingerprint: string, eventMs: number): boolean {
    const at = this.lineMs.get(fingerprint);
    return at !== undefined && Number.isFinite(eventMs) && eventMs <= at;
  }
}
