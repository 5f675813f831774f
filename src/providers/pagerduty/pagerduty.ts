// PagerDuty Events API v2 (POST {url}, e.g. https://events.pagerduty.com/v2/enqueue): one attempt per
// `send`. 202 is accepted; 400 is permanent; 429, 5xx and network errors are worth retrying
// (docs/providers.md, "PagerDuty answers" and "PagerDuty rate limits").
import { header, httpFailure, jsonField, parseRetryAfterMs, type HttpAnswer } from '../http.js';
import { HttpProvider, NOTHING_SENT, type HttpProviderOptions } from '../http-provider.js';
import { ProviderError, type ProviderRequest, type ProviderResponse } from '../provider.js';
import type { PagerDutyConfig } from './config.js';
import { buildStatusChange, buildTrigger, fitEvent, type PagerDutyEvent } from './payload.js';

export type PagerDutyProviderOptions = HttpProviderOptions;

export class PagerDutyProvider extends HttpProvider<PagerDutyConfig> {
  readonly type = 'pagerduty';

  protected async attempt(request: ProviderRequest, signal: AbortSignal): Promise<ProviderResponse> {
    // Events API v2 has no notes (only the REST API does): a note is not an error, there is nothing to send.
    const { action } = request;
    if (action === 'note') return NOTHING_SENT;
    const routingKey = this.routingKey(request);
    const event = this.build(action, request, routingKey);
    const answer = await this.http.postJson(request.target.url, JSON.stringify(event), {}, signal);
    return this.interpret(answer, routingKey);
  }

  /** The caller passes the key that opened the incident; the team's key stands in when it passed none. */
  private routingKey(request: ProviderRequest): string {
    const key = request.target.routing_key ?? this.config.target(request.incident.team).routing_key;
    if (key === undefined || key === '')
      throw new ProviderError(this.name, 'auth_error', `${this.name}: no routing key configured`, {
        retryable: false,
      });
    return key;
  }

  private build(
    action: 'trigger' | 'acknowledge' | 'resolve',
    request: ProviderRequest,
    routingKey: string,
  ): PagerDutyEvent {
    const { incident } = request;
    if (action !== 'trigger') return buildStatusChange(action, incident, routingKey);
    const severity = this.config.severity(incident.severity);
    return fitEvent(buildTrigger({ incident, routingKey, severity, incidentUrl: request.incidentUrl }));
  }

  private interpret(answer: HttpAnswer, routingKey: string): ProviderResponse {
    if (answer.status >= 200 && answer.status < 300) {
      const dedupKey = jsonField(answer.json, 'dedup_key');
      return { status: answer.status, ref: typeof dedupKey === 'string' ? dedupKey : null };
    }
    throw httpFailure(this.name, answer, {
      vendorText: vendorText(answer),
      secrets: [routingKey],
      retryAfterMs: parseRetryAfterMs(header(answer, 'retry-after'), this.clock.now()),
    });
  }
}

/** The spec's `Error` component `{status, message, errors[]}`, or the raw text when the body is not that. */
function vendorText(answer: HttpAnswer): string {
  const message = jsonField(answer.json, 'message');
  const errors = jsonField(answer.json, 'errors');
  const list = Array.isArray(errors) ? errors.filter((e): e is string => typeof e === 'string') : [];
  if (typeof message !== 'string') return answer.text;
  return list.length === 0 ? message : `${message}: ${list.join('; ')}`;
}
