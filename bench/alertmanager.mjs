// Side by side with Prometheus Alertmanager (issue 13, item 8): the same alerts, one shared
// PagerDuty fake receiver answering 202 at once, 12 requests in flight, three rounds alternating
// the systems, the median of each figure. Each round runs, once per system:
//   1. 10,000 new alerts (distinct services, so distinct fingerprints and distinct Alertmanager
//      groups): end to end/s, from the first request sent to the last alert reaching the receiver;
//   2. the same 10,000 again (repeats): accepted/s (all answered 2xx);
//   3. 5,000 new alerts, SIGKILL 0.5 s after the last 2xx, a restart on the same data directory
//      (restart to ready, ms), quiet: how many of the 5,000 never reached the receiver (lost);
//      then all 15,000 re-sent: PagerDuty requests beyond each alert's first delivery (re-paged);
//   4. RSS (/proc/<pid>/status VmRSS) at start, peak over steps 1–2, and 5 s at rest after them.
// The systems: Alertmanager (`group_by: ['...']`, `group_wait: 0s`, fed 64 alerts per POST
// /api/v2/alerts, as Prometheus batches them) against the built sidecar (`serve`, LevelDB, a
// catch-all route to PagerDuty only, storm and rate limits lifted) fed through POST /api/v1/events
// (64 log events per request) and through POST /api/v1/alerts (one alert per request); see
// docs/http-api.md, "Ingest". Skipped when no `alertmanager` binary is on the PATH; never part
// of `npm test`. Run alone: `node --expose-gc bench/run.mjs alertmanager`; per-step figures go
// to stderr as each system finishes.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { cp, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Agent, request } from 'undici';
import { THROUGHPUT_EDITS } from './app.mjs';
import { fmt, freePort, median, pass, rssMb, sleep, table } from './lib.mjs';

/** Alerts of the new and crash steps; smaller for a quick look: `node bench/alertmanager.mjs 1000 500 1`. */
let NEW = 10_000;
let CRASH = 5_000;
const IN_FLIGHT = 12;
/** Alerts per request to Alertmanager and to /api/v1/events: Prometheus's batch of 64. */
const BATCH = 64;
const ROUNDS = 3;
/** No receiver request for this long counts as quiet (after a restart, after the re-send). */
const QUIET_MS = 3_000;
/** A step whose receiver count stops moving this long is given up (reported as incomplete). */
const STALL_MS = 30_000;
const ROUTING_KEY = 'R'.repeat(32);

const log = (line) => console.error(`  ${line}`);

/** The first of `names` found executable on the PATH, or null. */
function onPath(names) {
  for (const name of names)
    for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {
        // not here
      }
    }
  return null;
}

// ---------------------------------------------------------------------------------------------
// The shared fake PagerDuty receiver: answers every Events API v2 request 202 at once (as
// PagerDuty does, docs/providers.md) and tallies trigger requests per alert. Both systems put the
// alert's service name in the summary (ours: the default title `{service}: {message}`;
// Alertmanager: `description: '{{ .CommonLabels.service }}'`), which names the alert.

const NAME = /bench-(?:new|crash)-\d+/;

