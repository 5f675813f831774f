// The effective settings of one webhook provider instance: the policy's spec plus the teams' overrides.
import type { TeamProviderOverride, WebhookProviderSpec } from '../spec.js';
import { headerSecrets } from '../../domain/secrets.js';
import type { Target } from '../provider.js';

export class WebhookConfig {
  constructor(
    private readonly spec: WebhookProviderSpec,
    /** This instance's override per team name. */
    private readonly overrides: Readonly<Record<string, TeamProviderOverride>>,
  ) {}

  /** The team's own endpoint when its override sets one, else the provider's. */
  target(team: string): Target {
    const own = this.overrides[team]?.url;
    return { url: own !== undefined && own !== '' ? own : this.spec.url };
  }

  get secret(): string | undefined {
    return this.spec.secret === '' ? undefined : this.spec.secret;
  }

  get headers(): Readonly<Record<string, string>> {
    return this.spec.headers ?? {};
  }

  /** Everything that must never appear in a message: the secret and credential-looking header values. */
  get secrets(): string[] {
    const values = Object.entries(this.headers).flatMap(([name, value]) => headerSecrets(name, value));
    return this.secret === undefined ? values : [this.secret, ...values];
  }
}
