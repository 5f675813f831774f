// The sidecar killed with SIGKILL while deliveries are pending (issue 3), and in the middle of a
// burst of new incidents whose writes share group commits (issue 13): after a restart every alert
// answered 202 exists, reaches its providers, and each fingerprint has exactly one incident at the
// simulators.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SANDBOX_OPSGENIE_API_KEY,
  SANDBOX_PAGERDUTY_ROUTING_KEY,
  startSandbox,
  type Sandbox,
} from '../../src/sandbox/index.js';
import { get, noRateLimit, post, stateEnv, waitFor } from '../helpers/app.js';
import { keysAtProviders } from '../helpers/sandbox.js';
import { exited, startServe } from '../helpers/cli.js';
import { copyShippedPolicy } from '../helpers/policy.js';

let sandbox: Sandbox;
let root: string;
/** The state backend under test, the same for the sidecar and its restart. */
let state: Record<string, string>;

beforeAll(async () => {
  sandbox = await startSandbox();
  state = await stateEnv();
  root = await mkdtemp(join(tmpdir(), 'ir-crash-'));
  await copyShippedPolicy(join(root, 'policies'));
  // Retries while both providers are down back off up to outage_backoff_max. In cluster mode a
  // restarted replica keeps the schedule (the outbox's messages come back when their delay ends,
  // docs/architecture.md "Delivery"), so with the shipped minute a loaded machine could wait that
  // long after the restart: the backoff is not what this file tests.
  const settings = join(root, 'policies', '00-settings.yaml');
  const text = await readFile(settings, 'utf8');
  const shorter = text
    .replace('outage_backoff_max: 1m', 'outage_backoff_max: 3s')
    .replace('cooldown: 30s', 'cooldown: 3s');
  if (shorter === text) throw new Error('00-settings.yaml no longer has the backoff this test shortens');
  await writeFile(settings, shorter);
});
afterAll(async () => {
  await sandbox.stop();
  await rm(root, { recursive: true, force: true });
});

function env(): Record<string, string> {
  return {
    PORT: '0',
    POLICY_DIR: join(root, 'policies'),
    DATA_DIR: join(root, 'data'),
    LOG_LEVEL: 'info',
    PAGERDUTY_ROUTING_KEY: SANDBOX_PAGERDUTY_ROUTING_KEY,
    PAGERDUTY_EVENTS_URL: sandbox.urls.pagerdutyEvents,
    OPSGENIE_API_KEY: SANDBOX_OPSGENIE_API_KEY,
    OPSGENIE_API_URL: sandbox.urls.opsgenie,
    ...state,
  };
}

