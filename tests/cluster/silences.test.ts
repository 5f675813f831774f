// Silences in cluster mode (docs/architecture.md, "Silences"): a silence made on one replica is in
// every replica's view (the silences bucket's watch) within a second, and its expiry too. And flap
// damping's history crosses replicas (the key bucket): the two replicas share these sidecars.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { post, waitFor } from '../helpers/app.js';
import { NatsServer } from '../helpers/nats-server.js';
import { clusterFixture, startReplica, stopReplica, type ClusterFixture, type Replica } from './support.js';

let nats: NatsServer;
let sandbox: Sandbox;
let fixture: ClusterFixture;
let replicas: Replica[] = [];

beforeAll(async () => {
  nats = await NatsServer.start();
  sandbox = await startSandbox();
  fixture = await clusterFixture(sandbox, {
    NATS_URL: nats.url,
    CLUSTER_NAME: `sil${Math.random().toString(36).slice(2, 8)}`,
    CLUSTER_REPLICAS: '1', // one nats-server: the buckets are not replicated
  });
  replicas = await Promise.all(['a', 'b'].map((name) => startReplica(fixture, name)));
});
afterAll(async () => {
  await Promise.all(replicas.map((r) => stopReplica(r)));
  await sandbox?.stop();
  await nats?.dispose();
  await fixture?.dispose();
});

const dryRun = async (url: string): Promise<boolean> => {
  const res = await post(`${url}/api/v1/policy/dry-run`, {
    alert: { title: 'connection refused', source: 'http', severity: 'high', service_name: 'cluster-sil' },
  });
  return res.body.suppressed as boolean;
};

it('a silence made on replica A applies on replica B within a second; so does its expiry', async () => {
  const [a, b] = replicas as [Replica, Replica];
  expect(await dryRun(b.url)).toBe(false);
  const made = await post(`${a.url}/api/v1/silences`, {
    matchers: [{ fact: 'service', value: 'cluster-sil' }],
    duration: '1h',
    created_by: 'alice',
    comment: 'shared by every replica',
  });
  expect(made.status).toBe(201);
  await waitFor(() => dryRun(b.url), 1_000, 20);
  const answer = await post(`${b.url}/api/v1/alerts`, {
    title: 'connection refused',
    source: 'http',
    severity: 'high',
    service_name: 'cluster-sil',
  });
  expect(answer.body).toMatchObject({ outcome: 'suppressed', suppressed_by: { silence: made.body.id } });

  const expired = await fetch(`${b.url}/api/v1/silences/${made.body.id}?by=bob`, { method: 'DELETE' });
  expect(expired.status).toBe(200);
  await waitFor(async () => !(await dryRun(a.url)), 1_000, 20);
});

it('two replicas extending one silence at once: no change answered 200 is lost', async () => {
  const [a, b] = replicas as [Replica, Replica];
  const made = await post(`${a.url}/api/v1/silences`, {
    matchers: [{ fact: 'service', value: 'cluster-sil-race' }],
    duration: '1h',
    created_by: 'alice',
    comment: 'raced',
  });
  const id = made.body.id as string;
  await waitFor(async () => (await fetch(`${b.url}/api/v1/silences/${id}`)).status === 200, 1_000, 20);
  const put = (url: string, who: string, duration: string) =>
    fetch(`${url}/api/v1/silences/${id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ duration, updated_by: who, comment: `extended by ${who}` }),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
  const answers = await Promise.all([put(a.url, 'ann', '2h'), put(b.url, 'bob', '3h')]);
  for (const answer of answers) expect([200, 409]).toContain(answer.status);
  const won = answers.filter((x) => x.status === 200).map((x) => x.body.history.at(-1).by as string);
  expect(won.length).toBeGreaterThan(0);
  // Every replica ends with one version holding every change that was answered 200.
  const final = await waitFor(
    async () => {
      const [x, y] = await Promise.all(
        [a, b].map((r) => fetch(`${r.url}/api/v1/silences/${id}`).then((res) => res.json() as Promise<any>)),
      );
      return x.version === y.version && x.version === 1 + won.length ? x : null;
    },
    2_000,
    20,
  );
  expect(
    final.history
      .map((h: { by: string }) => h.by)
      .slice(1)
      .sort(),
  ).toEqual([...won].sort());
});

it('flap damping counts re-triggers across replicas: the third re-trigger, on either, is held', async () => {
  const [a, b] = replicas as [Replica, Replica];
  // policies/flapping.yaml: source synthetic → route synthetic-checks, max_repages 2.
  const alert = (url: string, title: string) =>
    post(`${url}/api/v1/alerts`, { title, source: 'synthetic', severity: 'high', service_name: 'flap-x' });
  const outlook = async (url: string): Promise<{ this_event: string; recent_retriggers?: number }> => {
    const res = await post(`${url}/api/v1/policy/dry-run`, {
      alert: { title: 'connection refused', source: 'synthetic', severity: 'high', service_name: 'flap-x' },
    });
    return res.body.flap_damping;
  };
  const expected = ['paged', 'paged', 'paged', 'held'];
  for (const [i, want] of expected.entries()) {
    const here = i % 2 === 0 ? a : b;
    if (i > 0)
      await waitFor(
        async () => {
          const o = await outlook(here.url);
          return o.this_event === (want === 'held' ? 'held' : 'pages') && o.recent_retriggers === i;
        },
        3_000,
        20,
      );
    const fired = await alert(here.url, 'connection refused');
    expect(fired.body.outcome).toBe(want);
    expect((await alert(here.url, 'connection pool recovered')).body.outcome).toBe('resolved');
  }
});
