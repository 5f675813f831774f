// Start to ready (issue 13: under 250 ms with an empty store) and idle RSS (at most 80 MB), beside a
// ceiling measured in the same run: a bare Node HTTP server that answers its readiness probe, spawned
// the same way. The sidecar is the built one (`npm start`'s flags, no sandbox, providers configured
// but never called), restarted on one DATA_DIR after a first start, so the restarts find what a
// restart finds: LevelDB's files, the regex verdicts, Node's compile cache. Runs alternate the two,
// and the probe is asked every 2 ms. docs/performance.md, "Restart and footprint".
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, freePort, median, pass, rssMb, sleep, table } from './lib.mjs';

const MAIN = new URL('../dist/main.js', import.meta.url).pathname;
const BARE = `require('node:http').createServer((q, s) => { s.statusCode = q.url === '/readyz' ? 200 : 404; s.end(); }).listen(Number(process.env.PORT), '127.0.0.1');`;
const RESTARTS = 15;
const FIRST_STARTS = 3;

/** A start that takes longer has failed: the benchmark stops instead of waiting forever. */
const READY_WITHIN_MS = 60_000;

/** Spawns `args` with `env`, waits for `/readyz` to answer 200; the child, its ms to ready. */
async function ready(args, env) {
  const port = await freePort();
  const t = performance.now();
  const child = spawn(process.execPath, ['--max-semi-space-size=8', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exit = null;
  child.once('exit', (code) => (exit = code));
  for (;;) {
    if (exit !== null) throw new Error(`${args.join(' ')} exited (${exit}) before ready`);
    if (performance.now() - t > READY_WITHIN_MS) {
      child.kill('SIGKILL');
      throw new Error(`${args.join(' ')} not ready within ${READY_WITHIN_MS / 1000} s`);
    }
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => (r.body?.cancel(), r.status === 200),
      () => false,
    );
    if (ok) break;
    await sleep(2);
  }
  return { child, ms: performance.now() - t };
}

async function stop(child) {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

const sidecarEnv = (dataDir) => ({
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  DATA_DIR: dataDir,
  MALLOC_ARENA_MAX: '1',
  PAGERDUTY_ROUTING_KEY: 'bench0routing0key000000000000001',
  PAGERDUTY_EVENTS_URL: 'http://127.0.0.1:9/v2/enqueue',
  OPSGENIE_API_KEY: 'bench-opsgenie-key',
  OPSGENIE_API_URL: 'http://127.0.0.1:9',
  POLICY_DIR: new URL('../policies', import.meta.url).pathname,
});

const range = (xs) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;

export async function benchStart() {
  const root = mkdtempSync(join(tmpdir(), 'ir-bench-start-'));
  try {
    // First starts, each on a new DATA_DIR (what `npm start` meets once, and a new container).
    const first = [];
    for (let i = 0; i < FIRST_STARTS; i++) {
      const { child, ms } = await ready([MAIN, 'serve'], sidecarEnv(join(root, `first-${i}`)));
      first.push(ms);
      await stop(child);
    }
    const dataDir = join(root, 'data');
    await stop((await ready([MAIN, 'serve'], sidecarEnv(dataDir))).child);
    const sidecar = [];
    const bare = [];
    for (let i = 0; i < RESTARTS; i++) {
      const order = i % 2 === 0 ? ['bare', 'sidecar'] : ['sidecar', 'bare'];
      for (const which of order) {
        const { child, ms } =
          which === 'bare'
            ? await ready(['-e', BARE], {})
            : await ready([MAIN, 'serve'], sidecarEnv(dataDir));
        (which === 'bare' ? bare : sidecar).push(ms);
        await sleep(100);
        await stop(child);
      }
    }
    // Idle RSS: 25 s after ready, past the collection the sidecar runs once it is quiet after start
    // (docs/runtime.md, "The heap at rest").
    const idle = async (args, env) => {
      const { child } = await ready(args, env);
      await sleep(25_000);
      const mb = rssMb(child.pid);
      await stop(child);
      return mb;
    };
    const sidecarRss = await idle([MAIN, 'serve'], sidecarEnv(dataDir));
    const bareRss = await idle(['-e', BARE], {});
    const ms = median(sidecar);
    const ceiling = median(bare);
    table('Start and footprint', [
      {
        figure: `restart to ready, empty store, unchanged policy (median of ${RESTARTS}; spawn → /readyz 200)`,
        measured: `${fmt(ms)} ms (${range(sidecar)})`,
        ceiling: `${fmt(ceiling)} ms bare Node HTTP server (${range(bare)})`,
        ratio: (ms / ceiling).toFixed(2),
        target: '< 250 ms',
        met: pass(ms < 250),
      },
      {
        figure: `first start on a new DATA_DIR (median of ${FIRST_STARTS})`,
        measured: `${fmt(median(first))} ms (${range(first)})`,
        ceiling: '',
        ratio: '',
        target: 'reported',
        met: '',
      },
      {
        figure: 'idle RSS, empty store, 25 s after ready',
        measured: `${fmt(sidecarRss)} MB`,
        ceiling: `${fmt(bareRss)} MB bare Node HTTP server`,
        ratio: (sidecarRss / bareRss).toFixed(2),
        target: '≤ 80 MB',
        met: pass(sidecarRss <= 80),
      },
    ]);
    console.log(`\nNode ${process.version}; the sidecar as \`npm start\` runs it, without the sandbox.`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchStart();
