// Silences survive a SIGKILL (docs/http-api.md, "Silences"): answered 201 means written (LevelDB
// with fsync; JetStream acknowledged by the server), so a sidecar killed right after still has it.
// So does flap damping's memory of a fingerprint's re-triggers (docs/policy-language.md).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  SANDBOX_OPSGENIE_API_KEY,
  SANDBOX_PAGERDUTY_ROUTING_KEY,
  startSandbox,
  type Sandbox,
} from '../../src/sandbox/index.js';
import { get, post, stateEnv } from '../helpers/app.js';
import { exited, startServe } from '../helpers/cli.js';
import { copyShippedPolicy } from '../helpers/policy.js';

let sandbox: Sandbox;
let root: string;
let env: Record<string, string>;

beforeAll(async () => {
  sandbox = await startSandbox();
  root = await mkdtemp(join(tmpdir(), 'ir-silence-crash-'));
  await copyShippedPolicy(join(root, 'policies'));
  env = {
    PORT: '0',
    POLICY_DIR: join(root, 'policies'),
    DATA_DIR: join(root, 'data'),
    PAGERDUTY_ROUTING_KEY: SANDBOX_PAGERDUTY_ROUTING_KEY,
    PAGERDUTY_EVENTS_URL: sandbox.urls.pagerdutyEvents,
    OPSGENIE_API_KEY: SANDBOX_OPSGENIE_API_KEY,
    OPSGENIE_API_URL: sandbox.urls.opsgenie,
    ...(await stateEnv()),
  };
});
afterAll(async () => {
  await sandbox.stop();
  await rm(root, { recursive: true, force: true });
});

const alert = { title: 'connection refused', source: 'http', severity: 'high', service_name: 'crash-sil' };

it(
  'a silence answered 201 is there after SIGKILL and a restart, and still silences; flap history too',
  { timeout: 90_000 },
  async () => {
    const first = await startServe([], env);
    // policies/flapping.yaml: source synthetic → route synthetic-checks, max_repages 2.
    const flap = (url: string, title: string) =>
      post(`${url}/api/v1/alerts`, {
        title,
        source: 'synthetic',
        severity: 'high',
        service_name: 'crash-flap',
      });
    for (let i = 0; i < 3; i++) {
      expect((await flap(first.url, 'connection refused')).body.outcome).toBe('paged');
      expect((await flap(first.url, 'connection pool recovered')).body.outcome).toBe('resolved');
    }
    const made = await post(`${first.url}/api/v1/silences`, {
      matchers: [{ fact: 'service', value: 'crash-sil' }],
      duration: '1h',
      created_by: 'alice',
      comment: 'survives a crash',
    });
    expect(made.status).toBe(201);
    first.child.kill('SIGKILL');
    await exited(first.child);

    const second = await startServe([], env);
    try {
      const found = await get(`${second.url}/api/v1/silences/${made.body.id}`);
      expect(found.status).toBe(200);
      expect(found.body).toMatchObject({ state: 'active', created_by: 'alice', comment: 'survives a crash' });
      const answer = await post(`${second.url}/api/v1/alerts`, alert);
      expect(answer.body).toMatchObject({ outcome: 'suppressed', suppressed_by: { silence: made.body.id } });
      // The third re-trigger within the window is held, the restart notwithstanding.
      expect((await flap(second.url, 'connection refused')).body.outcome).toBe('held');
    } finally {
      second.child.kill('SIGTERM');
      await exited(second.child);
    }
  },
);
