// Webhook telemetry as named events: each is one log line and one count of
// incident_router_webhooks_total{provider, result}. `provider` is the endpoint's provider type.
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { WebhookProvider } from './inbound.js';

export type WebhookResult =
  | 'applied' // the incident's state changed
  | 'unchanged' // already in that state (a provider confirming what we know)
  | 'noted' // a timeline entry only
  | 'observed' // nothing to change (a trigger we sent, our own sync coming back); refs learned
  | 'refused' // an illegal transition, recorded on the timeline
  | 'stale' // older than the newest event applied from that provider, recorded on the timeline
  | 'replay' // a delivery already processed
  | 'ignored' // a ping or an event type we do not map
  | 'unmatched' // no incident of ours
  | 'unauthorized'
  | 'invalid'
  | 'too_large'
  | 'not_found' // an unknown provider instance in the path
  | 'error';

/** What the log must say so a human fixes a refusal before the provider gives up. */
const FIX: Readonly<Record<WebhookProvider, string>> = {
  pagerduty:
    "PagerDuty drops a refused delivery without retrying and disables the subscription for 24 h after 3 in a row: make PAGERDUTY_WEBHOOK_SECRET the webhook subscription's signing secret",
  opsgenie:
    "set the OpsGenie webhook integration's custom header X-Webhook-Token to the value of OPSGENIE_WEBHOOK_TOKEN",
};

export class WebhookTelemetry {
  constructor(
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  /** 401: missing, malformed or wrong credentials, or none configured. Never logs the secret. */
  unauthorized(provider: WebhookProvider, endpoint: string, why: string): void {
    this.count(provider, 'unauthorized');
    this.logger.warn(
      { event: 'webhook_unauthorized', provider, endpoint, reason: why },
      `refused a ${provider} webhook on POST ${endpoint} with 401: ${why}; ${FIX[provider]}`,
    );
  }

  rejected(provider: WebhookProvider, endpoint: string, result: WebhookResult, why: string): void {
    this.count(provider, result);
    this.logger.warn(
      { event: 'webhook_rejected', provider, endpoint, result, reason: why },
      `refused a ${provider} webhook on POST ${endpoint}: ${why}`,
    );
  }

  handled(
    provider: WebhookProvider,
    result: WebhookResult,
    fields: Record<string, unknown>,
    message: string,
  ): void {
    this.count(provider, result);
    const line = { event: 'webhook_handled', provider, result, ...fields };
    if (result === 'applied' || result === 'refused' || result === 'stale' || result === 'unmatched')
      this.logger.info(line, message);
    else this.logger.debug(line, message);
  }

  failed(provider: WebhookProvider, endpoint: string, err: unknown): void {
    this.count(provider, 'error');
    this.logger.error(
      { event: 'webhook_failed', provider, endpoint, err },
      `a ${provider} webhook on POST ${endpoint} failed; answered 500 so that the provider retries it`,
    );
  }

  private count(provider: WebhookProvider, result: WebhookResult): void {
    this.metrics.webhooks.inc({ provider, result });
  }
}
