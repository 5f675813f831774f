// The last lifecycle changes, numbered, for clients that reconnect with `Last-Event-ID`
// (docs/http-api.md, "GET /api/v1/stream"). A fixed array of references: recording a change
// allocates nothing, and change `seq` lives in slot `seq % capacity` until it is overwritten.
import type { LifecycleEvent } from '../incidents/lifecycle.js';

export class LifecycleRing {
  private readonly slots: (LifecycleEvent | undefined)[];
  /** The id of the newest change (0: none yet). */
  private newest = 0;
  /** Changes at or below this id are gone, whatever the ring still holds (a gap in the feed). */
  private floor = 0;

  constructor(readonly capacity: number) {
    this.slots = new Array<LifecycleEvent | undefined>(capacity);
  }

  /** Records a change; returns its id. */
  push(event: LifecycleEvent): number {
    this.newest++;
    this.slots[this.newest % this.capacity] = event;
    return this.newest;
  }

  get head(): number {
    return this.newest;
  }

  /** Whether every change after `id` is still here (so a client at `id` misses nothing). */
  holdsAfter(id: number): boolean {
    return id >= this.floor && id <= this.newest && id >= this.newest - this.capacity;
  }

  /** The change numbered `id`; call only for ids after one `holdsAfter` accepted. */
  at(id: number): LifecycleEvent {
    return this.slots[id % this.capacity] as LifecycleEvent;
  }

  /**
   * Changes up to now may be incomplete (a lost feed): no client may resume from before here. The
   * cut takes a number of its own, holding nothing, so a client that had the newest change before
   * the cut cannot resume either; the ids sent with `reset` after it can.
   */
  cut(): void {
    this.newest++;
    this.slots[this.newest % this.capacity] = undefined;
    this.floor = this.newest;
  }
}