async function startReceiver() {
  const tally = {
    /** alert name → trigger requests received */
    counts: new Map(),
    /** alert name → performance.now() of its first delivery */
    firstAt: new Map(),
    requests: 0,
    /** requests that were not PagerDuty triggers naming a bench alert (OpsGenie, resolves, …) */
    other: 0,
    lastAt: 0,
  };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const now = performance.now();
      tally.requests++;
      tally.lastAt = now;
      let body = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        // counted as other below
      }
      const name = NAME.exec(String(body?.payload?.summary ?? ''))?.[0];
      if (req.url === '/v2/enqueue' && body?.event_action === 'trigger' && name !== undefined) {
        tally.counts.set(name, (tally.counts.get(name) ?? 0) + 1);
        if (!tally.firstAt.has(name)) tally.firstAt.set(name, now);
      } else tally.other++;
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: body?.dedup_key ?? '' }),
      );
    });
  });
  // Alertmanager's Go client opens many connections; keep them alive as long as it wants.
  server.keepAliveTimeout = 60_000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    tally,
    reset() {
      tally.counts.clear();
      tally.firstAt.clear();
      tally.requests = 0;
      tally.other = 0;
      tally.lastAt = performance.now();
    },
    /** How many of `names` have reached the receiver at least once. */
    received: (names) => names.reduce((n, name) => n + (tally.firstAt.has(name) ? 1 : 0), 0),
    triggers: () => [...tally.counts.values()].reduce((a, b) => a + b, 0),
    stop: () =>
      new Promise((r) => {
        server.close(r);
        server.closeAllConnections();
      }),
  };
}

/** Resolves once `count()` reaches `target` or stops moving for `stallMs`; returns the count. */
async function waitFor(count, target, stallMs = STALL_MS) {
  let last = -1;
  let since = performance.now();
  for (;;) {
    const n = count();
    if (n >= target) return n;
    if (n !== last) [last, since] = [n, performance.now()];
    else if (performance.now() - since > stallMs) return n;
    await sleep(50);
  }
}

/** Resolves once the receiver has had no request for `QUIET_MS`. */
async function quiet(receiver) {
  while (performance.now() - receiver.tally.lastAt < QUIET_MS) await sleep(100);
}

// ---------------------------------------------------------------------------------------------
// The alerts: alert i of a batch is the service `bench-<batch>-<i>`, the same in every system.

function makeAlerts(batch, n) {
  const at = new Date().toISOString();
  return Array.from({ length: n }, (_, i) => ({ name: `bench-${batch}-${i}`, text: `bench alert ${i}`, at }));
}

/** The body of one request to `system` carrying `alerts`. */
const wire = {
  // Alertmanager API v2 (`postableAlerts`); no endsAt: Alertmanager sets now + resolve_timeout.
  alertmanager: (alerts) =>
    alerts.map((a) => ({
      labels: { alertname: 'BenchAlert', service: a.name, severity: 'critical' },
      annotations: { summary: a.text },
      startsAt: a.at,
    })),
  // Log events (schemas/log-event.schema.json); level critical pages (settings.level_severity).
  events: (alerts) =>
    alerts.map((a) => ({
      timestamp: a.at,
      service: a.name,
      level: 'critical',
      message: a.text,
      source: 'bench',
    })),
  // The brief's alert shape (schemas/alert.schema.json), one per request.
  alerts: ([a]) => ({ title: a.text, source: 'bench', severity: 'critical', service_name: a.name }),
};
const PATHS = { alertmanager: '/api/v2/alerts', events: '/api/v1/events', alerts: '/api/v1/alerts' };
const PER_REQUEST = { alertmanager: BATCH, events: BATCH, alerts: 1 };

/**
 * Sends `alerts` to a running system with `IN_FLIGHT` requests in flight; returns the ms until the
 * last 2xx. A network error (a kept-alive connection the server had just closed) is retried:
 * sending an alert twice is harmless to both systems, a repeat.
 */
async function send(agent, system, base, alerts) {
  const per = PER_REQUEST[system.kind];
  const chunks = [];
  for (let i = 0; i < alerts.length; i += per) chunks.push(alerts.slice(i, i + per));
  const post = async (chunk) => {
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await request(`${base}${PATHS[system.kind]}`, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(wire[system.kind](chunk)),
        });
        const text = await res.body.text();
        if (res.statusCode < 200 || res.statusCode > 299)
          throw new Error(`${system.label}: ${res.statusCode} ${text.slice(0, 300)}`);
        if (system.kind === 'events' && JSON.parse(text).accepted !== chunk.length)
          throw new Error(`${system.label}: events rejected: ${text.slice(0, 300)}`);
        return;
      } catch (err) {
        if (attempt >= 3 || !/UND_ERR_SOCKET|ECONNRESET|other side closed/.test(`${err.code} ${err.message}`))
          throw err;
      }
    }
  };
  const t = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < chunks.length) await post(chunks[next++]);
    }),
  );
  return performance.now() - t;
}

