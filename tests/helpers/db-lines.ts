// A database's failure and recovery log lines, which the shipped policy pages and resolves by one
// fingerprint (classify.yaml, `db-connection`): the lines of the tests about incident ordering.
import { post } from './app.js';

type When = string | number;
const iso = (at: When): string => (typeof at === 'number' ? new Date(at).toISOString() : at);
const line = (at: When, level: string, message: string, service: string) => ({
  timestamp: iso(at),
  service,
  level,
  source: 'database',
  message,
});

/** A failure line at `at` (ISO text or epoch ms). */
export const dbFailure = (at: When, service = 'order-service') =>
  line(at, 'error', 'connection refused to postgres', service);

/** The recovery line that resolves `dbFailure`'s incident. */
export const dbRecovery = (at: When, service = 'order-service') =>
  line(at, 'info', 'connection pool recovered', service);

/** Posts one event to a sidecar's /api/v1/events; the outcomes it answers. */
export async function outcomesOf(url: string, event: object): Promise<Record<string, number>> {
  return (await post(`${url}/api/v1/events`, event)).body.outcomes;
}
