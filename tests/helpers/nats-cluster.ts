// A 3-node nats-server cluster with JetStream on loopback ports (cluster-mode tests): each node its
// own client port, route port and store directory; stopped afterwards. A node can be SIGKILLed and
// started again, as in production when one server dies.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { freePort, natsServerBinary } from './nats-server.js';

interface Node {
  name: string;
  port: number;
  routePort: number;
  storeDir: string;
  child: ChildProcess | null;
}

export class NatsCluster {
  private constructor(private readonly nodes: Node[]) {}

  /** Every node's client URL: what NATS_URL lists. */
  get urls(): string[] {
    return this.nodes.map((n) => `nats://127.0.0.1:${n.port}`);
  }

  get url(): string {
    return this.urls.join(',');
  }

  static async start(size = 3): Promise<NatsCluster> {
    const nodes: Node[] = [];
    for (let i = 0; i < size; i++)
      nodes.push({
        name: `n${i + 1}`,
        port: await freePort(),
        routePort: await freePort(),
        storeDir: await mkdtemp(join(tmpdir(), `ir-natsc-${i + 1}-`)),
        child: null,
      });
    const cluster = new NatsCluster(nodes);
    await Promise.all(nodes.map((_, i) => cluster.startNode(i)));
    await cluster.waitForJetStream();
    return cluster;
  }

  /** Start node `i` (again, after a kill): same ports, same store. */
  async startNode(i: number): Promise<void> {
    const node = this.nodes[i] as Node;
    const routes = this.nodes.filter((n) => n !== node).map((n) => `nats://127.0.0.1:${n.routePort}`);
    const args = [
      '-a',
      '127.0.0.1',
      '-p',
      String(node.port),
      '-n',
      node.name,
      '-js',
      '-sd',
      node.storeDir,
      '--cluster_name',
      'ir-test',
      '--cluster',
      `nats://127.0.0.1:${node.routePort}`,
      '--routes',
      routes.join(','),
    ];
    const child = spawn(natsServerBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    node.child = child;
    process.once('exit', () => child.kill('SIGKILL'));
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer): void => {
        output += d.toString();
        if (output.includes('Server is ready')) resolve();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) =>
        reject(new Error(`nats-server ${node.name} exited with ${code}:\n${output}`)),
      );
      setTimeout(
        () => reject(new Error(`nats-server ${node.name} did not start:\n${output}`)),
        20_000,
      ).unref();
    });
  }

  /** SIGKILL node `i`, as a crash. */
  async killNode(i: number): Promise<void> {
    const child = (this.nodes[i] as Node).child;
    (this.nodes[i] as Node).child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Until the cluster's JetStream meta leader is elected and answers (a few seconds after start). */
  async waitForJetStream(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const nc = await connect({ servers: this.urls });
    try {
      for (;;) {
        try {
          const jsm = await jetstreamManager(nc);
          await jsm.getAccountInfo();
          return;
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    } finally {
      await nc.close();
    }
  }

  async dispose(): Promise<void> {
    await Promise.all(this.nodes.map((_, i) => this.killNode(i)));
    await Promise.all(this.nodes.map((n) => rm(n.storeDir, { recursive: true, force: true })));
  }
}