// ---------------------------------------------------------------------------------------------
// The systems' processes.

/** Pids this benchmark started and has not seen exit: killed at the end, also on error or exit. */
const live = new Set();
function killLeftovers() {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Alertmanager's configuration: every alert its own group, notified at once, never repeated. */
function alertmanagerConfig(receiverUrl) {
  return `global:
  resolve_timeout: 1h # no resolve notifications during a run
route:
  receiver: pagerduty
  group_by: ['...']
  group_wait: 0s
  group_interval: 1h
  repeat_interval: 24h
receivers:
  - name: pagerduty
    pagerduty_configs:
      - routing_key: ${ROUTING_KEY}
        url: ${receiverUrl}/v2/enqueue
        description: '{{ .CommonLabels.service }}'
        send_resolved: false
`;
}

/**
 * A catch-all policy: the shipped one with every paging alert routed to PagerDuty alone (OpsGenie
 * stays defined, pointed at the receiver, which would count any request to it) and storm folding
 * and rate limits lifted as in the other throughput benchmarks (bench/app.mjs). Routes:
 * docs/policy-language.md, "Routes"; with no upgrade or suppress rules every event of level
 * critical pages (level_severity: critical → high).
 */
async function writePolicy(dir) {
  await cp(new URL('../policies', import.meta.url).pathname, dir, { recursive: true });
  for (const [name, edit] of Object.entries(THROUGHPUT_EDITS))
    await writeFile(join(dir, name), edit(await readFile(join(dir, name), 'utf8')));
  await writeFile(
    join(dir, 'paging.yaml'),
    `# Side-by-side benchmark: every paging alert to PagerDuty, nothing upgraded or suppressed.
apiVersion: incident-router/v1
routes:
  - name: catch-all
    deliver: { mode: all, providers: [pagerduty] }
`,
  );
}

/** The environment a child runs with: the PATH and what it needs, nothing inherited by accident. */
function childEnv(extra) {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...extra };
}

/**
 * Starts `system` on `dataDir` (reused across a restart) and waits until it answers ready;
 * returns the child with `readyMs`, spawn to ready.
 */
