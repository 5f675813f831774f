// Builds the named provider instances of a policy, each with its teams' overrides and its own HTTP pool.
import type { ProviderSpec, TeamProviderOverride, TeamSpec } from './spec.js';
import type { HttpProviderOptions } from './http-provider.js';
import { OpsGenieConfig } from './opsgenie/config.js';
import { OpsGenieProvider } from './opsgenie/opsgenie.js';
import { PagerDutyConfig } from './pagerduty/config.js';
import { PagerDutyProvider } from './pagerduty/pagerduty.js';
import type { Provider } from './provider.js';
import { WebhookConfig } from './webhook/config.js';
import { WebhookProvider } from './webhook/webhook.js';

/** A provider that holds sockets until closed. */
export interface ClosableProvider extends Provider {
  close(): Promise<void>;
}

export type ProviderOptions = HttpProviderOptions;

export interface ProviderRegistry {
  /** Throws when the policy names no such provider (the policy loader has already checked references). */
  get(name: string): Provider;
  has(name: string): boolean;
  names(): string[];
  /** Destroys every provider's connection pool. */
  close(): Promise<void>;
}

/**
 * One provider instance's override per team: `teams.<team>.<provider>` (docs/policy-language.md,
 * "Teams").
 */
export function teamOverrides(
  provider: string,
  teams: Readonly<Record<string, TeamSpec>>,
): Record<string, TeamProviderOverride> {
  const out: Record<string, TeamProviderOverride> = {};
  for (const [team, spec] of Object.entries(teams)) {
    const override = spec[provider];
    if (override !== undefined) out[team] = override;
  }
  return out;
}

export function createProvider(
  name: string,
  spec: ProviderSpec,
  overrides: Readonly<Record<string, TeamProviderOverride>>,
  options: ProviderOptions = {},
): ClosableProvider {
  switch (spec.type) {
    case 'pagerduty':
      return new PagerDutyProvider(name, new PagerDutyConfig(spec, overrides), options);
    case 'opsgenie':
      return new OpsGenieProvider(name, new OpsGenieConfig(spec, overrides), options);
    case 'webhook':
      return new WebhookProvider(name, new WebhookConfig(spec, overrides), options);
  }
}

export function createProviders(
  specs: Readonly<Record<string, ProviderSpec>>,
  teams: Readonly<Record<string, TeamSpec>>,
  options: ProviderOptions = {},
): ProviderRegistry {
  const providers = new Map<string, ClosableProvider>(
    Object.entries(specs).map(([name, spec]) => [
      name,
      createProvider(name, spec, teamOverrides(name, teams), options),
    ]),
  );
  return {
    get(name) {
      const provider = providers.get(name);
      if (provider === undefined) throw new Error(`unknown provider "${name}"`);
      return provider;
    },
    has: (name) => providers.has(name),
    names: () => [...providers.keys()],
    close: () => closeProviders(providers.values()),
  };
}

/** Closes every provider, even when one fails to; reports the first failure after all are closed. */
export async function closeProviders(providers: Iterable<ClosableProvider>): Promise<void> {
  const results = await Promise.allSettled([...providers].map((p) => p.close()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw new Error('closing providers failed', { cause: failed.reason });
}
