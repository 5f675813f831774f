// An OpsGenie Alert API v2 endpoint on loopback that answers, keeps alerts and request statuses and posts
// outgoing webhooks the way the real service documents, plus `/__sim` controls: the alerts, human
// actions in the "web UI", webhook configuration.
import type { SimReply, SimRequest } from './http.js';
import { uuid } from './ids.js';
import {
  OpsGenieAlerts,
  type ActionOptions,
  type OpsGenieAction,
  type OpsGenieAlert,
} from './opsgenie-alerts.js';
import { OpsGenieApi, opsGenieActionOf } from './opsgenie-api.js';
import * as reply from './opsgenie-replies.js';
import { RequestStatuses, type AlertRequestStatus } from './opsgenie-requests.js';
import { OpsGenieNotifier, type OpsGenieWebhookTarget } from './opsgenie-webhook.js';
import { RateLimiter } from './rate-limit.js';
import { opsGenieControlRoutes } from './opsgenie-control.js';
import type { Route } from './routes.js';
import { Simulator, type ListenOptions } from './simulator.js';
import {
  DEFAULT_WEBHOOK_RETRY,
  WebhookSender,
  type WebhookDelivery,
  type WebhookRetryPolicy,
} from './webhook-sender.js';

export interface OpsGenieSimulatorOptions extends ListenOptions {
  /** When set, `Authorization: GenieKey <apiKey>` is required (401 otherwise); when not, any key passes. */
  apiKey?: string;
  /** Emulated limit per API key and rolling minute; off by default. */
  rateLimitPerMinute?: number;
  webhook?: OpsGenieWebhookTarget;
  /** Actions that arrive through the API also produce webhooks, as on the real service. Default true. */
  webhooksForApiActions?: boolean;
  webhookRetry?: Partial<WebhookRetryPolicy>;
  /** `integrationName` in webhooks and alerts; default "incident-router sandbox". */
  integrationName?: string;
  /** Closed alerts kept at least; past that the oldest are forgotten. Default: all. */
  keepClosed?: number;
}

export interface OpsGenieUiResult {
  alert: OpsGenieAlert;
  /** The webhook it produced, once delivered, dropped or given up; null when no webhook is configured. */
  delivery: WebhookDelivery | null;
}

/** No documented body limit; generous, but bounded. */
const MAX_BODY_BYTES = 1024 * 1024;
const UI_USER = 'sandbox-responder@example.com';

export class OpsGenieSimulator extends Simulator {
  private readonly alertBook: OpsGenieAlerts;
  private readonly statuses = new RequestStatuses();
  private readonly sender: WebhookSender;
  private readonly notifier: OpsGenieNotifier;
  private readonly limiter: RateLimiter;
  private readonly api: OpsGenieApi;

  /** The key it was started with: `reset` comes back to it. */
  private readonly startKey: string | undefined;

  private constructor(options: OpsGenieSimulatorOptions) {
    super('opsgenie', options, MAX_BODY_BYTES);
    this.startKey = options.apiKey;
    this.alertBook = new OpsGenieAlerts(this.clock, options.keepClosed);
    this.limiter = new RateLimiter(options.rateLimitPerMinute, this.clock);
    this.sender = new WebhookSender({ ...DEFAULT_WEBHOOK_RETRY, ...options.webhookRetry }, this.clock);
    const integration = {
      integrationId: uuid(),
      integrationName: options.integrationName ?? 'incident-router sandbox',
    };
    const forApi = options.webhooksForApiActions ?? true;
    this.notifier = new OpsGenieNotifier(options.webhook ?? null, forApi, this.sender, integration);
    this.api = new OpsGenieApi({
      alerts: this.alertBook,
      statuses: this.statuses,
      notifier: this.notifier,
      limiter: this.limiter,
      clock: this.clock,
      ...integration,
      apiKey: options.apiKey,
    });
  }

  static async start(options: OpsGenieSimulatorOptions = {}): Promise<OpsGenieSimulator> {
    const sim = new OpsGenieSimulator(options);
    await sim.listen(options.port ?? 0);
    return sim;
  }

  alerts(): OpsGenieAlert[] {
    return this.alertBook.list();
  }

  /** How many alerts it holds, without copying them (a benchmark polls it). */
  alertCount(): number {
    return this.alertBook.size;
  }

  /** By id, alias or tiny id. */
  alert(ref: string): OpsGenieAlert | undefined {
    try {
      return structuredClone(this.alertBook.mustFind(ref));
    } catch {
      return undefined;
    }
  }

  requestStatus(requestId: string): AlertRequestStatus | undefined {
    return this.statuses.get(requestId);
  }

  webhooks(): WebhookDelivery[] {
    return this.sender.deliveries();
  }

  webhooksIdle(): Promise<void> {
    return this.sender.idle();
  }

  configureWebhook(target: OpsGenieWebhookTarget | null): void {
    this.notifier.configure(target);
  }

  /** Accepts only `key` from now on (a rotation: the old key answers 401), or any key (undefined). */
  requireApiKey(key: string | undefined): void {
    this.api.requireApiKey(key);
  }

  acknowledge(ref: string, options: ActionOptions = {}): Promise<OpsGenieUiResult> {
    return this.act(ref, 'Acknowledge', options);
  }
  unacknowledge(ref: string, options: ActionOptions = {}): Promise<OpsGenieUiResult> {
    return this.act(ref, 'UnAcknowledge', options);
  }
  close(ref: string, options: ActionOptions = {}): Promise<OpsGenieUiResult> {
    return this.act(ref, 'Close', options);
  }
  addNote(ref: string, note: string, options: ActionOptions = {}): Promise<OpsGenieUiResult> {
    return this.act(ref, 'AddNote', { ...options, note });
  }
  escalate(ref: string, options: ActionOptions = {}): Promise<OpsGenieUiResult> {
    return this.act(ref, 'Escalate', options);
  }
  assignOwnership(ref: string, owner: string, options: ActionOptions = {}): Promise<OpsGenieUiResult> {
    return this.act(ref, 'AssignOwnership', { ...options, owner });
  }

  /** A human acting in the OpsGenie web UI: changes the alert and posts its webhook. */
  async act(
    ref: string,
    action: Exclude<OpsGenieAction, 'Create'>,
    options: ActionOptions = {},
  ): Promise<OpsGenieUiResult> {
    const user = options.user ?? UI_USER;
    const alert = this.alertBook.act(ref, action, { ...options, user });
    const source = { name: user, type: 'web' };
    const pending = this.notifier.notify({ action, alert, source, username: user, via: 'ui' });
    const snapshot = structuredClone(alert);
    return { alert: snapshot, delivery: pending === null ? null : await pending };
  }

  protected serveApi(req: SimRequest): SimReply {
    return this.api.serve(req);
  }

  protected actionOf(req: SimRequest): string | undefined {
    return opsGenieActionOf(req);
  }

  protected faultReply(status: number, retryAfterSec: number | undefined): SimReply {
    return reply.injected({ requestId: uuid(), took: 0.001 }, status, retryAfterSec);
  }

  protected resetState(): void {
    this.alertBook.reset();
    this.statuses.reset();
    this.limiter.reset();
    this.sender.reset();
    this.api.requireApiKey(this.startKey);
  }

  protected override stopState(): void {
    this.sender.stop();
  }

  protected controlRoutes(): Route[] {
    return opsGenieControlRoutes(this);
  }
}
