// Webhooks about incidents we do not know (another tool's incident on a shared PagerDuty service, an
// alert created by hand, an incident older than the data directory): answered 202, counted, logged,
// and the latest kept here, bounded, for the health endpoint and GET /api/v1/webhooks/unmatched.
import { BoundedLog } from '../domain/bounded-log.js';

export interface UnmatchedWebhook {
  at: string;
  provider: string;
  event_type: string;
  event_id: string;
  provider_key: string | null;
  external_id: string | null;
}

export const UNMATCHED_KEPT = 100;

export class UnmatchedWebhooks {
  private readonly recent: BoundedLog<UnmatchedWebhook>;

  constructor(limit = UNMATCHED_KEPT) {
    this.recent = new BoundedLog(limit);
  }

  add(entry: UnmatchedWebhook): void {
    this.recent.add(entry);
  }

  /** Newest first. */
  list(): UnmatchedWebhook[] {
    return [...this.recent.list()].reverse();
  }

  /** Every unmatched webhook since start, including those no longer kept. */
  get total(): number {
    return this.recent.total;
  }
}
