// What the sidecar allocates per alert, by call site: V8's sampling heap profiler through the
// inspector, counting objects the collector has already freed too (garbage is what costs: a fifth of
// the CPU of a burst is collection; docs/performance.md, "Against Alertmanager"). Not a benchmark:
// a profiling tool, never part of `npm test` or `npm run bench`.
//
//   node bench/profile-alloc.mjs [new|repeats] [alerts]
//
// `new`: the allocation of `alerts` new alerts via POST /api/v1/events (64 per request, 12 in flight)
// until each reached the receiver; `repeats`: of three rounds of the same alerts again. The sidecar is
// `dist/main.js serve` (run `npm run build` first) with the side-by-side benchmark's catch-all policy
// (bench/alertmanager.mjs) and a receiver answering 202 at once. Prints bytes per alert by the
// innermost three frames.
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { THROUGHPUT_EDITS } from './app.mjs';
import { freePort } from './lib.mjs';

const [phase = 'new', count = '10000'] = process.argv.slice(2);
const N = Number(count);
const IN_FLIGHT = 12;
const BATCH = 64;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const root = await mkdtemp(join(tmpdir(), 'ir-profile-alloc-'));
await cp(new URL('../policies', import.meta.url).pathname, join(root, 'policies'), { recursive: true });
for (const [name, edit] of Object.entries(THROUGHPUT_EDITS)) {
  const file = join(root, 'policies', name);
  await writeFile(file, edit(await readFile(file, 'utf8')));
}
await writeFile(
  join(root, 'policies', 'paging.yaml'),
  'apiVersion: incident-router/v1\nroutes:\n  - name: catch-all\n    deliver: { mode: all, providers: [pagerduty] }\n',
);

let received = 0;
const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    received++;
    res.writeHead(202, { 'content-type': 'application/json' });
    res.end('{"status":"success","message":"Event processed","dedup_key":"k"}');
  });
});
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverUrl = `http://127.0.0.1:${receiver.address().port}`;

const [port, inspectPort] = [await freePort(), await freePort()];
const child = spawn(
  process.execPath,
  [
    '--max-semi-space-size=8',
    `--inspect=127.0.0.1:${inspectPort}`,
    new URL('../dist/main.js', import.meta.url).pathname,
    'serve',
  ],
  {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      POLICY_DIR: join(root, 'policies'),
      DATA_DIR: join(root, 'data'),
      PAGERDUTY_ROUTING_KEY: 'R'.repeat(32),
      PAGERDUTY_EVENTS_URL: `${receiverUrl}/v2/enqueue`,
      OPSGENIE_API_KEY: 'profile-unused-opsgenie-key',
      OPSGENIE_API_URL: `${receiverUrl}/opsgenie`,
      MALLOC_ARENA_MAX: '1',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  },
);
const base = `http://127.0.0.1:${port}`;
const agent = new Agent({ connections: IN_FLIGHT });
try {
  for (;;) {
    const ready = await fetch(`${base}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    await sleep(50);
  }
  const inspector = await connectInspector(inspectPort);
  const at = new Date().toISOString();
  const events = Array.from({ length: N }, (_, i) => ({
    timestamp: at,
    level: 'critical',
    service: `svc-${i}`,
    message: `alert ${i} firing`,
  }));
  const bodies = [];
  for (let i = 0; i < N; i += BATCH) bodies.push(JSON.stringify(events.slice(i, i + BATCH)));
  const round = async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < bodies.length) {
          const body = bodies[next++];
          const res = await request(`${base}/api/v1/events`, {
            method: 'POST',
            dispatcher: agent,
            headers: { 'content-type': 'application/json' },
            body,
          });
          const text = await res.body.text();
          if (res.statusCode !== 202) throw new Error(`${res.statusCode} ${text}`);
        }
      }),
    );
  };
  const delivered = async () => {
    while (received < N) await sleep(20);
  };
  if (phase === 'repeats') {
    await round();
    await delivered();
    await sleep(2_000); // past the first write-back of counts
  }
  await inspector.call('HeapProfiler.enable');
  await inspector.call('HeapProfiler.startSampling', {
    samplingInterval: 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  const rounds = phase === 'repeats' ? 3 : 1;
  for (let r = 0; r < rounds; r++) await round();
  if (phase !== 'repeats') await delivered();
  const { profile } = await inspector.call('HeapProfiler.stopSampling');
  inspector.close();
  report(profile, rounds * N, phase === 'repeats' ? 'repeat' : 'new alert');
} finally {
  child.kill('SIGTERM');
  await agent.close();
  receiver.close();
  await new Promise((resolve) => child.once('exit', resolve));
  await rm(root, { recursive: true, force: true });
}

/** The sidecar's inspector over its WebSocket: `call(method, params)` answers with the result. */
async function connectInspector(port) {
  const [{ webSocketDebuggerUrl }] = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const socket = new globalThis.WebSocket(webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve);
    socket.addEventListener('error', reject);
  });
  const waiting = new Map();
  let id = 0;
  socket.addEventListener('message', (message) => {
    const data = JSON.parse(message.data);
    waiting.get(data.id)?.(data.result);
    waiting.delete(data.id);
  });
  return {
    call: (method, params = {}) =>
      new Promise((resolve) => {
        waiting.set(++id, resolve);
        socket.send(JSON.stringify({ id, method, params }));
      }),
    close: () => socket.close(),
  };
}

/** Bytes per unit by the innermost three frames of where they were allocated, largest first. */
function report(profile, units, unit) {
  const bySite = new Map();
  let total = 0;
  const walk = (node, stack) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const here = [...stack, `${functionName || '(anonymous)'} ${url.split('/').pop()}:${lineNumber}`];
    if (node.selfSize > 0) {
      total += node.selfSize;
      const site = here.slice(-3).reverse().join(' < ');
      bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child, here);
  };
  walk(profile.head, []);
  console.log(`${Math.round(total / units)} bytes allocated per ${unit} (${units} measured)`);
  for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 30))
    console.log(`${String(Math.round(bytes / units)).padStart(7)}  ${site}`);
}
