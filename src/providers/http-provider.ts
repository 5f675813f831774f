// What the three HTTP providers share: their own connection pool, a clock (Retry-After dates), the
// team's target from their config, and the rule that an attempt throws only ProviderError. Each
// provider writes `attempt` (build, post, interpret) and nothing else of this.
import { systemClock, type Clock } from '../domain/clock.js';
import { asProviderError, HttpClient, type HttpClientOptions } from './http.js';
import type { Provider, ProviderRequest, ProviderResponse, Target } from './provider.js';

export interface HttpProviderOptions {
  clock?: Clock;
  http?: HttpClientOptions;
}

/** Local answer to an action the provider's API cannot carry (e.g. notes): nothing was sent. */
export const NOTHING_SENT: ProviderResponse = { status: 204, ref: null };

export abstract class HttpProvider<Config extends { target(team: string): Target }> implements Provider {
  abstract readonly type: Provider['type'];
  protected readonly http: HttpClient;
  protected readonly clock: Clock;

  constructor(
    readonly name: string,
    protected readonly config: Config,
    options: HttpProviderOptions = {},
  ) {
    this.http = new HttpClient(name, options.http);
    this.clock = options.clock ?? systemClock;
  }

  target(team: string): Target {
    return this.config.target(team);
  }

  async send(request: ProviderRequest, signal: AbortSignal): Promise<ProviderResponse> {
    try {
      return await this.attempt(request, signal);
    } catch (err) {
      throw asProviderError(this.name, err);
    }
  }

  close(): Promise<void> {
    return this.http.close();
  }

  /** One attempt: build the request, post it, interpret the answer. */
  protected abstract attempt(request: ProviderRequest, signal: AbortSignal): Promise<ProviderResponse>;
}
