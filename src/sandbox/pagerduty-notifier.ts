// Sends the PagerDuty simulator's V3 webhooks: signed `X-PagerDuty-Signature: v1=…` (one entry per secret
// in force, comma-separated, as during a rotation), `X-Webhook-Id` fixed across retries, JSON body
// (docs/providers.md, "PagerDuty webhooks"). The User-Agent is what PagerDuty's
// deliveries are seen to send [unverified: not in the docs reached].
import type { Clock } from '../domain/clock.js';
import { uuid } from './ids.js';
import type { PagerDutyIncident } from './pagerduty-incidents.js';
import { buildWebhookBody, type PagerDutyWebhookEventType, type Reference } from './pagerduty-webhook.js';
import { signV1 } from './signature.js';
import type { WebhookDelivery, WebhookSender } from './webhook-sender.js';

export interface PagerDutyWebhookTarget {
  url: string;
  secret: string;
  /** More secrets in force at once (rotation): each adds a `v1=` entry to the signature header. */
  additionalSecrets?: string[];
}

export interface PagerDutyNotice {
  eventType: PagerDutyWebhookEventType;
  incident: PagerDutyIncident;
  agent: Reference | null;
  client: { name: string } | null;
  via: 'api' | 'ui';
}

export class PagerDutyNotifier {
  constructor(
    private target: PagerDutyWebhookTarget | null,
    private readonly forApiActions: boolean,
    private readonly sender: WebhookSender,
    private readonly clock: Clock,
    private readonly baseUrl: () => string,
  ) {}

  configure(target: PagerDutyWebhookTarget | null): void {
    this.target = target;
  }

  get configured(): PagerDutyWebhookTarget | null {
    return this.target;
  }

  /** Queues the webhook; null when none goes out (no target, or an API action while those are off). */
  notify(notice: PagerDutyNotice): Promise<WebhookDelivery> | null {
    const target = this.target;
    if (target === null || (notice.via === 'api' && !this.forApiActions)) return null;
    const body = buildWebhookBody({
      eventType: notice.eventType,
      incident: notice.incident,
      agent: notice.agent,
      client: notice.client,
      occurredAt: new Date(this.clock.now()).toISOString(),
      baseUrl: this.baseUrl(),
    });
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'PagerDuty-Webhook/V3.0',
      'x-webhook-id': uuid(),
      'x-pagerduty-signature': signV1(body, [target.secret, ...(target.additionalSecrets ?? [])]),
    };
    return this.sender.send({
      id: headers['x-webhook-id'],
      url: target.url,
      eventType: notice.eventType,
      headers,
      body,
      orderKey: notice.incident.id,
    });
  }
}
