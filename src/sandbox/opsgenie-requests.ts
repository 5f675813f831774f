// OpsGenie request statuses: every alert request is asynchronous (202 only means "accepted"); its outcome
// is read from `GET /v2/alerts/requests/{requestId}` (docs.opsgenie.com/docs/alert-api, whose sample
// shows both `success` and `isSuccess`; docs/providers.md, "OpsGenie request status"). Bounded so a
// long demo does not grow without limit.
import { BoundedMap } from '../domain/bounded-map.js';

export interface AlertRequestStatus {
  success: boolean;
  isSuccess: boolean;
  action: string;
  processedAt: string;
  integrationId: string;
  status: string;
  alertId: string;
  alias: string;
}

const MAX_STATUSES = 10_000;

export class RequestStatuses {
  private readonly byId = new BoundedMap<string, AlertRequestStatus>(MAX_STATUSES);

  record(requestId: string, status: AlertRequestStatus): void {
    this.byId.set(requestId, status);
  }

  get(requestId: string): AlertRequestStatus | undefined {
    const status = this.byId.get(requestId);
    return status === undefined ? undefined : { ...status };
  }

  reset(): void {
    this.byId.clear();
  }
}
