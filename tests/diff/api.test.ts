// POST /api/v1/policy/diff and GET /api/v1/recent-events (docs/http-api.md, "Policy diff") on a real
// sidecar, with the ring in LevelDB and in JetStream (cluster mode): what the sidecar decided is
// replayed against a candidate policy.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { SHIPPED_POLICY_DIR } from '../helpers/policy.js';
import { post, startTestApp, type TestApp } from '../helpers/app.js';
import { NatsServer } from '../helpers/nats-server.js';
import { policyDirWith, sourcesWith, WINDOW } from './fixtures.js';

const TOKEN = 'a-long-api-token-for-tests';
const AUTH = { authorization: `Bearer ${TOKEN}` };

const dbError = (timestamp: string) => ({
  timestamp,
  service: 'order-service',
  level: 'error',
  source: 'database',
  message: 'connection refused to postgres at 10.0.0.7:5432',
});
const noise = (i: number) => ({
  timestamp: '2026-11-22T03:10:00Z',
  service: 'search',
  level: 'info',
  message: `GET /api/v1/search 200 in ${i}ms`,
});

let nats: NatsServer;
beforeAll(async () => {
  nats = await NatsServer.start();
});
afterAll(async () => nats.dispose());

describe.each([
  ['leveldb', (): Record<string, string> => ({ STATE: 'leveldb' })],
  [
    'jetstream',
    (): Record<string, string> => ({ STATE: 'jetstream', NATS_URL: nats.url, CLUSTER_NAME: 'tdiff' }),
  ],
])('policy diff API (%s ring)', (_name, backend) => {
  let t: TestApp;
  beforeAll(async () => {
    // The candidates differ from the shipped policy in its maintenance window: kept here.
    t = await startTestApp(
      { API_TOKEN: TOKEN, RECENT_EVENTS_SAMPLE: '10', ...backend() },
      { maintenanceWindow: true },
    );
  });
  afterAll(async () => t.stop());

  it('replays the recorded events against a candidate and answers the report', async () => {
    const events = [
      dbError('2026-11-22T02:30:00Z'), // Sunday: suppressed in both windows
      dbError('2026-11-22T03:30:00Z'), // Sunday: suppressed by the old window only
      ...Array.from({ length: 100 }, (_, i) => noise(i)), // 1 in 10 kept
    ];
    expect((await post(`${t.url}/api/v1/events`, events, AUTH)).status).toBe(202);

    const recent = await fetch(`${t.url}/api/v1/recent-events`, { headers: AUTH });
    expect(recent.status).toBe(200);
    const lines = (await recent.text()).trim().split('\n');
    expect(lines).toHaveLength(2 + 10);

    const files = Object.fromEntries((await sourcesWith([WINDOW])).map((s) => [s.name, s.text]));
    const { status, body } = await post(`${t.url}/api/v1/policy/diff`, { files }, AUTH);
    expect(status).toBe(200);
    expect(body).toMatchObject({ events: 12, changed: 1, changes: [{ ref: 'recent:2' }] });
    expect(body.groups).toContainEqual(
      expect.objectContaining({ kind: 'suppression', from: 'db-maintenance', to: 'none', count: 1 }),
    );
  });

  it('keeps at most RECENT_EVENTS_MAX events, the newest', async () => {
    const small = await startTestApp({ RECENT_EVENTS_MAX: '5', ...backend(), CLUSTER_NAME: 'tdiffsmall' });
    try {
      const minutes = Array.from({ length: 12 }, (_, i) => `2026-11-21T10:${String(10 + i)}:00Z`);
      // Each its own service, so each opens its own incident (repeats are sampled, not all kept).
      const events = minutes.map((m, i) => ({ ...dbError(m), service: `order-service-${i}` }));
      expect((await post(`${small.url}/api/v1/events`, events)).status).toBe(202);
      const text = await (await fetch(`${small.url}/api/v1/recent-events`)).text();
      const kept = text
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { timestamp: string }).timestamp);
      expect(kept).toEqual(minutes.slice(-5));
    } finally {
      await small.stop();
    }
  });

  it('answers 422 with file:line:col for an invalid candidate, 401 without the token', async () => {
    const bad = await post(
      `${t.url}/api/v1/policy/diff`,
      { yaml: 'routes:\n  - name: x\n    deliver: 3\n' },
      AUTH,
    );
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body.error.details.errors)).toMatch(/candidate\.yaml:\d+:\d+/);
    expect((await post(`${t.url}/api/v1/policy/diff`, { yaml: '' })).status).toBe(401);
  });
});

describe('diff --recorded', () => {
  it(
    'reads a running sidecar’s ring through the API, and a stopped one’s from its data directory',
    { timeout: 90_000 },
    async () => {
      const t = await startTestApp({ API_TOKEN: TOKEN, STATE: 'leveldb' }, { maintenanceWindow: true });
      const dir = await policyDirWith(join(t.dataDir, '..', 'candidate'), [WINDOW]);
      try {
        const events = [dbError('2026-11-22T03:30:00Z'), dbError('2026-11-21T03:30:00Z')];
        expect((await post(`${t.url}/api/v1/events`, events, AUTH)).status).toBe(202);
        const running = await runCli(
          ['diff', SHIPPED_POLICY_DIR, dir, '--recorded', '--url', t.url, '--format', 'json'],
          { API_TOKEN: TOKEN },
        );
        expect(running.code).toBe(1);
        expect(JSON.parse(running.stdout)).toMatchObject({
          events: 2,
          changed: 1,
          changes: [{ ref: 'recent:1' }],
        });
        await t.app.stop(500);
        const stopped = await runCli([
          'diff',
          SHIPPED_POLICY_DIR,
          dir,
          '--recorded',
          '--data-dir',
          t.dataDir,
        ]);
        expect(stopped.code).toBe(1);
        expect(stopped.stdout).toMatch(/1 of 2 events change/);
      } finally {
        await rm(join(t.dataDir, '..'), { recursive: true, force: true });
      }
    },
  );
});
