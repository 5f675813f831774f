// Cluster mode's faults and bad input (issue 12): NATS unreachable at start (a clear error, a
// non-zero exit, no silent LevelDB), NATS lost while running (HTTP answers, /readyz says not ready,
// ingest answers 503 rather than accept what it cannot store), a stored record that does not parse
// (logged with its key, counted, never a crash); and, in the default mode, a second sidecar on one
// LevelDB directory refuses to start.
import { Kvm } from '@nats-io/kv';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { exposition, get, post, waitFor } from '../helpers/app.js';
import { exited, runCli, startServe } from '../helpers/cli.js';
import { freePort, NatsServer } from '../helpers/nats-server.js';
import { copyShippedPolicy } from '../helpers/policy.js';
import { natsClient } from '../ingest/support.js';

let sandbox: Sandbox;
let root: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  root = await mkdtemp(join(tmpdir(), 'ir-cfault-'));
  await copyShippedPolicy(join(root, 'policies'));
});
afterAll(async () => {
  await sandbox.stop();
  await rm(root, { recursive: true, force: true });
});

const ALERT = {
  title: 'Disk full',
  source: 'database',
  severity: 'critical',
  service_name: 'payment-service',
};

function env(extra: Record<string, string>): Record<string, string> {
  return {
    PORT: '0',
    POLICY_DIR: join(root, 'policies'),
    DATA_DIR: join(root, `d-${Math.random()}`),
    ...extra,
  };
}

describe('cluster mode - faults', () => {
  it('NATS unreachable at start: a clear error and a non-zero exit, never a silent LevelDB', async () => {
    const port = await freePort();
    const r = await runCli(
      ['serve', '--sandbox'],
      env({ STATE: 'jetstream', NATS_URL: `nats://127.0.0.1:${port}` }),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/STATE=jetstream: cannot reach NATS at nats:\/\/127\.0\.0\.1:\d+/);
    expect(r.stderr).toContain('does not start without it');
  });

  it('a NATS server without JetStream: said so within seconds, not after a minute of retries', async () => {
    const plain = await NatsServer.start([], { jetstream: false });
    try {
      const started = Date.now();
      const r = await runCli(['serve', '--sandbox'], env({ STATE: 'jetstream', NATS_URL: plain.url }));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /STATE=jetstream: JetStream is not enabled on the NATS server at nats:\/\/127\.0\.0\.1:\d+/,
      );
      expect(r.stderr).toContain('start nats-server with -js');
      // Each attempt before it gave up was logged with what failed.
      expect(r.stdout).toContain('"event":"cluster_open_retry"');
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      await plain.dispose();
    }
  });

  it('STATE=jetstream without NATS_URL is refused at start', async () => {
    const r = await runCli(['serve', '--sandbox'], env({ STATE: 'jetstream' }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('STATE=jetstream needs NATS_URL');
  });

  it(
    'NATS lost while running: HTTP answers, /readyz says not ready, ingest answers 503; back when NATS is',
    { timeout: 90_000 },
    async () => {
      const nats = await NatsServer.start();
      const serve = await startServe(
        ['--sandbox'],
        env({ STATE: 'jetstream', NATS_URL: nats.url, CLUSTER_NAME: 'lost' }),
      );
      try {
        expect((await post(`${serve.url}/api/v1/alerts`, ALERT)).status).toBe(202);
        await nats.stop();
        await waitFor(async () => (await get(`${serve.url}/readyz`)).status === 503, 20_000, 200);
        expect((await get(`${serve.url}/livez`)).status).toBe(200);
        const refused = await post(`${serve.url}/api/v1/alerts`, { ...ALERT, service_name: 'order-service' });
        expect(refused.status).toBe(503);
        expect(refused.body.error.code).toBe('not_ready');
        await nats.restart();
        await waitFor(async () => (await get(`${serve.url}/readyz`)).status === 200, 30_000, 200);
        await waitFor(
          async () =>
            (await post(`${serve.url}/api/v1/alerts`, { ...ALERT, service_name: 'search' })).status === 202,
          30_000,
          500,
        );
        const list = (await get(`${serve.url}/api/v1/incidents`)).body.incidents as { service: string }[];
        expect(list.map((i) => i.service).sort()).toEqual(['payment-service', 'search']);
      } finally {
        serve.child.kill('SIGTERM');
        await exited(serve.child);
        await nats.dispose();
      }
    },
  );

  it(
    'a stored record that does not parse is logged with its key and counted; the sidecar goes on',
    { timeout: 60_000 },
    async () => {
      const nats = await NatsServer.start();
      const serve = await startServe(
        ['--sandbox'],
        env({ STATE: 'jetstream', NATS_URL: nats.url, CLUSTER_NAME: 'bad' }),
      );
      const nc = await natsClient(nats.url);
      try {
        const incidents = await new Kvm(nc).open('bad_incidents');
        await incidents.put('inc_000000000garbage000', 'not json at all {');
        const keys = await new Kvm(nc).open('bad_keys');
        await keys.put('ir-0000000000000000000000000000000000000000', '{"broken": ');
        expect((await get(`${serve.url}/api/v1/incidents/inc_000000000garbage000`)).status).toBe(404);
        await waitFor(
          async () => /incident_router_state_records_invalid_total 2/.test(await exposition(serve.url)),
          10_000,
        );
        expect(serve.output()).toMatch(/"key":"inc_000000000garbage000"/);
        expect(serve.output()).toMatch(/"key":"ir-0000000000000000000000000000000000000000"/);
        expect((await post(`${serve.url}/api/v1/alerts`, ALERT)).status).toBe(202);
        expect((await get(`${serve.url}/api/v1/incidents`)).body.incidents).toHaveLength(1);
      } finally {
        await nc.close();
        serve.child.kill('SIGTERM');
        await exited(serve.child);
        await nats.dispose();
      }
    },
  );
});

describe('default mode - one sidecar per LevelDB directory', () => {
  it(
    'a second sidecar on the same DATA_DIR refuses to start with a clear message',
    { timeout: 60_000 },
    async () => {
      const shared = env({});
      const first = await startServe(['--sandbox'], shared);
      try {
        const second = await runCli(['serve', '--sandbox'], shared);
        expect(second.code).toBe(1);
        expect(second.stderr).toContain(
          'is in use by another incident-router (LevelDB lock held); one sidecar per DATA_DIR',
        );
      } finally {
        first.child.kill('SIGTERM');
        await exited(first.child);
      }
    },
  );
});
