// Storm control (SPEC §4): beyond `max_new_incidents` new incidents for one service inside the
// window, further alerts of that service fold into one storm incident with a count. The window
// slides; state is per service and bounded (old timestamps fall out as they age).
export class StormGuard {
  private readonly opened = new Map<string, number[]>();

  /** Whether one more new incident for the service is allowed now; records it when allowed. */
  admit(service: string, nowMs: number, maxNew: number, windowMs: number): boolean {
    const times = this.recent(service, nowMs, windowMs);
    if (times.length >= maxNew) return false;
    times.push(nowMs);
    return true;
  }

  /** Whether the service is in a storm right now, without recording anything. */
  inStorm(service: string, nowMs: number, maxNew: number, windowMs: number): boolean {
    return this.recent(service, nowMs, windowMs).length >= maxNew;
  }

  private recent(service: string, nowMs: number, windowMs: number): number[] {
    let times = this.opened.get(service);
    if (times === undefined) {
      times = [];
      this.opened.set(service, times);
    }
    let drop = 0;
    while (drop < times.length && (times[drop] as number) <= nowMs - windowMs) drop++;
    if (drop > 0) times.splice(0, drop);
    return times;
  }

  /** Forget services with no recent incidents (called periodically). */
  sweep(nowMs: number, windowMs: number): void {
    for (const [service, times] of this.opened) {
      if (times.length === 0 || (times.at(-1) as number) <= nowMs - windowMs) this.opened.delete(service);
    }
  }
}

/** The fingerprint of a service's storm incident. */
export function stormFingerprint(service: string): string {
  return `${service}:storm`;
}
