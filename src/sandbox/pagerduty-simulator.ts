// A PagerDuty Events API v2 endpoint on loopback (`POST /v2/enqueue`) that answers, keeps incidents and
// sends V3 webhooks the way the real service documents, plus `/__sim` controls: the incidents, the
// dropped events, human actions in the "web UI", webhook configuration.
import type { SimReply, SimRequest } from './http.js';
import { uuid } from './ids.js';
import { isPlainObject, parseJson } from './json.js';
import {
  PagerDutyIncidents,
  type ApplyResult,
  type DroppedEvent,
  type PagerDutyIncident,
  type PagerDutyUiAction,
} from './pagerduty-incidents.js';
import { PagerDutyNotifier, type PagerDutyWebhookTarget } from './pagerduty-notifier.js';
import * as reply from './pagerduty-replies.js';
import { checkEvent, MAX_EVENT_BYTES, type PagerDutyEvent } from './pagerduty-validate.js';
import { integrationAgent, sandboxUser, UI_EVENT_TYPES } from './pagerduty-webhook.js';
import { RateLimiter } from './rate-limit.js';
import { pagerDutyControlRoutes } from './pagerduty-control.js';
import type { Route } from './routes.js';
import { Simulator, type ListenOptions } from './simulator.js';
import {
  DEFAULT_WEBHOOK_RETRY,
  WebhookSender,
  type WebhookDelivery,
  type WebhookRetryPolicy,
} from './webhook-sender.js';

export interface PagerDutySimulatorOptions extends ListenOptions {
  /** Emulated limit per routing key and rolling minute; off by default. */
  rateLimitPerMinute?: number;
  /** Whole-request cap; default 512 000 bytes (see MAX_EVENT_BYTES). */
  maxEventBytes?: number;
  webhook?: PagerDutyWebhookTarget;
  /** Events that arrive through the API also produce webhooks, as on the real service. Default true. */
  webhooksForApiActions?: boolean;
  webhookRetry?: Partial<WebhookRetryPolicy>;
  /** Resolved incidents kept at least; past that the oldest are forgotten. Default: all. */
  keepResolved?: number;
}

export interface PagerDutyUiResult {
  incident: PagerDutyIncident;
  /** The webhook it produced, once delivered, dropped or given up; null when no webhook is configured. */
  delivery: WebhookDelivery | null;
}

export class PagerDutySimulator extends Simulator {
  private readonly book: PagerDutyIncidents;
  private readonly sender: WebhookSender;
  private readonly notifier: PagerDutyNotifier;
  private readonly limiter: RateLimiter;

  private constructor(options: PagerDutySimulatorOptions) {
    super('pagerduty', options, options.maxEventBytes ?? MAX_EVENT_BYTES);
    this.book = new PagerDutyIncidents(this.clock, options.keepResolved);
    this.limiter = new RateLimiter(options.rateLimitPerMinute, this.clock);
    this.sender = new WebhookSender({ ...DEFAULT_WEBHOOK_RETRY, ...options.webhookRetry }, this.clock);
    const forApi = options.webhooksForApiActions ?? true;
    this.notifier = new PagerDutyNotifier(
      options.webhook ?? null,
      forApi,
      this.sender,
      this.clock,
      () => this.url,
    );
  }

  static async start(options: PagerDutySimulatorOptions = {}): Promise<PagerDutySimulator> {
    const sim = new PagerDutySimulator(options);
    await sim.listen(options.port ?? 0);
    return sim;
  }

  /** The URL to configure as the provider's `url`: `<base>/v2/enqueue`. */
  get eventsUrl(): string {
    return `${this.url}/v2/enqueue`;
  }

  incidents(): PagerDutyIncident[] {
    return this.book.list();
  }

  /** How many incidents it holds, without copying them (a benchmark polls it). */
  incidentCount(): number {
    return this.book.size;
  }

  /** By id or dedup key. */
  incident(ref: string): PagerDutyIncident | undefined {
    const found = this.book.find(ref);
    return found === undefined ? undefined : structuredClone(found);
  }

  /** Acknowledge/resolve events PagerDuty would accept (202) and silently drop. */
  dropped(): DroppedEvent[] {
    return this.book.dropped();
  }

