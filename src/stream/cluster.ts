// Cluster mode (docs/architecture.md, "Live stream"): a dashboard on any replica sees every
// replica's lifecycle changes. Each replica puts its own changes in its hub and publishes them on
// `_IR.<cluster>.lifecycle`, on the state's NATS connection; it feeds its hub the other replicas'
// messages and skips its own, so each change reaches each client once. Core NATS does not replay
// what a disconnected replica missed: after a reconnect every client is told to reload (`reset`).
import type { NatsConnection } from '@nats-io/transport-node';
import type { LifecycleBus, LifecycleEvent } from '../incidents/lifecycle.js';
import type { Logger } from '../telemetry/logger.js';
import type { StreamHub } from './hub.js';

interface Envelope {
  replica: string;
  event: LifecycleEvent;
}

export function lifecycleSubject(cluster: string): string {
  return `_IR.${cluster}.lifecycle`;
}

export function bridgeCluster(
  hub: Pick<StreamHub, 'incident' | 'interrupted'>,
  deps: { nc: NatsConnection; cluster: string; replica: string; lifecycle: LifecycleBus; logger: Logger },
): () => void {
  const { nc, replica, logger } = deps;
  const subject = lifecycleSubject(deps.cluster);
  const subscription = nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err) return;
      const envelope = parse(msg.string());
      if (envelope === null) {
        logger.warn(
          { event: 'stream_message_invalid', subject },
          'a lifecycle message did not parse; skipped',
        );
        return;
      }
      if (envelope.replica !== replica) hub.incident(envelope.event);
    },
  });
  const unsubscribe = deps.lifecycle.subscribe({
    incident: (event) => {
      hub.incident(event);
      if (nc.isClosed()) return;
      try {
        nc.publish(subject, JSON.stringify({ replica, event } satisfies Envelope));
      } catch {
        // Closing or draining: the other replicas' clients reload after their own reset.
      }
    },
  });
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'reconnect') hub.interrupted();
  })().catch(() => undefined);
  return () => {
    unsubscribe();
    subscription.unsubscribe();
  };
}

function parse(text: string): Envelope | null {
  try {
    const value = JSON.parse(text) as Partial<Envelope> | null;
    if (typeof value?.replica !== 'string' || typeof value.event?.incident_id !== 'string') return null;
    return value as Envelope;
  } catch {
    return null;
  }
}
