// The generic webhook provider: one signed JSON POST per incident change to a chat or e-mail gateway
// (SPEC §3). Any 2xx is delivered; statuses and transport failures map like the vendors' (see http.ts).
import { systemClock, type Clock } from '../../domain/clock.js';
import {
  asProviderError,
  header,
  HttpClient,
  httpFailure,
  jsonField,
  parseRetryAfterMs,
  type HttpAnswer,
  type HttpClientOptions,
} from '../http.js';
import type { Provider, ProviderRequest, ProviderResponse, Target } from '../provider.js';
import type { WebhookConfig } from './config.js';
import { buildWebhookBody, SIGNATURE_HEADER, signatureOf } from './payload.js';

export interface WebhookProviderOptions {
  clock?: Clock;
  http?: HttpClientOptions;
}

/** Local answer to an action the v1 body cannot carry (notes): nothing was sent. */
const NOTHING_SENT: ProviderResponse = { status: 204, ref: null };

export class WebhookProvider implements Provider {
  readonly type = 'webhook';
  private readonly http: HttpClient;
  private readonly clock: Clock;

  constructor(
    readonly name: string,
    private readonly config: WebhookConfig,
    options: WebhookProviderOptions = {},
  ) {
    this.http = new HttpClient(name, options.http);
    this.clock = options.clock ?? systemClock;
  }

  target(team: string): Target {
    return this.config.target(team);
  }

  async send(request: ProviderRequest, signal: AbortSignal): Promise<ProviderResponse> {
    try {
      // webhook-incident.schema.json v1 has no `note` action: receivers would reject it.
      if (request.action === 'note') return NOTHING_SENT;
      const sentAt = new Date(this.clock.now()).toISOString();
      const raw = JSON.stringify(
        buildWebhookBody(request.action, request.incident, request.incidentUrl, sentAt),
      );
      const answer = await this.http.postJson(request.target.url, raw, this.headers(raw), signal);
      return this.interpret(answer);
    } catch (err) {
      throw asProviderError(this.name, err);
    }
  }

  close(): Promise<void> {
    return this.http.close();
  }

  /** Configured headers first; content type and signature are ours and cannot be overridden. */
  private headers(raw: string): Record<string, string> {
    const secret = this.config.secret;
    return {
      ...lowerCased(this.config.headers),
      'content-type': 'application/json',
      ...(secret === undefined ? {} : { [SIGNATURE_HEADER]: signatureOf(secret, raw) }),
    };
  }

  private interpret(answer: HttpAnswer): ProviderResponse {
    if (answer.status >= 200 && answer.status < 300) return { status: answer.status, ref: null };
    const said = jsonField(answer.json, 'error') ?? jsonField(answer.json, 'message');
    throw httpFailure(this.name, answer, {
      vendorText: typeof said === 'string' ? said : answer.text,
      secrets: this.config.secrets,
      retryAfterMs: parseRetryAfterMs(header(answer, 'retry-after'), this.clock.now()),
    });
  }
}

/** HTTP header names are case-insensitive; lower-case them so ours replace a configured duplicate. */
function lowerCased(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}
