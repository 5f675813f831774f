// A nats-server for benchmarks: free port, own JetStream directory. `startNatsCluster` starts
// several on loopback as one JetStream cluster, the way scripts/cluster.mjs does.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';

const listening = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => resolve(s));
  });

/** `n` distinct free ports: all listeners stay open until every port is known. */
async function freePorts(n) {
  const servers = await Promise.all(Array.from({ length: n }, listening));
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function binary() {
  const bin = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find(
    existsSync,
  );
  if (!bin) throw new Error('nats-server is not installed: apt-get install -y nats-server');
  return bin;
}

/** Spawns one nats-server; resolves with the child once it says it is ready. */
function spawnServer(args) {
  const child = spawn(binary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const on = (d) => {
      out += d;
      if (out.includes('Server is ready')) resolve(child);
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    child.once('exit', (c) => reject(new Error(`nats-server exited ${c}: ${out.slice(-2000)}`)));
  });
}

/** SIGTERM, and SIGKILL after 10 s: a stuck server must not hang the benchmark's end. */
async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export async function startNatsServer() {
  const [port] = await freePorts(1);
  const dir = await mkdtemp(join(tmpdir(), 'ir-bench-nats-'));
  const child = await spawnServer(['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir]);
  return {
    url: `nats://127.0.0.1:${port}`,
    urls: `nats://127.0.0.1:${port}`,
    pids: [child.pid],
    stop: async () => {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `size` nodes with JetStream, routed to each other, resolved once JetStream answers (its meta
 * leader is elected). `url` is the first node, `urls` all of them comma-separated (NATS_URL).
 */
export async function startNatsCluster(size = 3) {
  const ports = await freePorts(2 * size);
  const nodes = Array.from({ length: size }, (_, i) => ({
    name: `n${i + 1}`,
    port: ports[i],
    route: ports[size + i],
  }));
  const dir = await mkdtemp(join(tmpdir(), 'ir-bench-nats-cluster-'));
  const started = nodes.map((n) => {
    const routes = nodes.filter((o) => o !== n).map((o) => `nats://127.0.0.1:${o.route}`);
    return spawnServer([
      ...['-a', '127.0.0.1', '-p', String(n.port), '-n', n.name, '-js', '-sd', join(dir, n.name)],
      ...['--cluster_name', 'ir-bench', '--cluster', `nats://127.0.0.1:${n.route}`],
      ...['--routes', routes.join(',')],
    ]);
  });
  const children = (await Promise.allSettled(started)).map((r) => r.value).filter(Boolean);
  const stop = async () => {
    await Promise.all(children.map(stopChild));
    await rm(dir, { recursive: true, force: true });
  };
  const urls = nodes.map((n) => `nats://127.0.0.1:${n.port}`);
  try {
    if (children.length < size) await Promise.all(started); // throws the failed node's output
    await jetStreamReady(urls[0]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: urls[0], urls: urls.join(','), pids: children.map((c) => c.pid), stop };
}

/** Until the cluster's JetStream answers an account-info request (up to 30 s). */
async function jetStreamReady(url) {
  const nc = await connect({ servers: url });
  try {
    for (const deadline = Date.now() + 30_000; ;) {
      try {
        // Created anew each time: it asks for the account info itself, and fails like it.
        const jsm = await jetstreamManager(nc, { timeout: 2_000 });
        await jsm.getAccountInfo();
        return;
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error(`the NATS cluster's JetStream is not ready: ${err.message}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    await nc.close();
  }
}
