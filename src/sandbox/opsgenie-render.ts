// An alert as `GET /v2/alerts/{identifier}` returns it: opsgenie-oas definitions/alert.yaml `Alert`
// (BaseAlert + actions, entity, description, details). The API has no "acked" status: it reports
// `status: open|closed` and a separate `acknowledged` flag.
import type { OpsGenieAlert } from './opsgenie-alerts.js';

function elapsedMs(from: string, to: string | null): number | undefined {
  return to === null ? undefined : Date.parse(to) - Date.parse(from);
}

export function renderAlert(
  alert: OpsGenieAlert,
  integration: { id: string; name: string },
): Record<string, unknown> {
  const ackTime = elapsedMs(alert.createdAt, alert.acknowledgedAt);
  const closeTime = elapsedMs(alert.createdAt, alert.closedAt);
  return {
    id: alert.id,
    tinyId: alert.tinyId,
    alias: alert.alias,
    message: alert.message,
    status: alert.status === 'closed' ? 'closed' : 'open',
    acknowledged: alert.acknowledgedAt !== null && alert.status !== 'open',
    isSeen: alert.acknowledgedAt !== null,
    tags: alert.tags,
    snoozed: false,
    count: alert.count,
    lastOccurredAt: alert.updatedAt,
    createdAt: alert.createdAt,
    updatedAt: alert.updatedAt,
    source: alert.source ?? '',
    owner: alert.owner ?? '',
    priority: alert.priority,
    responders: alert.responders,
    integration: { ...integration, type: 'API' },
    report: {
      ...(ackTime === undefined ? {} : { ackTime }),
      ...(closeTime === undefined ? {} : { closeTime }),
    },
    actions: [],
    entity: alert.entity ?? '',
    description: alert.description ?? '',
    details: alert.details,
  };
}
