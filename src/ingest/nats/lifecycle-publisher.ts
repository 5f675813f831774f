// Lifecycle events out (docs/nats.md, "Lifecycle events"): `incidents.<kind>` for incident changes and
// `alerts.recorded` for info-classified and suppressed alerts, so ticketing, e-mail and digests can
// subscribe. While NATS is away they are not buffered beyond the client's own reconnect buffer.
// Published once per event-loop turn (per-turn.ts).
import type { LifecycleBus } from '../../incidents/lifecycle.js';
import type { NatsLink } from './connection.js';
import { PerTurn } from './per-turn.js';

export function publishLifecycle(bus: LifecycleBus, link: NatsLink): () => void {
  const writes = new PerTurn();
  const send = (subject: string, payload: unknown): void =>
    writes.add(() => {
      const nc = link.connection();
      if (nc === null || nc.isClosed()) return;
      try {
        nc.publish(subject, JSON.stringify(payload));
      } catch {
        // Publishing while draining or closed: the event is lost for subscribers, never for us.
      }
    });
  const unsubscribe = bus.subscribe({
    incident: (event) => send(`incidents.${event.kind}`, event),
    recorded: (alert) => send('alerts.recorded', alert),
  });
  return () => {
    unsubscribe();
    writes.flush();
  };
}
