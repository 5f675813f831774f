// The generic webhook provider: one signed JSON POST per incident change to a chat or e-mail gateway
// (docs/providers.md, "incident-router's own webhook"). Any 2xx is delivered; statuses and transport
// failures map like the vendors' (see http.ts).
import { header, httpFailure, jsonField, parseRetryAfterMs, type HttpAnswer } from '../http.js';
import { HttpProvider, NOTHING_SENT, type HttpProviderOptions } from '../http-provider.js';
import type { ProviderRequest, ProviderResponse } from '../provider.js';
import type { WebhookConfig } from './config.js';
import { buildWebhookBody, SIGNATURE_HEADER, signatureOf } from './payload.js';

export type WebhookProviderOptions = HttpProviderOptions;

export class WebhookProvider extends HttpProvider<WebhookConfig> {
  readonly type = 'webhook';

  protected async attempt(request: ProviderRequest, signal: AbortSignal): Promise<ProviderResponse> {
    // webhook-incident.schema.json v1 has no `note` action: receivers would reject it.
    if (request.action === 'note') return NOTHING_SENT;
    const sentAt = new Date(this.clock.now()).toISOString();
    const raw = JSON.stringify(
      buildWebhookBody(request.action, request.incident, request.incidentUrl, sentAt),
    );
    const answer = await this.http.postJson(request.target.url, raw, this.headers(raw), signal);
    return this.interpret(answer);
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