describe('crash recovery', () => {
  it(
    'SIGKILL with pending deliveries: after restart every alert is delivered, none twice',
    { timeout: 120_000 },
    async () => {
      await sandbox.pagerduty.down({ mode: 'refuse' });
      await sandbox.opsgenie.down({ mode: 'refuse' });
      const first = await startServe([], env());
      const accepted: { incident_id: string; fingerprint: string }[] = [];
      // 12 high alerts of uncatalogued services (failover PagerDuty → OpsGenie), 4 critical ones
      // (both providers), each sent three times.
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 16; i++) {
          const severity = i < 12 ? 'high' : 'critical';
          const { status, body } = await post(`${first.url}/api/v1/alerts`, {
            title: `Batch job ${i} failing`,
            source: 'batch',
            severity,
            service_name: `batch-${i}`,
          });
          expect(status).toBe(202);
          if (round === 0) accepted.push(body);
        }
      }
      const pending = (await get(`${first.url}/api/v1/health`)).body.deliveries_pending;
      expect(pending).toBeGreaterThanOrEqual(16);
      // Repeats are counted in memory and written back within a second: a crash sooner than that
      // can cost the count (never the incident). Past it, the counts are on disk.
      await new Promise((r) => setTimeout(r, 2_000));
      first.child.kill('SIGKILL');
      await exited(first.child);

      await sandbox.pagerduty.up();
      await sandbox.opsgenie.up();
      const second = await startServe([], env());
      try {
        expect(second.output()).toMatch(/resuming \d+ pending deliveries/);
        await waitFor(
          async () => (await get(`${second.url}/api/v1/health`)).body.deliveries_pending === 0,
          60_000,
          200,
        );
        const { pagerduty: pdKeys, opsgenie: ogKeys } = keysAtProviders(sandbox);
        expect(new Set(pdKeys).size).toBe(pdKeys.length);
        expect(new Set(ogKeys).size).toBe(ogKeys.length);
        for (const a of accepted) {
          const incident = (await get(`${second.url}/api/v1/incidents/${a.incident_id}`)).body;
          expect(incident.occurrences).toBe(3);
          const holders = Object.values(incident.holds as Record<string, { state: string }>).filter(
            (h) => h.state === 'open',
          );
          expect(holders.length).toBeGreaterThanOrEqual(1);
          const atProviders =
            (pdKeys.includes(incident.provider_key) ? 1 : 0) +
            (ogKeys.includes(incident.provider_key) ? 1 : 0);
          expect(atProviders).toBe(incident.severity === 'critical' ? 2 : 1);
        }
        expect(pdKeys.length + ogKeys.length).toBe(12 + 4 * 2);
      } finally {
        second.child.kill('SIGTERM');
        await exited(second.child);
      }
    },
  );

  it(
    'SIGKILL in a burst of new incidents over HTTP: every one answered 202 exists after restart and is at each provider once',
    { timeout: 180_000 },
    async () => {
      // Many new incidents at once: no client-side rate limit, no storm folding (distinct services).
      const providers = join(root, 'policies', 'providers.yaml');
      await writeFile(providers, noRateLimit(await readFile(providers, 'utf8')));
      sandbox.pagerduty.reset();
      sandbox.opsgenie.reset();
      const first = await startServe([], env());
      // Answered 202: by incident id (/alerts) and by service (/events, which answers counts).
      const acceptedIds: string[] = [];
      const acceptedServices: string[] = [];
      let next = 0;
      let killed = false;
      const KILL_AFTER = 160;
      const worker = async (w: number): Promise<void> => {
        while (!killed) {
          const n = next++;
          try {
            if (w % 2 === 0) {
              const service = `burst-alert-${n}`;
              const { status, body } = await post(`${first.url}/api/v1/alerts`, {
                title: 'Database Connection Failed',
                source: 'database',
                severity: 'critical',
                service_name: service,
              });
              if (status === 202 && !killed) acceptedIds.push(body.incident_id);
            } else {
              const services = Array.from({ length: 8 }, (_, i) => `burst-events-${n}-${i}`);
              const events = services.map((service) => ({
                timestamp: new Date().toISOString(),
                service,
                level: 'error',
                source: 'database',
                message: 'connection refused to postgres',
              }));
              const { status, body } = await post(`${first.url}/api/v1/events`, events);
              if (status === 202 && !killed) {
                expect(body.outcomes.paged).toBe(8);
                acceptedServices.push(...services);
              }
            }
          } catch {
            return; // the connection died with the process
          }
          if (acceptedIds.length + acceptedServices.length >= KILL_AFTER && !killed) {
            killed = true;
            first.child.kill('SIGKILL');
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
      await exited(first.child);
      expect(acceptedIds.length + acceptedServices.length).toBeGreaterThanOrEqual(KILL_AFTER);

      const second = await startServe([], env());
      try {
        await waitFor(
          async () => (await get(`${second.url}/api/v1/health`)).body.deliveries_pending === 0,
          90_000,
          200,
        );
        const keys: string[] = [];
        for (const id of acceptedIds) {
          const { status, body } = await get(`${second.url}/api/v1/incidents/${id}`);
          expect(status, `incident ${id} answered 202 before the kill`).toBe(200);
          keys.push(body.provider_key);
        }
        for (const service of acceptedServices) {
          const { body } = await get(`${second.url}/api/v1/incidents?service=${service}`);
          expect(body.incidents, `the incident of ${service}, answered 202 before the kill`).toHaveLength(1);
          keys.push(body.incidents[0].provider_key);
        }
        // Exactly one incident per key at each provider (a delivery in flight at the kill is sent
        // again, and the provider dedups it by key: never a second incident).
        const { pagerduty: pdKeys, opsgenie: ogKeys } = keysAtProviders(sandbox);
        expect(new Set(pdKeys).size).toBe(pdKeys.length);
        expect(new Set(ogKeys).size).toBe(ogKeys.length);
        const pd = new Set(pdKeys);
        const og = new Set(ogKeys);
        for (const key of keys) {
          expect(pd.has(key), `${key} at PagerDuty`).toBe(true);
          expect(og.has(key), `${key} at OpsGenie`).toBe(true);
        }
      } finally {
        second.child.kill('SIGTERM');
        await exited(second.child);
      }
    },
  );
});
