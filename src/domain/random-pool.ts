// Random bytes drawn from the kernel 4 KiB at a time: `randomBytes(n)` per call costs a few
// microseconds whatever n is, which was 7% of the sidecar's CPU while opening incidents (one per id)
// and 3.5% of the provider simulators' (docs/performance.md, "Delivery path").
import { randomBytes } from 'node:crypto';

const POOL_BYTES = 4_096;

export class RandomPool {
  private pool = Buffer.alloc(0);
  private at = 0;

  /** A random unsigned 32-bit integer. */
  uint32(): number {
    this.ensure(4);
    const value = this.pool.readUInt32BE(this.at);
    this.at += 4;
    return value;
  }

  /** A random byte (0–255). */
  byte(): number {
    this.ensure(1);
    return this.pool[this.at++] as number;
  }

  private ensure(n: number): void {
    if (this.at + n <= this.pool.length) return;
    this.pool = randomBytes(POOL_BYTES);
    this.at = 0;
  }
}
