// The share of some events among all, over consecutive windows of a fixed number of events: what
// the processor and the triage worker each weigh before triage starts or goes on (triage.ts).
export class ShareWindow {
  private events = 0;
  private hits = 0;
  private last: number | null = null;

  constructor(private readonly size: number) {}

  /** Counts `events`, `hits` of them among them; the share of a window this completes, else null. */
  add(events: number, hits: number): number | null {
    this.events += events;
    this.hits += hits;
    if (this.events < this.size) return null;
    this.last = this.hits / this.events;
    this.events = 0;
    this.hits = 0;
    return this.last;
  }

  /** The last complete window's share, or the current one's before there is any (0 when empty). */
  get share(): number {
    if (this.last !== null) return this.last;
    return this.events === 0 ? 0 : this.hits / this.events;
  }
}