async function startProcess(system, dataDir, receiver, root) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let command;
  let args;
  let env;
  let readyPath;
  if (system.kind === 'alertmanager') {
    command = system.binary;
    args = [
      `--config.file=${join(root, 'alertmanager.yml')}`,
      `--storage.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=', // no gossip: one instance
      '--log.level=warn',
    ];
    env = childEnv({});
    readyPath = '/-/ready';
  } else {
    command = process.execPath;
    // BENCH_CHILD_NODE_ARGS: e.g. `--cpu-prof --cpu-prof-dir=.tmp/child` to profile the sidecar.
    const nodeArgs = (process.env.BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean);
    args = [
      '--max-semi-space-size=8',
      ...nodeArgs,
      new URL('../dist/main.js', import.meta.url).pathname,
      'serve',
    ];
    env = childEnv({
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      POLICY_DIR: join(root, 'policies'),
      DATA_DIR: dataDir,
      PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
      PAGERDUTY_EVENTS_URL: `${receiver.url}/v2/enqueue`,
      OPSGENIE_API_KEY: 'bench-unused-opsgenie-key',
      OPSGENIE_API_URL: `${receiver.url}/opsgenie`,
      // As the Dockerfile and `npm start` run it (README, "Configuration").
      MALLOC_ARENA_MAX: '1',
    });
    readyPath = '/readyz';
  }
  // Warnings and errors go to a file: a crash must not pass unseen.
  const logPath = join(root, `${system.kind}-${port}.log`);
  const out = await open(logPath, 'w');
  const t = performance.now();
  const child = spawn(command, args, { env, stdio: ['ignore', out.fd, out.fd] });
  live.add(child.pid);
  let exit = null;
  const exited = new Promise((r) =>
    child.once('exit', (code, signal) => {
      exit = code ?? signal;
      live.delete(child.pid);
      void out.close();
      r();
    }),
  );
  for (;;) {
    if (exit !== null) throw new Error(`${system.label} exited (${exit}) before ready; see ${logPath}`);
    if (performance.now() - t > 60_000) {
      child.kill('SIGKILL');
      throw new Error(`${system.label} not ready within 60 s; see ${logPath}`);
    }
    const ok = await fetch(`${base}${readyPath}`).then(
      (r) => (r.body?.cancel(), r.status === 200),
      () => false,
    );
    if (ok) break;
    await sleep(10);
  }
  return {
    pid: child.pid,
    base,
    readyMs: performance.now() - t,
    kill: async (signal) => {
      if (exit === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// One system, one round.

async function runSystem(system, receiver, agent) {
  const root = await mkdtemp(join(tmpdir(), `ir-bench-am-${system.kind}-`));
  const dataDir = join(root, 'data');
  await mkdir(dataDir);
  if (system.kind === 'alertmanager')
    await writeFile(join(root, 'alertmanager.yml'), alertmanagerConfig(receiver.url));
  else await writePolicy(join(root, 'policies'));
  receiver.reset();
  let proc = null;
  let sampler = null;
  try {
    proc = await startProcess(system, dataDir, receiver, root);
    const startMs = proc.readyMs;
    await sleep(1_000); // settled after start
    const rss = { start: rssMb(proc.pid), peak: 0, rest: NaN };
    const pid = proc.pid;
    sampler = setInterval(() => (rss.peak = Math.max(rss.peak, rssMb(pid) || 0)), 100);

    // 1. New alerts, end to end: until the last of them reaches the receiver.
    const fresh = makeAlerts('new', NEW);
    const names = fresh.map((a) => a.name);
    const t = performance.now();
    const acceptMs = await send(agent, system, proc.base, fresh);
    const delivered = await waitFor(() => receiver.received(names), NEW);
    const lastAt = Math.max(...names.map((n) => receiver.tally.firstAt.get(n) ?? 0));
    const newPerS = delivered === NEW ? NEW / ((lastAt - t) / 1000) : NaN;

    // 2. The same alerts again: repeats, accepted/s.
    const repeatMs = await send(agent, system, proc.base, fresh);
    const repeatPerS = NEW / (repeatMs / 1000);
    await sleep(5_000);
    clearInterval(sampler);
    sampler = null;
    rss.rest = rssMb(pid);
    rss.peak = Math.max(rss.peak, rss.rest);

    // 3. Crash: 5,000 new, SIGKILL 0.5 s after the last 2xx, restart on the same data, quiet.
    const crash = makeAlerts('crash', CRASH);
    const crashNames = crash.map((a) => a.name);
    await send(agent, system, proc.base, crash);
    await sleep(500);
    await proc.kill('SIGKILL');
    const atKill = receiver.received(crashNames);
    proc = await startProcess(system, dataDir, receiver, root);
    const restartMs = proc.readyMs;
    await quiet(receiver);
    const lost = CRASH - receiver.received(crashNames);
    // Requests beyond first deliveries so far (e.g. an outbox sending again what it had sent).
    const dupAtRestart = receiver.triggers() - receiver.tally.counts.size;

    // Then everything again: 15,000 alerts the system has already paged (or lost).
    const before = { triggers: receiver.triggers(), paged: receiver.tally.counts.size };
    await send(agent, system, proc.base, [...fresh, ...crash]);
    await quiet(receiver);
    const firstNow = receiver.tally.counts.size - before.paged;
    const extra = receiver.triggers() - before.triggers - firstNow;
    const figures = {
      newPerS,
      delivered,
      acceptNewPerS: NEW / (acceptMs / 1000),
      repeatPerS,
      atKill,
      lost,
      dupAtRestart,
      extra,
      firstDeliveredByResend: firstNow,
      restartMs,
      startMs,
      rss,
      other: receiver.tally.other,
    };
    log(
      `${system.label}: ${JSON.stringify(figures, (k, v) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v))}`,
    );
    return figures;
  } finally {
    if (sampler) clearInterval(sampler);
    if (proc) await proc.kill('SIGKILL');
    await rm(root, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The table.

function rows(runs) {
  const am = runs.alertmanager;
  const med = (list, f) => median(list.map(f).map((v) => (Number.isNaN(v) ? -Infinity : v)));
  const show = (v, f = fmt) => (v === -Infinity ? 'incomplete' : f(v));
  const ratio = (a, b) => (a === -Infinity || b === -Infinity || b === 0 ? '' : (a / b).toFixed(2));
  const via = {
    events: `via POST /api/v1/events (${BATCH} per request)`,
    alerts: 'via POST /api/v1/alerts (one per request)',
  };
  const out = [];
  const amNew = med(am, (r) => r.newPerS);
  const amRepeat = med(am, (r) => r.repeatPerS);
  for (const kind of ['events', 'alerts']) {
    const v = med(runs[kind], (r) => r.newPerS);
    const need = kind === 'events' ? 2 : 1;
    out.push({
      figure: `${fmt(NEW)} new alerts, end to end/s (all at the receiver), ${via[kind]}`,
      measured: show(v),
      ceiling: show(amNew),
      ratio: ratio(v, amNew),
      target: kind === 'events' ? '≥ 2× Alertmanager (never below 1×)' : '≥ 1× Alertmanager',
      met: pass(v >= need * amNew),
    });
  }
  for (const kind of ['events', 'alerts']) {
    const v = med(runs[kind], (r) => r.repeatPerS);
    out.push({
      figure: `the same ${fmt(NEW)} again (repeats), accepted/s, ${via[kind]}`,
      measured: show(v),
      ceiling: show(amRepeat),
      ratio: ratio(v, amRepeat),
      target: '≥ 1× Alertmanager',
      met: pass(v >= amRepeat),
    });
  }
  for (const kind of ['events', 'alerts']) {
    const v = med(runs[kind], (r) => r.lost);
    out.push({
      figure: `${fmt(CRASH)} new, SIGKILL 0.5 s after the last 2xx, restart: lost, ${via[kind]}`,
      measured: show(v),
      ceiling: show(med(am, (r) => r.lost)),
      ratio: '',
      target: '0',
      met: pass(v === 0),
    });
  }
  for (const kind of ['events', 'alerts']) {
    const v = med(runs[kind], (r) => r.extra);
    out.push({
      figure: `all ${fmt(NEW + CRASH)} re-sent after that restart: extra PagerDuty requests, ${via[kind]}`,
      measured: show(v),
      ceiling: show(med(am, (r) => r.extra)),
      ratio: '',
      target: '0',
      met: pass(v === 0),
    });
  }
  // At-least-once, apart from the row above: a trigger the receiver had answered, whose outcome the
  // SIGKILL kept from being written, is sent again by the restarted outbox with the same dedup_key
  // (the provider folds it into the open incident: no second page). Not a re-page; reported.
  for (const kind of ['events', 'alerts']) {
    const v = med(runs[kind], (r) => r.dupAtRestart);
    out.push({
      figure: `triggers on the wire at that SIGKILL, sent again at restart (same dedup_key), ${via[kind]}`,
      measured: show(v),
      ceiling: show(med(am, (r) => r.dupAtRestart)),
      ratio: '',
      target: 'reported',
      met: '',
    });
  }
  const amReady = med(am, (r) => r.restartMs);
  for (const kind of ['events', 'alerts']) {
    const v = med(runs[kind], (r) => r.restartMs);
    out.push({
      figure: `restart to ready after that SIGKILL (ms), ${via[kind]}`,
      measured: show(v),
      ceiling: show(amReady),
      ratio: ratio(v, amReady),
      target: 'reported',
      met: '',
    });
  }
  const mb = (list) =>
    ['start', 'peak', 'rest'].map((k) => med(list, (r) => r.rss[k])).map((v) => show(v, (x) => x.toFixed(0)));
  const amMb = mb(am);
  for (const kind of ['events', 'alerts']) {
    const v = mb(runs[kind]);
    out.push({
      figure: `RSS at start / peak / 5 s at rest after the repeats (MB), ${via[kind]}`,
      measured: v.join(' / '),
      ceiling: amMb.join(' / '),
      ratio: ratio(Number(v[1]), Number(amMb[1])),
      target: 'reported (ratio: peak)',
      met: '',
    });
  }
  return out;
}

export async function benchAlertmanager({ rounds = ROUNDS, alerts = 10_000, crash = 5_000 } = {}) {
  [NEW, CRASH] = [alerts, crash];
  // BENCH_SYSTEMS=events,alerts: only those systems, their figures on stderr and no table (for
  // investigating one side; the table needs all three).
  const only = process.env.BENCH_SYSTEMS?.split(',') ?? null;
  const binary = onPath(['alertmanager', 'prometheus-alertmanager']);
  if (binary === null) {
    console.log('\nalertmanager: skipped (no alertmanager binary on PATH)');
    return [];
  }
  const onSignal = () => process.exit(130);
  process.on('exit', killLeftovers);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const systems = [
    { kind: 'alertmanager', label: 'Alertmanager', binary },
    { kind: 'events', label: 'us via /events' },
    { kind: 'alerts', label: 'us via /alerts' },
  ].filter((s) => only === null || only.includes(s.kind));
  const receiver = await startReceiver();
  // One client for every system: 12 connections per origin, idle ones dropped before the
  // servers' keep-alive timeouts (Node's 5 s) would close them under a request.
  const agent = new Agent({ connections: IN_FLIGHT, keepAliveTimeout: 1_000 });
  const runs = { alertmanager: [], events: [], alerts: [] };
  const load = [loadavg()[0]];
  try {
    for (let round = 0; round < rounds; round++) {
      // Alternate the order: whoever runs first or last in a round gets the other half of the time.
      const order = round % 2 === 0 ? systems : [...systems].reverse();
      log(`round ${round + 1} of ${rounds}: ${order.map((s) => s.label).join(', ')}`);
      for (const system of order) {
        globalThis.gc?.();
        runs[system.kind].push(await runSystem(system, receiver, agent));
      }
    }
    load.push(loadavg()[0]);
    if (only !== null) return [];
    const out = rows(runs);
    table(
      `Side by side with Prometheus Alertmanager 0.25 (issue 13; ceiling = Alertmanager, median of ${rounds} rounds)`,
      out,
    );
    const others = Object.values(runs)
      .flat()
      .reduce((n, r) => n + r.other, 0);
    console.log(
      `\nOne shared fake PagerDuty receiver (202 at once), ${IN_FLIGHT} requests in flight, Alertmanager fed ${BATCH} alerts per request. ` +
        `Requests to the receiver that were not bench triggers (OpsGenie, resolves): ${others}. ` +
        `Load average (1 min) at the start and end: ${load.map((l) => l.toFixed(2)).join(', ')}.`,
    );
    return out;
  } finally {
    await agent.close();
    await receiver.stop();
    killLeftovers();
    process.off('exit', killLeftovers);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [alerts, crash, rounds] = process.argv.slice(2).map(Number);
  await benchAlertmanager({
    alerts: alerts || undefined,
    crash: crash || undefined,
    rounds: rounds || undefined,
  });
}