  webhooks(): WebhookDelivery[] {
    return this.sender.deliveries();
  }

  /** Resolves once every queued webhook is delivered, dropped or given up. */
  webhooksIdle(): Promise<void> {
    return this.sender.idle();
  }

  configureWebhook(target: PagerDutyWebhookTarget | null): void {
    this.notifier.configure(target);
  }

  acknowledge(ref: string): Promise<PagerDutyUiResult> {
    return this.act(ref, 'acknowledge');
  }
  unacknowledge(ref: string): Promise<PagerDutyUiResult> {
    return this.act(ref, 'unacknowledge');
  }
  resolve(ref: string): Promise<PagerDutyUiResult> {
    return this.act(ref, 'resolve');
  }
  reopen(ref: string): Promise<PagerDutyUiResult> {
    return this.act(ref, 'reopen');
  }
  escalate(ref: string): Promise<PagerDutyUiResult> {
    return this.act(ref, 'escalate');
  }
  annotate(ref: string, content: string): Promise<PagerDutyUiResult> {
    return this.act(ref, 'annotate', content);
  }

  /** A human acting in the PagerDuty web UI: changes the incident and sends its webhook. */
  async act(ref: string, action: PagerDutyUiAction, content?: string): Promise<PagerDutyUiResult> {
    const incident = this.book.act(ref, action, content);
    const client = { name: 'PagerDuty' };
    const agent = sandboxUser(this.url);
    const pending = this.notifier.notify({
      eventType: UI_EVENT_TYPES[action],
      incident,
      agent,
      client,
      via: 'ui',
    });
    const snapshot = structuredClone(incident);
    return { incident: snapshot, delivery: pending === null ? null : await pending };
  }

  protected serveApi(req: SimRequest): SimReply {
    if (req.method !== 'POST' || req.path !== '/v2/enqueue') return reply.notFound();
    if (req.tooLarge) return reply.tooLarge();
    const parsed = parseJson(req.body);
    if (!parsed.ok || !isPlainObject(parsed.value)) return reply.unrecognizedObject();
    const body = parsed.value;
    const key = typeof body['routing_key'] === 'string' ? body['routing_key'] : '';
    if (!this.limiter.admit(key)) return reply.throttled();
    const check = checkEvent(body);
    if (!check.ok) return reply.invalidEvent(check.errors);
    return this.accept(check.event, body);
  }

  private accept(event: PagerDutyEvent, body: Record<string, unknown>): SimReply {
    // Trigger Events (docs/providers.md, "PagerDuty events"): a trigger without dedup_key gets a
    // generated one, returned in the response.
    const dedupKey = event.dedupKey ?? uuid();
    const result = this.book.apply(event, dedupKey, body);
    this.notifyApi(result, event.routingKey);
    const answer = reply.accepted(dedupKey);
    return result.kind === 'dropped'
      ? { ...answer, note: `dropped: ${result.dropped.reason}` }
      : { ...answer, note: result.kind };
  }

  private notifyApi(result: ApplyResult, routingKey: string): void {
    if (result.kind !== 'opened' && result.kind !== 'acknowledged' && result.kind !== 'resolved') return;
    const eventType = result.kind === 'opened' ? 'incident.triggered' : (`incident.${result.kind}` as const);
    const agent = integrationAgent(this.url, routingKey);
    // The notifier renders the webhook's body at once: no copy of the incident is kept.
    void this.notifier.notify({
      eventType,
      incident: result.incident,
      agent,
      client: null,
      via: 'api',
    });
  }

  protected actionOf(req: SimRequest): string | undefined {
    const parsed = parseJson(req.body);
    const action = parsed.ok && isPlainObject(parsed.value) ? parsed.value['event_action'] : undefined;
    return typeof action === 'string' ? action : undefined;
  }

  protected faultReply(status: number, retryAfterSec: number | undefined): SimReply {
    return reply.injected(status, retryAfterSec);
  }

  protected resetState(): void {
    this.book.reset();
    this.limiter.reset();
    this.sender.reset();
  }

  protected override stopState(): void {
    this.sender.stop();
  }

  protected controlRoutes(): Route[] {
    return pagerDutyControlRoutes(this);
  }
}
