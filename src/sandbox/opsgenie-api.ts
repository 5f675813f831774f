// The OpsGenie Alert API v2 endpoints the sidecar uses (opsgenie-oas paths/alert.yaml):
// POST /v2/alerts · POST /v2/alerts/{identifier}/acknowledge|unacknowledge|close|notes|responders?identifierType=id|alias|tiny
// · GET /v2/alerts/requests/{requestId} · GET /v2/alerts/{identifier}. Order of checks as a real API
// gateway does it: key, rate limit, size, JSON syntax (400), semantics (422), then 202 and async work.
import { performance } from 'node:perf_hooks';
import type { Clock } from '../domain/clock.js';
import type { SimReply, SimRequest } from './http.js';
import { uuid } from './ids.js';
import { isPlainObject, parseJson } from './json.js';
import type { IdentifierType, OpsGenieAction, OpsGenieAlert, OpsGenieAlerts } from './opsgenie-alerts.js';
import * as reply from './opsgenie-replies.js';
import type { RequestStatuses } from './opsgenie-requests.js';
import { checkAction, checkCreate } from './opsgenie-validate.js';
import type { OpsGenieNotifier } from './opsgenie-webhook.js';
import { renderAlert } from './opsgenie-render.js';
import type { RateLimiter } from './rate-limit.js';
import { decodeSegment } from './routes.js';

export interface OpsGenieApiDeps {
  alerts: OpsGenieAlerts;
  statuses: RequestStatuses;
  notifier: OpsGenieNotifier;
  limiter: RateLimiter;
  clock: Clock;
  integrationId: string;
  integrationName: string;
  /** When set, `Authorization: GenieKey <apiKey>` must match. */
  apiKey: string | undefined;
}

const ACTION_PATH = /^\/v2\/alerts\/([^/]+)\/(acknowledge|unacknowledge|close|notes|responders)$/;
const REQUEST_PATH = /^\/v2\/alerts\/requests\/([^/]+)$/;
const ALERT_PATH = /^\/v2\/alerts\/([^/]+)$/;

const ACTIONS: Record<string, Exclude<OpsGenieAction, 'Create'>> = {
  acknowledge: 'Acknowledge',
  unacknowledge: 'UnAcknowledge',
  close: 'Close',
  notes: 'AddNote',
  responders: 'AddResponder',
};
const DONE_STATUS: Record<string, string> = {
  Acknowledge: 'Acknowledged alert',
  UnAcknowledge: 'Unacknowledged alert',
  Close: 'Closed alert',
  AddNote: 'Added note',
  AddResponder: 'Added responder',
};

type Meta = () => reply.ReplyMeta;

/** The fault-scoping name of a request: create, acknowledge, …, notes, get, request-status. */
export function opsGenieActionOf(req: SimRequest): string | undefined {
  if (req.method === 'POST' && req.path === '/v2/alerts') return 'create';
  const action = ACTION_PATH.exec(req.path);
  if (action !== null) return action[2];
  if (REQUEST_PATH.test(req.path)) return 'request-status';
  return ALERT_PATH.test(req.path) ? 'get' : undefined;
}

export class OpsGenieApi {
  constructor(private readonly deps: OpsGenieApiDeps) {}

  /** The key it accepts from now on (undefined: any); a rotated-out key is refused with 401. */
  requireApiKey(key: string | undefined): void {
    this.deps.apiKey = key;
  }

  serve(req: SimRequest): SimReply {
    const started = performance.now();
    const requestId = uuid();
    const meta: Meta = () => ({
      requestId,
      took: Math.max(0.001, Math.round(performance.now() - started) / 1000),
    });
    const key = genieKey(req);
    if (this.deps.apiKey !== undefined && key !== this.deps.apiKey) return reply.unauthorized(meta());
    if (!this.deps.limiter.admit(key ?? '')) return reply.throttled(meta());
    if (req.tooLarge) return reply.failure(meta(), 413, 'Request entity too large');
    return this.route(req, meta, requestId);
  }

  private route(req: SimRequest, meta: Meta, requestId: string): SimReply {
    if (req.method === 'POST' && req.path === '/v2/alerts') return this.create(req, meta, requestId);
    const action = ACTION_PATH.exec(req.path);
    if (req.method === 'POST' && action !== null) {
      return this.act(
        req,
        decodeSegment(action[1] ?? ''),
        ACTIONS[action[2] ?? ''] ?? 'AddNote',
        meta,
        requestId,
      );
    }
    const status = REQUEST_PATH.exec(req.path);
    if (req.method === 'GET' && status !== null)
      return this.requestStatus(decodeSegment(status[1] ?? ''), meta);
    const alert = ALERT_PATH.exec(req.path);
    if (req.method === 'GET' && alert !== null)
      return this.getAlert(req, decodeSegment(alert[1] ?? ''), meta);
    return reply.failure(meta(), 404, 'Could not find the requested resource');
  }

