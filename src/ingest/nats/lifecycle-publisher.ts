// Lifecycle events out (SPEC §6): `incidents.<kind>` for incident changes and `alerts.recorded`
// for info-classified and suppressed alerts, so ticketing, e-mail and digests can subscribe.
// While NATS is away they are not buffered beyond the client's own reconnect buffer.
//
// Events are published in batches once per turn of the event loop: nats.js writes to its socket
// once per microtask checkpoint, so publishing each event as it happens would cost one write
// system call per alert (measured: a fifth of the sidecar's time at 30,000 events/s).
import type { LifecycleBus } from '../../incidents/lifecycle.js';
import type { NatsLink } from './connection.js';

export function publishLifecycle(bus: LifecycleBus, link: NatsLink): () => void {
  let batch: { subject: string; payload: unknown }[] = [];
  const flush = (): void => {
    const out = batch;
    batch = [];
    const nc = link.connection();
    if (nc === null || nc.isClosed()) return;
    for (const { subject, payload } of out) {
      try {
        nc.publish(subject, JSON.stringify(payload));
      } catch {
        // Publishing while draining or closed: the event is lost for subscribers, never for us.
      }
    }
  };
  const send = (subject: string, payload: unknown): void => {
    if (batch.length === 0) setImmediate(flush);
    batch.push({ subject, payload });
  };
  const unsubscribe = bus.subscribe({
    incident: (event) => send(`incidents.${event.kind}`, event),
    recorded: (alert) => send('alerts.recorded', alert),
  });
  return () => {
    unsubscribe();
    flush();
  };
}
