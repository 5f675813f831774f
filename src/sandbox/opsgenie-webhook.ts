// The OpsGenie outgoing webhook integration ("Opsgenie to Webhook" action mappings), body as documented at
// docs.opsgenie.com/docs/callbacks and /docs/marid-alert-action-data: `{source: {name, type}, alert: {…},
// action, integrationId, integrationName}`. OpsGenie signs nothing; the integration's custom headers
// carry a shared token, here `X-Webhook-Token` (docs/http-api.md, "Webhooks").
import { uuid } from './ids.js';
import type { OpsGenieAction, OpsGenieAlert } from './opsgenie-alerts.js';
import type { WebhookDelivery, WebhookSender } from './webhook-sender.js';

export interface OpsGenieWebhookTarget {
  url: string;
  token: string;
}

export interface OpsGenieNotice {
  action: OpsGenieAction;
  alert: OpsGenieAlert;
  /** `type: "API"` for API requests, `"web"` for the web UI; `name` the request's source or the user. */
  source: { name: string; type: string };
  /** The actor. */
  username: string;
  via: 'api' | 'ui';
}

export interface IntegrationInfo {
  integrationId: string;
  integrationName: string;
}

export function buildAlertWebhook(notice: OpsGenieNotice, integration: IntegrationInfo): string {
  const { alert } = notice;
  const recipients = alert.responders.map((r) => r.id ?? r.name ?? r.username ?? '');
  const teams = alert.responders.filter((r) => r.type === 'team').map((r) => r.id ?? r.name ?? '');
  return JSON.stringify({
    source: notice.source,
    alert: {
      alertId: alert.id,
      alias: alert.alias,
      message: alert.message,
      tags: alert.tags,
      teams,
      recipients,
      username: notice.username,
      userId: uuid(),
      // Units per the docs' sample: createdAt in epoch ms, updatedAt in epoch ns. Nanoseconds since 1970
      // exceed 2^53, so a JSON number loses precision below ~256 ns in any double-based parser; the docs
      // send a number, so does the simulator (the value is ms × 10^6 and round-trips exactly to the ms).
      createdAt: Date.parse(alert.createdAt),
      updatedAt: Date.parse(alert.updatedAt) * 1_000_000,
      tinyId: alert.tinyId,
      entity: alert.entity ?? '',
      source: alert.source ?? '',
      ...(notice.action === 'AddNote' ? { note: alert.notes.at(-1)?.note ?? '' } : {}),
      ...(notice.action === 'AssignOwnership' ? { owner: alert.owner ?? '' } : {}),
    },
    action: notice.action,
    ...integration,
  });
}

export class OpsGenieNotifier {
  constructor(
    private target: OpsGenieWebhookTarget | null,
    private readonly forApiActions: boolean,
    private readonly sender: WebhookSender,
    private readonly integration: IntegrationInfo,
  ) {}

  configure(target: OpsGenieWebhookTarget | null): void {
    this.target = target;
  }

  /** Queues the webhook; null when none goes out (no target, or an API action while those are off). */
  notify(notice: OpsGenieNotice): Promise<WebhookDelivery> | null {
    const target = this.target;
    if (target === null || (notice.via === 'api' && !this.forApiActions)) return null;
    const body = buildAlertWebhook(notice, this.integration);
    return this.sender.send({
      id: uuid(),
      url: target.url,
      eventType: notice.action,
      // "Opsgenie Http Client" is the User-Agent third-party code reports [obs, unverified].
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Opsgenie Http Client',
        'x-webhook-token': target.token,
      },
      body,
      orderKey: notice.alert.id,
    });
  }
}
