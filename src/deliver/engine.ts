// What sends the outbox: this process's dispatcher (LevelDB state: dispatcher.ts) or the cluster's
// outbox workers (JetStream state: src/state/jetstream/outbox-worker.ts). The rest of the sidecar
// configures it on every policy load and reads its health; new deliveries reach it as an Outbox.
import type { DeliverySettings } from './settings.js';
import type { ProviderSpec } from '../providers/spec.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { ProviderHealth } from './health.js';
import type { Outbox } from './outbox.js';

export interface DeliveryEngine extends Outbox {
  /** The providers and settings of the active policy; called at start and on every reload. */
  configure(
    providers: ProviderRegistry,
    specs: Readonly<Record<string, ProviderSpec>>,
    settings: DeliverySettings,
  ): void;
  /** This process's view of a provider instance: success rate, latency, last error. */
  healthOf(provider: string): ProviderHealth;
  /** Deliveries waiting, by the provider each waits for (this process's share in a cluster). */
  pendingByProvider(): Record<string, number>;
  /** Deliveries waiting, in all (the whole cluster's in cluster mode). */
  pendingCount(): Promise<number>;
  /** Resolves when nothing this process holds is pending or in flight. */
  idle(): Promise<void>;
  /** Stop starting attempts; wait (up to graceMs) for those in flight. */
  stop(graceMs: number): Promise<void>;
}
