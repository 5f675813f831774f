// OpsGenie Alert API v2 (and JSM Operations' Opsgenie-shaped API): create, acknowledge, close, add note
// and add responder by alias, `Authorization: GenieKey <key>`. Every action answers 202 "Request will be processed"
// (asynchronous); 400/422 are permanent, 401/402/403 are credentials, 429/5xx/network are worth retrying
// (docs.opsgenie.com/docs/alert-api, /docs/response, /docs/api-rate-limiting; docs/providers.md,
// "OpsGenie Alert API v2").
import type { DeliveryAction, Incident } from '../../domain/incident.js';
import { header, httpFailure, jsonField, parseRetryAfterMs, type HttpAnswer } from '../http.js';
import { HttpProvider, type HttpProviderOptions } from '../http-provider.js';
import { ProviderError, type ProviderRequest, type ProviderResponse } from '../provider.js';
import { alertActionUrl, alertsUrl, type AlertAction, type OpsGenieConfig } from './config.js';
import {
  aliasOf,
  buildActionBody,
  buildAddResponderBodies,
  buildCreateAlert,
  buildNoteBody,
} from './payload.js';

export type OpsGenieProviderOptions = HttpProviderOptions;

const ACTION_PATH: Record<Exclude<DeliveryAction, 'trigger'>, AlertAction> = {
  acknowledge: 'acknowledge',
  resolve: 'close',
  note: 'notes',
};

/** What acknowledge/close/note say when the caller gave no text (add note requires one). */
const DEFAULT_NOTE: Record<Exclude<DeliveryAction, 'trigger'>, (incident: Incident) => string> = {
  acknowledge: (i) => `Acknowledged through incident-router (incident ${i.id})`,
  resolve: (i) => `Resolved through incident-router (incident ${i.id})`,
  note: (i) => `Note from incident-router (incident ${i.id})`,
};

/** A wrong region answers 401 to a valid key (docs/providers.md, "OpsGenie hosts and authentication"). */
const AUTH_HINT = 'wrong API key, or wrong region (EU accounts use api.eu.opsgenie.com)?';

export class OpsGenieProvider extends HttpProvider<OpsGenieConfig> {
  readonly type = 'opsgenie';

  protected async attempt(request: ProviderRequest, signal: AbortSignal): Promise<ProviderResponse> {
    const apiKey = this.apiKey(request);
    try {
      return await this.sendWith(request, apiKey, signal);
    } catch (err) {
      const current = this.replacementKey(request, apiKey, err);
      if (current === null) throw err;
      // The key the alert was opened with was refused: rotated out since. An alert is known by its
      // alias, so the key configured for its team now may act on it (docs/providers.md, "Rotating
      // an OpsGenie API key"); the hold keeps that key from here on.
      return { ...(await this.sendWith(request, current, signal)), api_key: current };
    }
  }

  /**
   * For a follow-up (acknowledge, resolve, note) refused with 401, the key configured for the
   * incident's team now, when it is another one; otherwise null.
   */
  private replacementKey(request: ProviderRequest, used: string, err: unknown): string | null {
    if (request.action === 'trigger' || !(err instanceof ProviderError) || err.status !== 401) return null;
    const current = this.config.target(request.incident.team).api_key;
    return current !== undefined && current !== '' && current !== used ? current : null;
  }

  private async sendWith(
    request: ProviderRequest,
    apiKey: string,
    signal: AbortSignal,
  ): Promise<ProviderResponse> {
    const headers = { authorization: `GenieKey ${apiKey}` };
    let response: ProviderResponse | null = null;
    // Several only when a tier adds responders; one failing fails the attempt, and the retry sends
    // them all again (a responder the alert already has is no change).
    for (const { url, body } of this.build(request)) {
      const answer = await this.http.postJson(url, JSON.stringify(body), headers, signal);
      response = this.interpret(answer, apiKey);
    }
    return response as ProviderResponse;
  }

  private apiKey(request: ProviderRequest): string {
    const key = request.target.api_key ?? this.config.target(request.incident.team).api_key;
    if (key === undefined || key === '')
      throw new ProviderError(this.name, 'auth_error', `${this.name}: no API key configured`, {
        retryable: false,
      });
    return key;
  }

  /**
   * The requests of one attempt. A later escalation tier's trigger whose alert this provider holds
   * open adds the tier's responders to it: a create with the same alias would only count a repeat
   * (docs/providers.md, "OpsGenie Alert API v2").
   */
  private build(request: ProviderRequest): { url: string; body: object }[] {
    const { action, incident, target } = request;
    const held = incident.holds[this.name];
    if (action === 'trigger' && target.responders !== undefined && held?.state === 'open') {
      const note = `Escalated by incident-router (incident ${incident.id})`;
      const url = alertActionUrl(target.url, aliasOf(incident), 'responders');
      const bodies = buildAddResponderBodies(target.responders, note);
      if (bodies.length > 0) return bodies.map((body) => ({ url, body }));
    }
    if (action === 'trigger') {
      const body = buildCreateAlert({
        incident,
        responders: target.responders ?? this.config.responders(incident.team),
        priority: this.config.priority(incident.severity),
        incidentUrl: request.incidentUrl,
        note: request.note,
      });
      return [{ url: alertsUrl(target.url), body }];
    }
    const given = request.note ?? '';
    const note = given.trim() === '' ? DEFAULT_NOTE[action](incident) : given;
    const body = action === 'note' ? buildNoteBody(note) : buildActionBody(note);
    return [{ url: alertActionUrl(target.url, aliasOf(incident), ACTION_PATH[action]), body }];
  }

  private interpret(answer: HttpAnswer, apiKey: string): ProviderResponse {
    if (answer.status >= 200 && answer.status < 300) {
      const requestId = jsonField(answer.json, 'requestId') ?? header(answer, 'x-request-id');
      return { status: answer.status, ref: typeof requestId === 'string' ? requestId : null };
    }
    throw httpFailure(this.name, answer, {
      vendorText: vendorText(answer),
      secrets: [apiKey],
      retryAfterMs: this.retryAfterMs(answer),
      ...(answer.status === 401 ? { hint: AUTH_HINT } : {}),
    });
  }

  /** `Retry-After` when sent (not documented), else the rate-limit period (responses/common.yaml). */
  private retryAfterMs(answer: HttpAnswer): number | null {
    const now = this.clock.now();
    return (
      parseRetryAfterMs(header(answer, 'retry-after'), now) ??
      parseRetryAfterMs(header(answer, 'x-ratelimit-period-in-sec'), now)
    );
  }
}

/**
 * `{message, errors?: {field: text}}` (docs/providers.md, "OpsGenie answers and errors"), or the raw
 * text when the body is not that.
 */
function vendorText(answer: HttpAnswer): string {
  const message = jsonField(answer.json, 'message');
  const errors = jsonField(answer.json, 'errors');
  if (typeof message !== 'string') return answer.text;
  if (typeof errors !== 'object' || errors === null) return message;
  const list = Object.entries(errors).map(([key, text]) => `${key}: ${String(text)}`);
  return list.length === 0 ? message : `${message} (${list.join('; ')})`;
}
