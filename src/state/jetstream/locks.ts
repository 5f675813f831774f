// One writer at a time per incident and per provider key, across replicas (docs/architecture.md,
// "Cluster mode"). Compare-and-set on a KV revision is enough on a single nats-server; in a NATS
// cluster every stream is a Raft group (even with one replica), and nats-server 2.9 checks the
// expected revision before the Raft proposal, not when it applies, so concurrent updates with the
// same revision can all succeed (nats-server issue #4320; measured here: 41 of 100 keys took three
// "winners" on R3, and R1 buckets on a 3-node cluster lost escalation tiers). A create (expected
// revision 0) is checked when it applies and stays exclusive, so a lease is a KV create on `<key>`,
// released by deleting that message outright (no delete marker: the next create is a plain create
// again). A holder that dies leaves its lease to the bucket's TTL. Writes still compare-and-set
// under a lease, which turns a stale read into a retry.
import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { AppError } from '../../errors.js';
import { isConflict } from './conflict.js';

/** A lease left by a replica that died is free after this long (the bucket's TTL). */
export const LEASE_TTL_MS = 30_000;
const WAIT_FOR_LEASE_MS = 40_000;

export class Locks {
  constructor(
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    /** Whether the server is clustered (on a single server, compare-and-set suffices). */
    private readonly clustered: boolean,
  ) {}

  async hold<T>(key: string, work: () => Promise<T>): Promise<T> {
    if (!this.clustered) return work();
    const seq = await this.acquire(key);
    try {
      return await work();
    } finally {
      await this.jsm.streams.deleteMessage(this.stream, seq, false).catch(() => undefined);
    }
  }

  private async acquire(key: string): Promise<number> {
    const deadline = Date.now() + WAIT_FOR_LEASE_MS;
    for (let wait = 2; ; wait = Math.min(wait * 2, 100)) {
      try {
        return await this.kv.create(key, '');
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
      if (Date.now() > deadline)
        throw new AppError(
          'busy',
          `the cluster's lease on ${key} was not released within ${WAIT_FOR_LEASE_MS / 1000} s`,
        );
      await new Promise((r) => setTimeout(r, wait * (0.5 + Math.random())));
    }
  }
}
