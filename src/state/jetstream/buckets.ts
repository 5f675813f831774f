// The JetStream resources a cluster shares (docs/architecture.md, "Cluster mode"), created at start
// when missing, named after CLUSTER_NAME so several clusters can share one NATS:
//
//   KV <name>_keys       provider key → the latest incident of that fingerprint (dedup: create/CAS)
//   KV <name>_incidents  incident id → the incident record (record.ts), changed by CAS only
//   KV <name>_decisions  incident id → the decision that opened it (written once, apart from the record)
//   KV <name>_refs       a provider's own id of an incident → our incident id (webhooks)
//   KV <name>_webhooks   replay marks of webhooks that matched no incident (bucket TTL 72 h)
//   KV <name>_breakers   circuit-breaker state per provider instance
//   KV <name>_silences   silence id → the silence (src/silences/model.ts), watched by every replica
//   KV <name>_members    replica heartbeats (bucket TTL: a replica that stops beating disappears)
//   KV <name>_rates      calls per credential per minute, shared by every replica (bucket TTL 2 min)
//   KV <name>_claims     on a NATS cluster, one writer per revision of an incident, provider key or
//                        rate counter (claims.ts; TTL 30 s)
//   stream <name>_outbox work queue of deliveries to send, one durable consumer shared by all
//
// Every bucket keeps one value per key (history 1): storage is bounded by what is live plus
// retention. A bucket that exists keeps its own settings (nats.js does not change them).
import { AckPolicy, jetstreamManager, RetentionPolicy, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { connect } from '../../nats/connect.js';
import type { ClusterConfig } from '../../config/config.js';
import { NO_NATS_AUTH, type NatsAuth } from '../../config/nats-auth.js';
import { StoreError, errorMessage } from '../../errors.js';
import { CLAIM_TTL_MS } from './claims.js';

export interface Buckets {
  nc: NatsConnection;
  jsm: JetStreamManager;
  keys: KV;
  incidents: KV;
  decisions: KV;
  refs: KV;
  webhooks: KV;
  breakers: KV;
  silences: KV;
  members: KV;
  rates: KV;
  /**
   * Writers' claims (claims.ts), and whether the server is clustered: there every stream is a Raft
   * group, even with one replica, and a compare-and-set is checked before its proposal.
   */
  claims: KV;
  clustered: boolean;
  outbox: { stream: string; subject: (deliveryId: string) => string; consumer: string };
}

/** Heartbeats every few seconds; a replica silent this long is gone. */
export const MEMBER_TTL_MS = 15_000;
const WEBHOOK_TTL_MS = 72 * 3_600_000;
const RATE_TTL_MS = 120_000;
/** A delivery being sent is redelivered to another replica after this long without an ack. */
export const OUTBOX_ACK_WAIT_MS = 30_000;
/** Deliveries waiting out a nak delay keep their slot: room for a long outage's backlog. */
const OUTBOX_MAX_ACK_PENDING = 50_000;

/** Told of each failed attempt to open the buckets that will be tried again (to say so in the log). */
export type OpenRetry = (err: unknown, attempt: number, waitMs: number) => void;

/** Connects (failing clearly when no server answers) and opens every bucket and the outbox. */
export async function openBuckets(
  servers: string[],
  cluster: ClusterConfig,
  auth: NatsAuth = NO_NATS_AUTH,
  onRetry: OpenRetry = () => undefined,
): Promise<Buckets> {
  let nc: NatsConnection;
  try {
    nc = await connect(
      {
        servers,
        name: `incident-router ${cluster.replica}`,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        reconnectJitter: 250,
        pingInterval: 5_000,
        maxPingOut: 2,
      },
      auth,
    );
  } catch (err) {
    throw new StoreError(
      `STATE=jetstream: cannot reach NATS at ${servers.join(', ')} (${errorMessage(err)}); cluster mode keeps its state there and does not start without it`,
      { cause: err },
    );
  }
  // A new R3 bucket needs its stream leader elected (seconds on a fresh cluster, more while every
  // replica creates them at once): time-outs are retried for a while before giving up. A server
  // without JetStream is told apart sooner: nothing answers its JetStream API (nats.js has already
  // asked again), which on a cluster lasts only while a node that just restarted enables it.
  const deadline = Date.now() + OPEN_TIMEOUT_MS;
  let disabledSince: number | null = null;
  for (let wait = 500, attempt = 1; ; wait = Math.min(wait * 2, 5_000), attempt++) {
    try {
      return await open(nc, cluster);
    } catch (err) {
      const disabled = err instanceof Error && err.name === 'JetStreamNotEnabled';
      disabledSince = disabled ? (disabledSince ?? Date.now()) : null;
      const givenUp =
        Date.now() + wait >= deadline ||
        (disabledSince !== null && Date.now() + wait - disabledSince > NOT_ENABLED_GIVE_UP_MS);
      if (!givenUp && !nc.isClosed()) {
        onRetry(err, attempt, wait);
        await new Promise((r) => setTimeout(r, wait));
        continue;
      }
      await nc.close().catch(() => undefined);
      throw new StoreError(
        disabled
          ? `STATE=jetstream: JetStream is not enabled on the NATS server at ${servers.join(', ')} (nothing answers its JetStream API); cluster mode keeps its state there: start nats-server with -js (or a jetstream block in its configuration)`
          : `STATE=jetstream: cannot open the cluster's JetStream buckets (${errorMessage(err)}); is JetStream enabled on the server?`,
        { cause: err },
      );
    }
  }
}

const OPEN_TIMEOUT_MS = 60_000;
/** How long JetStream may stay unanswered (not enabled) before the start gives up. */
const NOT_ENABLED_GIVE_UP_MS = 5_000;

async function open(nc: NatsConnection, cluster: ClusterConfig): Promise<Buckets> {
  const kvm = new Kvm(nc);
  // A 3-node cluster with R1 buckets lost escalation tiers without claims (tests/cluster with
  // CLUSTER_REPLICAS=1): the check before the proposal is the cluster's, not the replica count's.
  const clustered = cluster.replicas > 1 || nc.info?.cluster !== undefined;
  // On a NATS cluster every read asks the stream's leader. A direct get is answered by whichever
  // server holds a copy, preferring the one we are connected to, and a copy that is catching up
  // (a node restarted after a crash) answers with an older revision or none: an incident without
  // the holds its resolve needs, which refused that resolve for good (docs/architecture.md,
  // "Cluster mode", Reads).
  const base = { replicas: cluster.replicas, history: 1, allow_direct: !clustered };
  const bucket = (suffix: string, extra: { ttl?: number } = {}): Promise<KV> =>
    kvm.create(`${cluster.name}_${suffix}`, { ...base, ...extra });
  const [keys, incidents, decisions, refs, webhooks, breakers, members, rates, claims, silences] =
    await Promise.all([
      bucket('keys'),
      bucket('incidents'),
      bucket('decisions'),
      bucket('refs'),
      bucket('webhooks', { ttl: WEBHOOK_TTL_MS }),
      bucket('breakers'),
      bucket('members', { ttl: MEMBER_TTL_MS }),
      bucket('rates', { ttl: RATE_TTL_MS }),
      bucket('claims', { ttl: CLAIM_TTL_MS }),
      bucket('silences'),
    ]);
  const jsm = await jetstreamManager(nc);
  const outbox = await openOutbox(jsm, cluster);
  return {
    nc,
    jsm,
    keys,
    incidents,
    decisions,
    refs,
    webhooks,
    breakers,
    silences,
    members,
    rates,
    claims,
    clustered,
    outbox,
  };
}

async function openOutbox(jsm: JetStreamManager, cluster: ClusterConfig): Promise<Buckets['outbox']> {
  const stream = `${cluster.name}_outbox`;
  // A private subject (like _INBOX), so no log subject such as `>` can take the outbox's messages.
  const prefix = `_IR.${cluster.name}.outbox`;
  const consumer = 'sender';
  const exists = await jsm.streams.info(stream).then(
    () => true,
    () => false,
  );
  if (!exists)
    await jsm.streams
      .add({
        name: stream,
        subjects: [`${prefix}.>`],
        retention: RetentionPolicy.Workqueue,
        num_replicas: cluster.replicas,
        duplicate_window: nanos(120_000),
      })
      .catch(async (err: unknown) => {
        // Another replica made it first.
        if (
          !(await jsm.streams.info(stream).then(
            () => true,
            () => false,
          ))
        )
          throw err;
      });
  const has = await jsm.consumers.info(stream, consumer).then(
    () => true,
    () => false,
  );
  if (!has)
    await jsm.consumers
      .add(stream, {
        durable_name: consumer,
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(OUTBOX_ACK_WAIT_MS),
        max_ack_pending: OUTBOX_MAX_ACK_PENDING,
        max_deliver: -1,
      })
      .catch(async (err: unknown) => {
        // Another replica made it first.
        if (
          !(await jsm.consumers.info(stream, consumer).then(
            () => true,
            () => false,
          ))
        )
          throw err;
      });
  return { stream, subject: (id) => `${prefix}.${id}`, consumer };
}
