// A real nats-server for tests (Debian package `nats-server`): a free loopback port, its own
// JetStream directory, stopped afterwards. A missing binary is a clear error, never a skip.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function natsServerBinary(): string {
  for (const candidate of ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server']) {
    if (existsSync(candidate)) return candidate;
  }
  const which = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  throw new Error(
    'nats-server is not installed: run `apt-get install -y nats-server` (.ci/run does this on a fresh machine)',
  );
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export class NatsServer {
  private child: ChildProcess | null = null;
  private constructor(
    readonly port: number,
    readonly storeDir: string,
    private readonly args: readonly string[],
    private readonly jetstream: boolean,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /**
   * `args` are added to the command line (authentication, TLS, `-c` a configuration file);
   * `jetstream: false` starts a plain core-NATS server, as a user's first try might be.
   */
  static async start(
    args: readonly string[] = [],
    { jetstream = true }: { jetstream?: boolean } = {},
  ): Promise<NatsServer> {
    const dir = await mkdtemp(join(tmpdir(), 'ir-nats-'));
    const server = new NatsServer(await freePort(), dir, args, jetstream);
    await server.restart();
    return server;
  }

  /** Start (again) on the same port with the same JetStream directory. */
  async restart(): Promise<void> {
    if (this.child) throw new Error('nats-server is already running');
    const child = spawn(
      natsServerBinary(),
      [
        '-a',
        '127.0.0.1',
        '-p',
        String(this.port),
        ...(this.jetstream ? ['-js', '-sd', this.storeDir] : []),
        ...this.args,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer): void => {
        output += d.toString();
        if (output.includes('Server is ready')) resolve();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => reject(new Error(`nats-server exited with ${code}:\n${output}`)));
      setTimeout(() => reject(new Error(`nats-server did not start:\n${output}`)), 15_000).unref();
    });
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  /**
   * At process exit, synchronously: the server must not outlive the test worker, nor its JetStream
   * directory the run.
   */
  kill(): void {
    this.child?.kill('SIGKILL');
    rmSync(this.storeDir, { recursive: true, force: true });
  }

  async dispose(): Promise<void> {
    await this.stop();
    await rm(this.storeDir, { recursive: true, force: true });
  }
}
