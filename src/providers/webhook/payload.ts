// incident-router's own webhook body (schemas/webhook-incident.schema.json, version incident-router/v1)
// and its signature: `X-Incident-Router-Signature: v1=<lowercase hex HMAC-SHA256(secret, raw body)>`,
// the scheme PagerDuty uses for its V3 webhooks (docs/providers.md, "incident-router's own webhook").
import { createHmac } from 'node:crypto';
import type { Incident } from '../../domain/incident.js';
import { truncateText } from '../truncate.js';

export const WEBHOOK_VERSION = 'incident-router/v1';
export const SIGNATURE_HEADER = 'x-incident-router-signature';

/** webhook-incident.schema.json: service maxLength 128 (the log-event schema's own limit). */
const MAX_SERVICE_CHARS = 128;

export type WebhookAction = 'trigger' | 'acknowledge' | 'resolve';
export type WebhookState = 'triggered' | 'acknowledged' | 'escalated' | 'resolved';

export interface WebhookBody {
  version: typeof WEBHOOK_VERSION;
  action: WebhookAction;
  sent_at: string;
  incident: {
    id: string;
    correlation_id: string;
    fingerprint: string;
    provider_key: string;
    state: WebhookState;
    severity: Incident['severity'];
    title: string;
    service: string;
    team: string;
    occurrences: number;
    opened_at: string;
    last_seen: string;
    url: string;
  };
}

/** An escalated incident nobody has acknowledged yet shows as `escalated` (docs/providers.md). */
function state(incident: Incident): WebhookState {
  return incident.escalated && incident.state === 'triggered' ? 'escalated' : incident.state;
}

export function buildWebhookBody(
  action: WebhookAction,
  incident: Incident,
  incidentUrl: string,
  sentAt: string,
): WebhookBody {
  return {
    version: WEBHOOK_VERSION,
    action,
    sent_at: sentAt,
    incident: {
      id: incident.id,
      correlation_id: incident.correlation_id,
      fingerprint: incident.fingerprint,
      provider_key: incident.provider_key,
      state: state(incident),
      severity: incident.severity,
      title: incident.title.trim() === '' ? incident.fingerprint : incident.title,
      service: truncateText(incident.service, MAX_SERVICE_CHARS),
      team: incident.team,
      occurrences: Math.max(1, incident.occurrences),
      opened_at: incident.opened_at,
      last_seen: incident.last_seen,
      url: incidentUrl,
    },
  };
}

export function signatureOf(secret: string, rawBody: string): string {
  return `v1=${createHmac('sha256', Buffer.from(secret, 'utf8')).update(rawBody, 'utf8').digest('hex')}`;
}
