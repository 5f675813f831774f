// Inbound provider webhooks: the public surface. The HTTP side is src/api/routes/webhooks.ts.
export {
  verifyPagerDutySignature,
  webhookSecrets,
  SIGNATURE_PROBLEMS,
  type SignatureCheck,
} from './signature.js';
export { readPagerDutyWebhook } from './pagerduty.js';
export { readOpsGenieWebhook, epochMs } from './opsgenie.js';
export type { InboundEvent, ReadResult, WebhookProvider } from './inbound.js';
export { findIncident, pickInstance, type IncidentFinder, type ProviderTypes } from './match.js';
export { WebhookInbox, WEBHOOK_ID_RETENTION_MS, type InboxAnswer, type WebhookInboxDeps } from './inbox.js';
export { WebhookTelemetry, type WebhookResult } from './telemetry.js';
export { UnmatchedWebhooks, UNMATCHED_KEPT, type UnmatchedWebhook } from './unmatched.js';
