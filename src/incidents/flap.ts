// Flap damping (docs/policy-language.md, "Flap damping"): an incident that resolves and triggers
// again more than `max_repages` times within `window` is held open instead of paging again, as
// PagerDuty's `suspend` holds alerts; it pages when it is still open `hold` later (it persisted),
// and a resolve meanwhile closes it without a word to the providers (they never heard of it).
//
// A fingerprint's re-triggers live on its incidents' records and pass from one incident to the
// next: each replica keeps the last resolved one's in memory (loaded at start, and in cluster mode
// followed from the key bucket), so deciding to hold costs no read.
import { BoundedMap } from '../domain/bounded-map.js';
import { formatDuration } from '../domain/duration.js';
import { type FlapTrace } from '../domain/flap.js';
import type { Incident } from '../domain/incident.js';

export { flapOnOpen, traceOf, type FlapTrace } from '../domain/flap.js';

/** Each damped fingerprint's last resolve and re-triggers; bounded (the oldest forgotten first). */
export class FlapHistory {
  private readonly traces: BoundedMap<string, FlapTrace>;

  /** `limit`: fingerprints remembered at most (half of them at least). */
  constructor(limit = 10_000) {
    this.traces = new BoundedMap(limit);
  }

  get(fingerprint: string): FlapTrace | undefined {
    return this.traces.get(fingerprint);
  }

  remember(fingerprint: string, trace: FlapTrace): void {
    const held = this.traces.get(fingerprint);
    if (held !== undefined && held.resolvedAtMs > trace.resolvedAtMs) return;
    this.traces.set(fingerprint, trace);
  }
}

/** Why a re-trigger is held open (its timeline entry). */
export function heldWhy(incident: Incident): string {
  const flap = incident.flap as NonNullable<Incident['flap']>;
  const { max_repages, window_ms, hold_ms } = flap.damping;
  return (
    `flapping: triggered again ${flap.retriggers.length} times within ${formatDuration(window_ms)} ` +
    `(at most ${max_repages} page again); held open, not paged, until ${new Date(flap.release_at as number).toISOString()} ` +
    `(${formatDuration(hold_ms)}): it pages then if still open`
  );
}
