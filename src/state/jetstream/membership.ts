// Replicas announce themselves in a KV bucket with a bucket TTL (docs/architecture.md, "Cluster
// mode"): a heartbeat every 5 s; a replica silent for 15 s is gone (the server expires its key, and
// readers ignore a beat older than that: NATS 2.9 tells no watcher of an expiry). The live replica
// with the smallest name does the cluster's housekeeping (retention).
import type { KV } from '@nats-io/kv';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';
import { MEMBER_TTL_MS } from './buckets.js';

export interface Member {
  replica: string;
  url: string;
  version: string;
  started_at: string;
  heartbeat_at: string;
}

const BEAT_MS = 5_000;
const encoder = new TextEncoder();

export class Membership {
  private timer: NodeJS.Timeout | null = null;
  private known: Member[] = [];
  private url = '';

  constructor(
    private readonly kv: KV,
    private readonly self: Omit<Member, 'heartbeat_at' | 'url'>,
    private readonly logger: Logger,
    private readonly metrics: Pick<Metrics, 'clusterReplicas'>,
  ) {}

  /** Announces this replica, reachable at `url`, and keeps beating. */
  async start(url: string): Promise<void> {
    this.url = url;
    await this.beat();
    const tick = (): void => {
      void this.beat().finally(() => {
        if (this.timer !== null) this.timer = setTimeout(tick, BEAT_MS).unref();
      });
    };
    this.timer = setTimeout(tick, BEAT_MS).unref();
  }

  private async beat(): Promise<void> {
    try {
      const member: Member = { ...this.self, url: this.url, heartbeat_at: new Date().toISOString() };
      await this.kv.put(this.self.replica, encoder.encode(JSON.stringify(member)));
      this.known = await this.live();
      this.metrics.clusterReplicas.set(this.known.length);
    } catch (err) {
      this.logger.warn({ event: 'heartbeat_failed', err }, 'replica heartbeat failed; retrying');
    }
  }

  /** The replicas that beat within the TTL, by name. */
  async live(): Promise<Member[]> {
    const members: Member[] = [];
    for await (const key of await this.kv.keys()) {
      const entry = await this.kv.get(key);
      if (entry?.operation !== 'PUT') continue;
      try {
        const m = entry.json<Member>();
        if (Date.now() - Date.parse(m.heartbeat_at) <= MEMBER_TTL_MS) members.push(m);
      } catch {
        this.logger.warn({ event: 'member_invalid', key }, `member ${key} does not parse; ignored`);
      }
    }
    return members.sort((a, b) => (a.replica < b.replica ? -1 : 1));
  }

  /** Whether this replica leads housekeeping: the smallest live name (as of the last beat). */
  leads(): boolean {
    return (this.known[0]?.replica ?? this.self.replica) === this.self.replica;
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.kv.delete(this.self.replica).catch(() => undefined);
  }
}
