// Escalation timers across SIGKILL (docs/architecture.md, "Escalation timers"): a real `serve`
// process on real time with the provider simulators; tiers due while it was down fire at once
// after the restart, and every tier fires exactly once per incident, including one killed at the
// moment its tier falls due. Runs against both state backends.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SANDBOX_OPSGENIE_API_KEY,
  SANDBOX_PAGERDUTY_ROUTING_KEY,
  startSandbox,
  type Sandbox,
} from '../../src/sandbox/index.js';
import { get, post, stateEnv, waitFor } from '../helpers/app.js';
import { tiersOf } from '../helpers/escalation.js';
import { exited, startServe } from '../helpers/cli.js';
import { copyShippedPolicy } from '../helpers/policy.js';

const KEYS = [
  'K1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  'K2bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
  'K3cccccccccccccccccccccccccccccc',
];
const POLICY = `apiVersion: incident-router/v1
escalations:
  crash-test:
    tiers:
      - { after: 0m, targets: [{ pagerduty: { routing_key: ${KEYS[0]} } }], deliver: { mode: all, providers: [pagerduty] } }
      - { after: 4s, targets: [{ pagerduty: { routing_key: ${KEYS[1]} } }], deliver: { mode: all, providers: [pagerduty] } }
      - { after: 8s, targets: [{ pagerduty: { routing_key: ${KEYS[2]} } }], deliver: { mode: all, providers: [pagerduty] } }
routes:
  - name: crash-test-route
    priority: 10000
    when: { all: [{ fact: source, operator: equal, value: crash-test }] }
    deliver: { mode: all, providers: [pagerduty] }
    escalation: crash-test
`;
const INCIDENTS = 12;

let sandbox: Sandbox;
let root: string;
let state: Record<string, string>;

beforeAll(async () => {
  sandbox = await startSandbox();
  state = await stateEnv();
  root = await mkdtemp(join(tmpdir(), 'ir-esc-crash-'));
  await copyShippedPolicy(join(root, 'policies'));
  await writeFile(join(root, 'policies', 'zz-escalation.yaml'), POLICY);
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

const sleepUntil = (ms: number): Promise<void> =>
  new Promise((r) => setTimeout(r, Math.max(0, ms - Date.now())));
const pagesAt = (key: string): number =>
  sandbox.pagerduty.incidents().filter((i) => i.routingKey === key).length;

describe('escalation timers - crash recovery', () => {
  it(
    'SIGKILL with timers pending, and again at the moment a tier falls due: after each restart every due tier fires exactly once',
    { timeout: 180_000 },
    async () => {
      const first = await startServe([], env());
      const opened = Date.now();
      const ids: string[] = [];
      for (let i = 0; i < INCIDENTS; i++) {
        const { status, body } = await post(`${first.url}/api/v1/alerts`, {
          title: `Queue ${i} stuck`,
          source: 'crash-test',
          severity: 'critical',
          service_name: `esc-crash-${i}`,
        });
        expect(status).toBe(202);
        ids.push(body.incident_id);
      }
      await waitFor(async () => pagesAt(KEYS[0] as string) === INCIDENTS, 20_000, 100);
      // Killed with tier 2 pending; it falls due while the sidecar is down.
      first.child.kill('SIGKILL');
      await exited(first.child);
      await sleepUntil(opened + 5_000);

      const second = await startServe([], env());
      // Cluster mode: what the killed process held of the outbox comes back after the 30 s ack wait.
      await waitFor(async () => pagesAt(KEYS[1] as string) === INCIDENTS, 60_000, 100);
      // Killed as tier 3 falls due (some firings written, some not, some sent, some not).
      await sleepUntil(opened + 8_050);
      second.child.kill('SIGKILL');
      await exited(second.child);

      const third = await startServe([], env());
      try {
        // Cluster mode: a delivery the killed process held comes back after the outbox's 30 s ack wait.
        await waitFor(async () => pagesAt(KEYS[2] as string) >= INCIDENTS, 60_000, 100);
        await waitFor(
          async () => (await get(`${third.url}/api/v1/health`)).body.deliveries_pending === 0,
          60_000,
          200,
        );
        for (const key of KEYS) expect(pagesAt(key)).toBe(INCIDENTS);
        for (const id of ids) {
          const incident = (await get(`${third.url}/api/v1/incidents/${id}`)).body;
          const tiers = tiersOf(incident);
          expect(tiers).toEqual([1, 2, 3]);
          const triggers = incident.deliveries.filter((d: { action: string }) => d.action === 'trigger');
          expect(triggers.map((d: { tier: number }) => d.tier).sort()).toEqual([1, 2, 3]);
          expect(incident.escalation).toMatchObject({ fired_tier: 3, next: null });
        }
      } finally {
        third.child.kill('SIGTERM');
        await exited(third.child);
      }
    },
  );
});