  private create(req: SimRequest, meta: Meta, requestId: string): SimReply {
    const body = jsonObject(req);
    if (body === null) return reply.invalidJson(meta());
    const checked = checkCreate(body);
    if (!checked.ok) return reply.unprocessable(meta(), checked.errors);
    const { alert, deduplicated } = this.deps.alerts.create(checked.value, body);
    // Status wording for a de-duplicated create is not documented [unverified].
    this.record(requestId, 'Create', true, deduplicated ? 'Alert deduplicated' : 'Created alert', alert);
    if (!deduplicated) this.notifyApi('Create', alert, checked.value.source, checked.value.user);
    return {
      ...reply.accepted(meta()),
      note: deduplicated ? `deduplicated into ${alert.id} (count ${alert.count})` : `created ${alert.id}`,
    };
  }

  private act(
    req: SimRequest,
    identifier: string,
    action: Exclude<OpsGenieAction, 'Create'>,
    meta: Meta,
    requestId: string,
  ): SimReply {
    const type = identifierType(req);
    if (type === null)
      return reply.unprocessable(meta(), {
        identifierType: 'identifierType should be one of [id, alias, tiny]',
      });
    const body = jsonObject(req);
    if (body === null) return reply.invalidJson(meta());
    const checked = checkAction(body, action === 'AddNote', action === 'AddResponder');
    if (!checked.ok) return reply.unprocessable(meta(), checked.errors);
    const alert = this.deps.alerts.find(identifier, type);
    if (alert === undefined) {
      // Async API: still 202; the failure only shows in the request status (docs/providers.md,
      // "OpsGenie request status").
      this.record(requestId, action, false, 'Alert does not exist');
      return { ...reply.accepted(meta()), note: `${action}: alert does not exist` };
    }
    const changed = this.deps.alerts.apply(alert, action, checked.value, 'api');
    this.record(requestId, action, true, DONE_STATUS[action] ?? action, alert);
    if (changed) this.notifyApi(action, alert, checked.value.source, checked.value.user);
    return {
      ...reply.accepted(meta()),
      note: changed ? `${action} ${alert.id}` : `${action} ${alert.id}: no change`,
    };
  }

  private requestStatus(requestId: string, meta: Meta): SimReply {
    const status = this.deps.statuses.get(requestId);
    // Wording of an unknown/unprocessed request [unverified].
    if (status === undefined)
      return reply.failure(meta(), 404, 'Request not found. It might not be processed, yet.');
    return reply.data(meta(), status);
  }

  private getAlert(req: SimRequest, identifier: string, meta: Meta): SimReply {
    const type = identifierType(req);
    if (type === null)
      return reply.unprocessable(meta(), {
        identifierType: 'identifierType should be one of [id, alias, tiny]',
      });
    const alert = this.deps.alerts.find(identifier, type);
    if (alert === undefined) return reply.failure(meta(), 404, 'Alert does not exist');
    return reply.data(
      meta(),
      renderAlert(alert, { id: this.deps.integrationId, name: this.deps.integrationName }),
    );
  }

  private record(
    requestId: string,
    action: string,
    success: boolean,
    status: string,
    alert?: OpsGenieAlert,
  ): void {
    this.deps.statuses.record(requestId, {
      success,
      isSuccess: success,
      action,
      processedAt: new Date(this.deps.clock.now()).toISOString(),
      integrationId: this.deps.integrationId,
      status,
      alertId: alert?.id ?? '',
      alias: alert?.alias ?? '',
    });
  }

  private notifyApi(
    action: OpsGenieAction,
    alert: OpsGenieAlert,
    source: string | undefined,
    user: string | undefined,
  ): void {
    // The notifier renders the webhook's body at once: no copy of the alert is kept.
    const notice = {
      action,
      alert,
      source: { name: source ?? '', type: 'API' },
      via: 'api' as const,
    };
    void this.deps.notifier.notify({ ...notice, username: user ?? 'System' });
  }
}

function genieKey(req: SimRequest): string | undefined {
  const match = /^GenieKey\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

/** `identifierType` query parameter: id (default), alias or tiny (parameters/alert.yaml). */
function identifierType(req: SimRequest): IdentifierType | null {
  const value = req.query.get('identifierType') ?? 'id';
  return value === 'id' || value === 'alias' || value === 'tiny' ? value : null;
}

/** The body as a JSON object; an empty body is `{}`; null for anything else. */
function jsonObject(req: SimRequest): Record<string, unknown> | null {
  if (req.body.length === 0) return {};
  const parsed = parseJson(req.body);
  return parsed.ok && isPlainObject(parsed.value) ? parsed.value : null;
}
