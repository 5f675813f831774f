// Where new deliveries go once their change is written, and where withdrawn ones are taken back:
// this process's dispatcher (LevelDB state), or nothing to do (JetStream state: the backend
// publishes each delivery to the outbox stream with the write that creates it).
import type { Delivery } from '../domain/incident.js';

export interface Outbox {
  enqueue(deliveries: readonly Delivery[]): void;
  withdraw(deliveries: readonly Delivery[]): void;
}

/** The outbox of a backend that publishes deliveries itself. */
export const PUBLISHED_BY_BACKEND: Outbox = { enqueue: () => undefined, withdraw: () => undefined };
