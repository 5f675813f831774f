#!/usr/bin/env node
// `npm run cluster`: cluster mode on this machine, as docker-compose.yml describes it for a real
// deployment. A 3-node nats-server cluster with JetStream on loopback (state buckets and streams
// with 3 replicas), three sidecars sharing it (replicas a, b, c), and one set of provider
// simulators they all deliver to, whose webhooks go to replica a. Prints the URLs; Ctrl-C stops
// everything. Needs `nats-server` on the PATH (Debian: apt-get install -y nats-server) and a build.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  SANDBOX_OPSGENIE_API_KEY,
  SANDBOX_PAGERDUTY_ROUTING_KEY,
  startSandbox,
} from '../dist/sandbox/index.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const WORK = join(ROOT, '.tmp', 'cluster-run');
const NODES = [1, 2, 3].map((i) => ({ name: `n${i}`, port: 4221 + i, routes: 6221 + i }));
const REPLICAS = [
  { name: 'a', port: 8100 },
  { name: 'b', port: 8200 },
  { name: 'c', port: 8300 },
];
const PD_SECRET = 'cluster-demo-pagerduty-secret';
const OG_TOKEN = 'cluster-demo-opsgenie-token';
const children = [];

function natsServer() {
  for (const c of ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'])
    if (existsSync(c)) return c;
  const which = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' });
  if (which.status === 0) return which.stdout.trim();
  throw new Error('nats-server is not installed: apt-get install -y nats-server');
}

/** Start a child, resolve when its output says `ready`, keep it to stop on exit. */
function start(name, command, args, env, ready) {
  return new Promise((resolveStart, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push({ name, child });
    let output = '';
    const onData = (d) => {
      output += d.toString();
      if (ready.test(output)) resolveStart(child);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${output.slice(-2000)}`)));
  });
}

async function startNats() {
  const binary = natsServer();
  await Promise.all(
    NODES.map(async (n) => {
      const dir = join(WORK, n.name);
      await mkdir(dir, { recursive: true });
      const routes = NODES.filter((o) => o !== n).map((o) => `nats://127.0.0.1:${o.routes}`);
      const args = ['-a', '127.0.0.1', '-p', String(n.port), '-n', n.name, '-js', '-sd', dir];
      args.push('--cluster_name', 'incident-router', '--cluster', `nats://127.0.0.1:${n.routes}`);
      args.push('--routes', routes.join(','));
      await start(`nats ${n.name}`, binary, args, {}, /Server is ready/);
    }),
  );
}

function sidecarEnv(replica, sandbox) {
  return {
    PORT: String(replica.port),
    STATE: 'jetstream',
    NATS_URL: NODES.map((n) => `nats://127.0.0.1:${n.port}`).join(','),
    CLUSTER_NAME: 'incident-router',
    CLUSTER_REPLICAS: '3',
    REPLICA_NAME: replica.name,
    DATA_DIR: join(WORK, `data-${replica.name}`),
    PAGERDUTY_ROUTING_KEY: SANDBOX_PAGERDUTY_ROUTING_KEY,
    PAGERDUTY_EVENTS_URL: sandbox.urls.pagerdutyEvents,
    OPSGENIE_API_KEY: SANDBOX_OPSGENIE_API_KEY,
    OPSGENIE_API_URL: sandbox.urls.opsgenie,
    PAGERDUTY_WEBHOOK_SECRET: PD_SECRET,
    OPSGENIE_WEBHOOK_TOKEN: OG_TOKEN,
    MALLOC_ARENA_MAX: '1',
  };
}

async function stopAll(sandbox) {
  for (const { child } of children.reverse()) if (child.exitCode === null) child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1_500));
  for (const { child } of children) if (child.exitCode === null) child.kill('SIGKILL');
  await sandbox?.stop();
}

async function main() {
  if (!existsSync(join(ROOT, 'dist', 'main.js'))) throw new Error('run `npm run build` first');
  await rm(WORK, { recursive: true, force: true });
  await startNats();
  const sandbox = await startSandbox({ ports: { pagerduty: 8001, opsgenie: 8002, webhook: 8003 } });
  process.on('SIGINT', () => void stopAll(sandbox).then(() => process.exit(0)));
  process.on('SIGTERM', () => void stopAll(sandbox).then(() => process.exit(0)));
  for (const r of REPLICAS)
    await start(
      `sidecar ${r.name}`,
      process.execPath,
      ['--max-semi-space-size=8', join(ROOT, 'dist', 'main.js'), 'serve'],
      sidecarEnv(r, sandbox),
      /listening on/,
    );
  const first = `http://127.0.0.1:${REPLICAS[0].port}`;
  sandbox.pagerduty.configureWebhook({ url: `${first}/api/v1/webhooks/pagerduty`, secret: PD_SECRET });
  sandbox.opsgenie.configureWebhook({ url: `${first}/api/v1/webhooks/opsgenie`, token: OG_TOKEN });
  console.log(`
cluster mode is up (Ctrl-C stops everything; data under ${WORK})
  NATS      ${NODES.map((n) => `nats://127.0.0.1:${n.port}`).join('  ')}
  sidecars  ${REPLICAS.map((r) => `http://127.0.0.1:${r.port}`).join('  ')}
  PagerDuty simulator ${sandbox.urls.pagerduty}/__sim   OpsGenie simulator ${sandbox.urls.opsgenie}/__sim

Try: curl -s ${first}/api/v1/alerts -H 'content-type: application/json' \\
       -d '{"title":"Database Connection Failed","source":"database","severity":"critical","service_name":"payment-service"}'
     curl -s http://127.0.0.1:${REPLICAS[2].port}/api/v1/incidents      # the same incident on replica c
     curl -s http://127.0.0.1:${REPLICAS[1].port}/api/v1/health         # live replicas, cluster-wide outbox`);
}

main().catch(async (err) => {
  console.error(`cluster: ${err.message}`);
  await stopAll(null);
  process.exit(1);
});
