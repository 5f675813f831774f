// Replicas announce themselves in a KV bucket with a bucket TTL (docs/architecture.md, "Cluster
// mode"): a heartbeat every 5 s; a replica silent for 15 s is gone (the server expires its key, and
// readers ignore a beat older than that: NATS 2.9 tells no watcher of an expiry). The live replica
// with the smallest name does the cluster's housekeeping (retention). Each replica follows the
// bucket with a watch: listing it with `kv.keys()` at every beat could wait forever when another
// replica wrote meanwhile (one of two replicas starting together hung there in our tests).
import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';
import { MEMBER_TTL_MS } from './buckets.js';
import { Follower } from './views.js';

export interface Member {
  replica: string;
  url: string;
  version: string;
  started_at: string;
  heartbeat_at: string;
}

const BEAT_MS = 5_000;
/** How long a start waits for the other replicas' beats before its first one. */
const REPLAY_WAIT_MS = 5_000;
const encoder = new TextEncoder();

/** Replica name → its last beat, as the member bucket says. */
class MemberView extends Follower {
  readonly members = new Map<string, Member>();

  constructor(kv: KV, logger: Logger) {
    super(kv, logger, 'members');
  }

  protected apply(e: KvWatchEntry): void {
    this.members.delete(e.key);
    if (e.operation !== 'PUT') return;
    try {
      this.members.set(e.key, e.json<Member>());
    } catch {
      this.logger.warn({ event: 'member_invalid', key: e.key }, `member ${e.key} does not parse; ignored`);
    }
  }
}

export class Membership {
  private timer: NodeJS.Timeout | null = null;
  private known: Member[] = [];
  private url = '';
  private readonly view: MemberView;

  constructor(
    private readonly kv: KV,
    private readonly self: Omit<Member, 'heartbeat_at' | 'url'>,
    private readonly logger: Logger,
    private readonly metrics: Pick<Metrics, 'clusterReplicas'>,
  ) {
    this.view = new MemberView(kv, logger);
  }

  /** Announces this replica, reachable at `url`, and keeps beating. */
  async start(url: string): Promise<void> {
    this.url = url;
    await this.view.start();
    let waited: NodeJS.Timeout | undefined;
    await Promise.race([
      this.view.ready,
      new Promise((r) => (waited = setTimeout(r, REPLAY_WAIT_MS).unref())),
    ]).finally(() => clearTimeout(waited));
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
      this.view.members.set(member.replica, member); // the watch brings it too, a moment later
      this.known = this.live();
      this.metrics.clusterReplicas.set(this.known.length);
    } catch (err) {
      this.logger.warn({ event: 'heartbeat_failed', err }, 'replica heartbeat failed; retrying');
    }
  }

  /** The replicas that beat within the TTL, by name (from the watched bucket: no round trip). */
  live(): Member[] {
    const now = Date.now();
    return [...this.view.members.values()]
      .filter((m) => now - Date.parse(m.heartbeat_at) <= MEMBER_TTL_MS)
      .sort((a, b) => (a.replica < b.replica ? -1 : 1));
  }

  /** Whether this replica leads housekeeping: the smallest live name (as of the last beat). */
  leads(): boolean {
    return (this.known[0]?.replica ?? this.self.replica) === this.self.replica;
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.view.stop();
    await this.kv.delete(this.self.replica).catch(() => undefined);
  }
}
