// The providers of the active policy. A policy reload builds new provider clients and hands them to
// the delivery engine; the old ones are closed once attempts that may still use them have finished.
import type { CompiledPolicy } from '../policy/compile.js';
import type { ProviderSpec } from '../providers/spec.js';
import type { HttpClientOptions } from '../providers/http.js';
import { createProviders, type ProviderRegistry } from '../providers/registry.js';
import type { Breakers } from './breakers.js';
import type { DeliveryEngine } from './engine.js';

/** Rewrites the policy's provider specs, e.g. to point them at the sandbox simulators. */
export type SpecRewrite = (specs: Readonly<Record<string, ProviderSpec>>) => Record<string, ProviderSpec>;

const CLOSE_AFTER_MS = 30_000;

export class ProviderRuntime {
  private registry: ProviderRegistry | null = null;
  private specs: Record<string, ProviderSpec> = {};

  constructor(
    private readonly deps: {
      engine: DeliveryEngine;
      breakers: Breakers;
      rewrite: SpecRewrite;
      /** Every provider client's HTTP settings (the outbound proxy). */
      http?: HttpClientOptions;
    },
  ) {}

  apply(policy: CompiledPolicy): void {
    const specs = this.deps.rewrite(policy.providers);
    const next = createProviders(specs, policy.teams, this.deps.http ? { http: this.deps.http } : {});
    const previous = this.registry;
    this.registry = next;
    this.specs = specs;
    this.deps.breakers.reconfigure(policy.settings.delivery.breaker);
    this.deps.engine.configure(next, specs, policy.settings.delivery);
    if (previous) setTimeout(() => void previous.close(), CLOSE_AFTER_MS).unref();
  }

  current(): ProviderRegistry {
    if (this.registry === null) throw new Error('no providers configured yet');
    return this.registry;
  }

  /** The effective specs (after the sandbox rewrite), for the health view. */
  effectiveSpecs(): Readonly<Record<string, ProviderSpec>> {
    return this.specs;
  }

  async close(): Promise<void> {
    await this.registry?.close();
    this.registry = null;
  }
}
