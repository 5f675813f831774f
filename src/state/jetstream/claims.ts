// One writer per revision of an incident, a provider key or a rate counter, across replicas
// (docs/architecture.md, "Claims"). Compare-and-set on a KV revision is enough on a single
// nats-server; in a NATS cluster every stream is a Raft group (even with one replica), and
// nats-server 2.9 checks the expected revision before the Raft proposal, not when it applies, so
// concurrent updates with the same revision can all succeed (nats-server issue #4320; measured here:
// 41 of 100 keys took three "winners" on R3, and R1 buckets on a 3-node cluster lost escalation
// tiers). A create (expected revision 0) is checked when it applies and stays exclusive, so before a
// compare-and-set from revision R of a key, a replica creates `<key>.<R>` in the claims bucket: one
// replica wins each revision, and a replica holding a stale revision loses its claim (whoever moved
// the key past R claimed R) without the compare-and-set. Claims are never released: each names one
// revision, which is written once, and the bucket's TTL removes them.
import type { KV } from '@nats-io/kv';
import { AppError } from '../../errors.js';
import { isConflict } from './conflict.js';

/**
 * How long a claim is kept (the bucket's TTL). Longer than a write keeps retrying through a NATS
 * outage (20 s, state.ts), so every compare-and-set made under a claim is answered before the claim
 * can go; a replica that dies holding one blocks its revision this long.
 */
export const CLAIM_TTL_MS = 30_000;
/** How long a writer keeps trying to claim a revision before it gives up (busy). */
const WAIT_FOR_CLAIM_MS = 40_000;

export class Claims {
  constructor(
    private readonly kv: KV,
    /** Whether the server is clustered (on a single server, compare-and-set suffices). */
    private readonly clustered: boolean,
    /** Told of each claim lost (contention between writers; a metric). */
    private readonly onLost: () => void = () => undefined,
  ) {}

  /** One write's claims of `key`: kept across its retries (a write that timed out claims again). */
  claimant(key: string): Claimant {
    return new Claimant(this.kv, this.clustered, key, this.onLost);
  }
}

/**
 * One write of one key: claims the revisions it compares and sets from, and waits between lost
 * claims (2 ms doubling to 100 ms, jittered; busy after 40 s). A revision it has already claimed is
 * its own: a retry after a timeout that left the compare-and-set unanswered claims it again.
 */
export class Claimant {
  private readonly deadline = Date.now() + WAIT_FOR_CLAIM_MS;
  private wait = 2;
  private held = -1;

  constructor(
    private readonly kv: KV,
    private readonly clustered: boolean,
    private readonly key: string,
    private readonly onLost: () => void,
  ) {}

  /**
   * Whether this write may compare-and-set the key from `revision`: true at once on a single
   * server; on a cluster, whether its claim of that revision won. A lost claim means another writer
   * has moved the key past `revision` or is about to: read it again after `pause`.
   */
  async claim(revision: number): Promise<boolean> {
    if (!this.clustered || revision === this.held) return true;
    try {
      // A claim's key is never deleted (the TTL removes it, leaving no marker): a put expecting no
      // previous message is the whole create, without the read `kv.create` adds after a conflict.
      await this.kv.put(`${this.key}.${revision}`, '', { previousSeq: 0 });
    } catch (err) {
      if (!isConflict(err)) throw err;
      this.onLost();
      return false;
    }
    this.held = revision;
    return true;
  }

  async pause(): Promise<void> {
    if (Date.now() > this.deadline)
      throw new AppError(
        'busy',
        `${this.key} was claimed by another replica that did not write it within ${WAIT_FOR_CLAIM_MS / 1000} s`,
      );
    await new Promise((r) => setTimeout(r, this.wait * (0.5 + Math.random())));
    this.wait = Math.min(this.wait * 2, 100);
  }
}
