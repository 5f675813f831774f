// Identifiers that look like the providers' own, so logs and dashboards read naturally.
import { randomUUID } from 'node:crypto';
import { RandomPool } from '../domain/random-pool.js';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

const random = new RandomPool();

/** PagerDuty object ids are short upper-case alphanumerics (`PGR0VU2`, `Q0RIJJZL24RC6W`). */
export function pagerDutyId(prefix: string, length: number): string {
  let id = prefix;
  for (let i = 0; i < length; i++) id += ALPHANUMERIC[random.byte() % ALPHANUMERIC.length];
  return id;
}

/** OpsGenie alert ids and request ids are UUIDs (docs.opsgenie.com/docs/alert-api samples). */
export function uuid(): string {
  return randomUUID();
}
