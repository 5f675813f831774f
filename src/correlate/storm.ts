// Storm control (docs/architecture.md, "The flow of one event"): beyond `max_new_incidents` new
// incidents for one service inside the window, further alerts of that service fold into one storm
// incident with a count. The window slides. State is per service and bounded: old timestamps fall out
// as they age, and a service with none left is forgotten at the next sweep (at most one window later).
export class StormGuard {
  /** Recent new-incident times by service, oldest first. */
  private readonly opened = new Map<string, number[]>();
  private nextSweepMs = -Infinity;
  /** The window of the last admission: what an idle sweep forgets by. */
  private windowMs = Infinity;

  /** Whether one more new incident for the service is allowed now; records it when allowed. */
  admit(service: string, nowMs: number, maxNew: number, windowMs: number): boolean {
    this.windowMs = windowMs;
    if (nowMs >= this.nextSweepMs) this.sweep(nowMs, windowMs);
    const times = this.opened.get(service);
    if (times === undefined) {
      if (maxNew < 1) return false;
      // A literal of one: `[]` and a push would reserve 17 slots, for 100,000 services 13 MB.
      this.opened.set(service, [nowMs]);
      return true;
    }
    let drop = 0;
    while (drop < times.length && (times[drop] as number) <= nowMs - windowMs) drop++;
    if (drop > 0) times.splice(0, drop);
    if (times.length >= maxNew) return false;
    times.push(nowMs);
    return true;
  }

  /** Services with recent new incidents (metrics, tests). */
  get services(): number {
    return this.opened.size;
  }

  /** Forgets services with no new incident inside the window now (the process is at rest). */
  forgetIdle(nowMs: number): void {
    if (this.windowMs !== Infinity) this.sweep(nowMs, this.windowMs);
  }

  /** Forgets services with no new incident inside the window. */
  private sweep(nowMs: number, windowMs: number): void {
    for (const [service, times] of this.opened) {
      if ((times.at(-1) ?? -Infinity) <= nowMs - windowMs) this.opened.delete(service);
    }
    this.nextSweepMs = nowMs + windowMs;
  }
}

/** The fingerprint of a service's storm incident. */
export function stormFingerprint(service: string): string {
  return `${service}:storm`;
}
