// Soak run (`npm run soak`, not part of `npm test`): N minutes (default 10) of mixed load against a
// real sidecar process in JetStream mode (the no-loss mode), then one table of what was lost,
// doubled or left pending, the sidecar's RSS over the run and its event-loop lag.
//
//   node --expose-gc bench/soak.mjs [--minutes N] [--seed N] [--state leveldb|jetstream]
//                                   [--replicas N] [--nats-nodes 1|3] [--keep]
//
// - Load: bench/publisher.mjs, in its own process, publishes scripts/gen-log-events.mjs's mix at
//   1,000 events/s (3% alerting, 0.2% recoveries) to a stream on a private nats-server.
// - The sidecar is `node dist/main.js serve` with MALLOC_ARENA_MAX=1, as deployed; the PagerDuty
//   and OpsGenie simulators run in this process and send their signed webhooks back to it.
// - Meanwhile: incidents are acknowledged in the PagerDuty simulator every 2 s (its webhooks come
//   back and OpsGenie must follow); the policy is edited and reloaded at 1/4; PagerDuty answers 503
//   for ~60 s from 2/5; the sidecar is SIGKILLed and restarted (same DATA_DIR, same durable
//   consumer) at 2/3.
// - Expected incidents come from `decide` (dist/policy) run here over the same generated events
//   with the same policy, at the time each event was published.
// --state jetstream keeps the sidecar's state in the same nats-server (cluster mode; R1, or R3 with
// --nats-nodes 3) instead of LevelDB. --replicas N (with --state jetstream) runs N sidecars sharing that state and the input
// consumer: the first is the one sampled, reloaded with the others and SIGKILLed; the simulators'
// webhooks go round-robin to all of them. --nats-nodes 3 runs a 3-node nats-server cluster instead
// of one server, the input stream and the sidecars' state (CLUSTER_REPLICAS) replicated on all
// three, as a production cluster runs them. --keep leaves the sidecars' data and policy directory in
// place for a look afterwards.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { cp, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { eventLines } from '../scripts/gen-log-events.mjs';
import { startSandbox } from '../dist/sandbox/index.js';
import { parseEvent } from '../dist/ingest/validate.js';
import { eventToInput } from '../dist/domain/log-event.js';
import { decideNow, NO_INCIDENTS } from '../dist/policy/decide.js';
import { preparePolicy } from '../dist/policy/active.js';
import { readPolicyDir } from '../dist/policy/load.js';
import { THROUGHPUT_EDITS } from './app.mjs';
import { fmt, freePort, median, pass, sleep, table } from './lib.mjs';
import { startNatsCluster, startNatsServer } from './nats-server.mjs';
import { publisher } from './publish.mjs';

const RATE = 1_000; // events/s
const ALERTING_PCT = 3;
const STREAM = 'SOAK';
const SUBJECT = 'soak.logs.app';
const DURABLE = 'incident-router';
const DLQ_SUBJECT = 'incident-router.dlq';
const SAMPLE_MS = 5_000;
const ACK_EVERY_MS = 2_000;
const DRAIN_TIMEOUT_MS = 5 * 60_000;
/** A decision that changes within this much of its publish time is reported as time-sensitive. */
const CLOCK_SLACK_MS = 120_000;
/** How much later than an expected incident's recovery line a found incident covering it may open (`uncoveredLives`). */
const FOLD_SLACK_MS = 500;

const log = (message) => console.error(`[soak ${new Date().toISOString().slice(11, 19)}] ${message}`);

function parseArgs(argv) {
  const flag = (name, fallback) => {
    const i = argv.indexOf(`--${name}`);
    return i === -1 ? fallback : argv[i + 1];
  };
  const minutes = Number(flag('minutes', '10'));
  if (!(minutes > 0)) throw new Error('--minutes must be a positive number');
  const state = flag('state', 'leveldb');
  if (state !== 'leveldb' && state !== 'jetstream') throw new Error('--state must be leveldb or jetstream');
  const replicas = Number(flag('replicas', '1'));
  if (!(Number.isInteger(replicas) && replicas >= 1))
    throw new Error('--replicas must be a positive integer');
  if (replicas > 1 && state !== 'jetstream') throw new Error('--replicas needs --state jetstream');
  const natsNodes = Number(flag('nats-nodes', '1'));
  if (natsNodes !== 1 && natsNodes !== 3) throw new Error('--nats-nodes must be 1 or 3');
  const seed = Number(flag('seed', '2026'));
  return { minutes, seed, state, replicas, natsNodes, keep: argv.includes('--keep') };
}

/** When each disturbance happens, in ms from the start of publishing. */
function planFor(runMs) {
  return {
    runMs,
    warmMs: Math.min(30_000, runMs * 0.1),
    reloadAt: runMs * 0.25,
    outageAt: runMs * 0.4,
    outageMs: Math.min(60_000, runMs * 0.15),
    middleAt: runMs * 0.5,
    killAt: runMs * (2 / 3),
  };
}

/**
 * The sidecar's policy: the shipped one without storm folding or the client-side PagerDuty rate
 * limit (bench/app.mjs THROUGHPUT_EDITS). Storm folding depends on when the sidecar decided and on
 * in-memory state a SIGKILL loses, so the expected incidents could not be computed exactly; the
 * shipped 120 PagerDuty events/min is below this mix's ~180/min (triggers and resolves), so the
 * PagerDuty outbox would grow for the whole run and hide every other figure.
 */
async function preparePolicyDir(root) {
  const dir = join(root, 'policies');
  await cp(new URL('../policies', import.meta.url).pathname, dir, { recursive: true });
  for (const [name, edit] of Object.entries(THROUGHPUT_EDITS)) {
    await writeFile(join(dir, name), edit(await readFile(join(dir, name), 'utf8')));
  }
  const prepared = preparePolicy(await readPolicyDir(dir), { env: {}, sandbox: true }, new Date());
  if (!prepared.ok) throw new Error('the soak policy is invalid');
  return { dir, compiled: prepared.policy.compiled };
}

/** The simulators retry their webhooks for ~60 s, as PagerDuty does (for 48 h): the restart must not lose an ack. */
async function startSimulators() {
  const webhookRetry = { attempts: 8, backoffMs: 500 };
  return startSandbox({ pagerduty: { webhookRetry }, opsgenie: { webhookRetry } });
}

const WEBHOOK_SECRET = 'soak-pagerduty-webhook-secret';
const WEBHOOK_TOKEN = 'soak-opsgenie-webhook-token';

/** The simulators send their webhooks to `base` (a sidecar, or the round-robin in front of several). */
function configureWebhooks(sandbox, base) {
  sandbox.pagerduty.configureWebhook({ url: `${base}/api/v1/webhooks/pagerduty`, secret: WEBHOOK_SECRET });
  sandbox.opsgenie.configureWebhook({ url: `${base}/api/v1/webhooks/opsgenie`, token: WEBHOOK_TOKEN });
}

/**
 * Forwards each request to the next replica in turn, body and headers as they came (the signature
 * covers the raw body). A replica that does not answer gets a 502 back to the simulator, which sends
 * again later, as PagerDuty would; the next try goes to the next replica.
 */
async function roundRobin(bases) {
  let next = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const target = bases[next++ % bases.length];
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k)),
      );
      try {
        const answer = await fetch(`${target}${req.url}`, {
          method: req.method,
          headers,
          body: Buffer.concat(chunks),
        });
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
        res.end(Buffer.from(await answer.arrayBuffer()));
      } catch (err) {
        res.writeHead(502).end(String(err));
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => server.close(r)),
  };
}

function sidecarEnv({ port, policyDir, dataDir, natsUrl, sandbox, state, natsNodes }) {
  const secret = WEBHOOK_SECRET;
  const token = WEBHOOK_TOKEN;
  return {
    ...process.env,
    PORT: String(port),
    LOG_LEVEL: 'warn',
    POLICY_DIR: policyDir,
    DATA_DIR: dataDir,
    STATE: state,
    ...(state === 'jetstream' ? { CLUSTER_NAME: 'soak', CLUSTER_REPLICAS: String(natsNodes) } : {}),
    NATS_URL: natsUrl,
    NATS_SUBJECT: 'soak.logs.>',
    NATS_STREAM: STREAM,
    NATS_DURABLE: DURABLE,
    NATS_DLQ_SUBJECT: DLQ_SUBJECT,
    PAGERDUTY_ROUTING_KEY: 'R'.repeat(32),
    PAGERDUTY_EVENTS_URL: sandbox.urls.pagerdutyEvents,
    PAGERDUTY_WEBHOOK_SECRET: secret,
    OPSGENIE_API_KEY: 'soak-opsgenie-key',
    OPSGENIE_API_URL: sandbox.urls.opsgenie,
    OPSGENIE_WEBHOOK_TOKEN: token,
    MALLOC_ARENA_MAX: '1', // as the Dockerfile and `npm start` run it
  };
}

/** The sidecar process; `start` again after `kill` is the restart (same env, same DATA_DIR). */
function sidecarProcess(env, logPath) {
  const base = `http://127.0.0.1:${env.PORT}`;
  const main = new URL('../dist/main.js', import.meta.url).pathname;
  let child = null;
  let exited = null;
  const request = async (path, init) => {
    try {
      return await fetch(`${base}${path}`, init);
    } catch {
      return fetch(`${base}${path}`, init); // a kept-alive connection the server had just closed
    }
  };
  const json = async (path, init) => (await request(path, init)).json();
  return {
    base,
    logPath,
    get pid() {
      return child.pid;
    },
    request,
    json,
    async start() {
      // Appended across the restart: a crash or a warning must not pass unseen.
      const file = await open(logPath, 'a');
      // BENCH_CHILD_NODE_ARGS: extra node flags for the sidecar, as the other benchmarks take them.
      const nodeArgs = (process.env.BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean);
      child = spawn(process.execPath, ['--max-semi-space-size=8', ...nodeArgs, main, 'serve'], {
        env,
        stdio: ['ignore', file.fd, file.fd],
      });
      const own = child;
      exited = new Promise((r) => own.once('exit', (code, signal) => r(code ?? signal)));
      // An exit nobody asked for is the first thing to know about a failed run.
      exited.then((how) => {
        if (!own.signalled) log(`the sidecar (pid ${own.pid}) exited unexpectedly: ${how}`);
        return file.close();
      });
      await waitReady(json, exited);
    },
    async signal(name) {
      child.signalled = true;
      child.kill(name);
      if (name === 'SIGKILL' || name === 'SIGTERM') return exited;
    },
  };
}

/** Ready: HTTP answers, NATS connected and the durable consumer consuming. */
async function waitReady(json, exited) {
  let exitCode = null;
  exited.then((code) => (exitCode = code));
  for (;;) {
    if (exitCode !== null) throw new Error(`the sidecar exited (${exitCode}) while starting`);
    const health = await json('/api/v1/health').catch(() => null);
    if (health?.nats?.connected === true && health.nats.consuming !== false) return;
    await sleep(100);
  }
}

async function rssMb(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)[1]) / 1024;
}

/** The sum of a Prometheus sample over all its label sets. */
function metricSum(text, name) {
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}

/**
 * One sample of the sidecar. Every /metrics read resets prom-client's event-loop histogram, so
 * only the sampler reads it: each p99 covers the interval since the previous sample.
 */
async function sampleOnce(sidecar, jsm, generation, t0) {
  const text = await (await sidecar.request('/metrics')).text();
  const consumer = await consumerInfo(jsm);
  return {
    t: Math.round((Date.now() - t0) / 1000),
    generation,
    ackPending: consumer.ackPending,
    redelivered: consumer.redelivered,
    rssMb: await rssMb(sidecar.pid),
    heapUsedMb: metricSum(text, 'incident_router_nodejs_heap_size_used_bytes') / 2 ** 20,
    received: metricSum(text, 'incident_router_events_received_total'),
    lagP99Ms: metricSum(text, 'incident_router_nodejs_eventloop_lag_p99_seconds') * 1000,
    lagMaxMs: metricSum(text, 'incident_router_nodejs_eventloop_lag_max_seconds') * 1000,
    pending: metricSum(text, 'incident_router_deliveries_pending'),
  };
}

/**
 * Samples every SAMPLE_MS. The first sample of each process covers its start-up (module loading,
 * policy compilation, LevelDB, the backlog after the restart) and is marked `startup`.
 */
function startSampler(sidecar, jsm, t0) {
  const samples = [];
  const state = { generation: 1, stopped: false };
  const take = async () => {
    const s = await sampleOnce(sidecar, jsm, state.generation, t0).catch(() => null);
    if (s === null) return null;
    s.startup = !samples.some((x) => x.generation === s.generation);
    samples.push(s);
    return s;
  };
  const loop = (async () => {
    while (!state.stopped) {
      await take();
      await sleep(SAMPLE_MS);
    }
  })();
  return { samples, state, take, stop: () => ((state.stopped = true), loop) };
}

/** Counts messages on the dead-letter subject: each is an event the pipeline gave up on. */
function countDeadLetters(nc) {
  const counter = { n: 0 };
  nc.subscribe(DLQ_SUBJECT, { callback: () => counter.n++ });
  return counter;
}

async function createStream(jsm, replicas) {
  await jsm.streams.add({ name: STREAM, subjects: ['soak.logs.>'], num_replicas: replicas });
}

/** Until the sidecar created its durable consumer: publishing starts with a consumer in place. */
async function waitForConsumer(jsm) {
  for (;;) {
    const info = await jsm.consumers.info(STREAM, DURABLE).catch(() => null);
    if (info !== null) return;
    await sleep(100);
  }
}

/**
 * A human acknowledging in the PagerDuty web UI every ACK_EVERY_MS: an open incident at least 1 s
 * old, also at OpsGenie when there is one (so the sync has somewhere to go). Its webhook goes to
 * the sidecar, which must acknowledge and sync OpsGenie.
 */
async function ackLoop(sandbox, running) {
  const acked = [];
  let skipped = 0;
  while (running()) {
    await sleep(ACK_EVERY_MS);
    const atOpsGenie = new Set(
      sandbox.opsgenie
        .alerts()
        .filter((a) => a.status === 'open')
        .map((a) => a.alias),
    );
    const candidates = sandbox.pagerduty
      .incidents()
      .filter((i) => i.status === 'triggered' && Date.now() - Date.parse(i.createdAt) > 1_000);
    const pick = candidates.find((i) => atOpsGenie.has(i.dedupKey)) ?? candidates[0];
    if (pick === undefined) continue;
    try {
      const { delivery } = await sandbox.pagerduty.acknowledge(pick.id);
      acked.push({
        id: pick.id,
        dedupKey: pick.dedupKey,
        at: new Date().toISOString(),
        webhook: delivery?.outcome ?? 'none',
      });
    } catch {
      skipped++; // resolved between the listing and the click
    }
  }
  return { acked, skipped };
}

/** The policy reload: a new version written to the copied policy, then POST /api/v1/policy/reload. */
async function reloadPolicy(sidecar, policyDir, others) {
  const before = (await sidecar.json('/api/v1/policy')).version;
  const file = join(policyDir, '00-settings.yaml');
  const text = await readFile(file, 'utf8');
  await writeFile(file, text.replace(/^version: '([^']+)'/m, "version: '$1-soak-reload'"));
  const res = await sidecar.request('/api/v1/policy/reload', { method: 'POST' });
  const answer = await res.json();
  // Each replica reads its own policy directory (here one directory for all): GitOps reloads each.
  const rest = await Promise.all(
    others.map(async (o) => (await o.request('/api/v1/policy/reload', { method: 'POST' })).ok),
  );
  const after = (await sidecar.json('/api/v1/policy')).version;
  const ok = res.ok && after === `${before}-soak-reload` && rest.every(Boolean);
  return { status: res.status, before, after, ok, answer };
}

async function outageStart(sandbox) {
  sandbox.pagerduty.injectFault({ kind: 'status', status: 503 });
}

/** Ends the outage; what it did: requests refused, the breaker as the sidecar saw it at the end. */
async function outageEnd(sandbox, sidecar) {
  const hits = sandbox.pagerduty.faults.list().reduce((n, f) => n + f.hits, 0);
  const breaker = (await sidecar.json('/api/v1/health')).integrations?.pagerduty?.breaker;
  sandbox.pagerduty.clearFaults();
  return { refused: hits, breakerAtEnd: breaker };
}

/** SIGKILL and restart, counting events just before the kill (the restarted process counts from 0). */
/**
 * SIGKILL and restart. Events are counted just before the kill (the restarted process counts from
 * 0); the consumer is read once the process is gone: what was delivered to it and not acked comes
 * back to the restarted one after NATS_ACK_WAIT_MS.
 */
async function killAndRestart(sidecar, sampler, jsm) {
  const rssBefore = await rssMb(sidecar.pid);
  const last = await sampler.take();
  const killedAt = Date.now();
  await sidecar.signal('SIGKILL');
  await sleep(500); // nats-server notices the closed connection
  const atKill = await consumerInfo(jsm);
  sampler.state.generation = 2;
  await sidecar.start();
  const downMs = Date.now() - killedAt;
  return { receivedBefore: last?.received ?? NaN, rssBefore, atKill, downMs, killedAtMs: killedAt };
}

/** The disturbances in time order, each at its planned time; returns what each step reported. */
async function runScenario(ctx) {
  const { plan, t0, sidecar, sandbox, sampler } = ctx;
  const steps = [
    [plan.warmMs, 'rssStart', () => rssMb(sidecar.pid)],
    [plan.reloadAt, 'reload', () => reloadPolicy(sidecar, ctx.policyDir, ctx.others)],
    [plan.outageAt, 'outageStart', () => outageStart(sandbox)],
    [plan.outageAt + plan.outageMs, 'outage', () => outageEnd(sandbox, sidecar)],
    [plan.middleAt, 'rssMiddle', () => rssMb(sidecar.pid)],
    [plan.killAt, 'kill', () => killAndRestart(sidecar, sampler, ctx.jsm)],
    [plan.killAt + plan.warmMs, 'rssRestarted', () => rssMb(sidecar.pid)],
  ].sort((a, b) => a[0] - b[0]);
  const results = {};
  for (const [at, name, run] of steps) {
    await sleep(Math.max(0, t0 + at - Date.now())); // a step that overran its successor's time
    results[name] = await run();
    log(`${name}: ${JSON.stringify(results[name], (k, v) => (k === 'answer' ? undefined : v))}`);
  }
  return results;
}

async function consumerInfo(jsm) {
  const info = await jsm.consumers.info(STREAM, DURABLE);
  return {
    pending: info.num_pending,
    ackPending: info.num_ack_pending,
    redelivered: info.num_redelivered,
    delivered: info.delivered.stream_seq,
    ackFloor: info.ack_floor.stream_seq,
  };
}

/**
 * Until nothing is left anywhere for 3 s in a row: the outbox, the stream's consumer and the
 * simulators' webhooks (an ack's webhook can still create a sync delivery).
 */
async function drain(sidecar, sandbox, jsm) {
  const started = Date.now();
  let calm = 0;
  while (Date.now() - started < DRAIN_TIMEOUT_MS) {
    await Promise.all([sandbox.pagerduty.webhooksIdle(), sandbox.opsgenie.webhooksIdle()]);
    const health = await sidecar.json('/api/v1/health');
    const consumer = await consumerInfo(jsm);
    const quiet = health.deliveries_pending === 0 && consumer.pending === 0 && consumer.ackPending === 0;
    calm = quiet ? calm + 1 : 0;
    if (calm >= 3) return { drained: true, ms: Date.now() - started, health, consumer };
    await sleep(1_000);
  }
  const health = await sidecar.json('/api/v1/health');
  return { drained: false, ms: Date.now() - started, health, consumer: await consumerInfo(jsm) };
}

/** What changes incident state: `r|fp` for a resolve, `p|fp` for a page, '' for neither. */
function verdictOf(decision) {
  if (decision.resolves !== null) return `r|${decision.resolves}`;
  return decision.paged ? `p|${decision.fingerprint}` : '';
}

async function verdictAt(input, policy, nowMs) {
  return verdictOf(await decideNow(input, policy, nowMs, NO_INCIDENTS));
}

/**
 * The incidents the published events must leave, by fingerprint, as the sidecar's model has it:
 * a page opens an incident unless its fingerprint is open; a resolve closes the open one. Each event
 * is decided at the time it was published; `timeSensitive` counts events whose verdict would change
 * within CLOCK_SLACK_MS of that (a business-hours edge), where the expectation may be off.
 */
async function expectedIncidents(policy, { seed, count, t0 }) {
  const byFp = new Map();
  let timeSensitive = 0;
  let i = 0;
  for (const line of eventLines({ count, seed, alerting: ALERTING_PCT })) {
    // This process hosts the simulators, which must keep answering meanwhile: frozen for the 13 s
    // this took, they timed out the sidecar's requests (an escalation tier falls due any time).
    if (i % 1_000 === 0) await new Promise((resolve) => setImmediate(resolve));
    const at = t0 + (i++ * 1000) / RATE;
    const input = eventToInput(parseEvent(Buffer.from(line)).value);
    const verdict = await verdictAt(input, policy, at);
    const early = await verdictAt(input, policy, at - CLOCK_SLACK_MS);
    const late = await verdictAt(input, policy, at + CLOCK_SLACK_MS);
    if (early !== verdict || late !== verdict) timeSensitive++;
    if (verdict === '') continue;
    const fp = verdict.slice(2);
    const entry = byFp.get(fp) ?? { opened: 0, open: false, lines: [] };
    byFp.set(fp, entry);
    // For the details file: each line that pages or resolves, by its own time (`p@…`, `r@…`).
    entry.lines.push(`${verdict[0]}@${input.event.timestamp}`);
    if (verdict[0] === 'r') entry.open = false;
    else if (!entry.open) Object.assign(entry, { opened: entry.opened + 1, open: true });
  }
  return { byFp, timeSensitive };
}

/** Every incident, through the API's pagination, each with its deliveries. */
async function allIncidents(sidecar) {
  const list = await incidentList(sidecar);
  const detailed = [];
  for (let i = 0; i < list.length; i += 8) {
    const batch = list.slice(i, i + 8).map((inc) => sidecar.json(`/api/v1/incidents/${inc.id}`));
    detailed.push(...(await Promise.all(batch)));
  }
  return detailed;
}

/** Every incident as the list shows it, through the API's pagination. */
async function incidentList(sidecar) {
  const list = [];
  let before = '';
  do {
    const page = await sidecar.json(`/api/v1/incidents?limit=500${before ? `&before=${before}` : ''}`);
    list.push(...page.incidents);
    before = page.next ?? '';
  } while (before);
  return list;
}

/** What the simulators hold, read at once: their incidents or alerts and their request logs. */
function providerSnapshot(sandbox) {
  return {
    pagerduty: { incidents: sandbox.pagerduty.incidents(), requests: sandbox.pagerduty.requests() },
    opsgenie: { alerts: sandbox.opsgenie.alerts(), requests: sandbox.opsgenie.requests() },
  };
}

/** Each incident's deliveries and their states, as one string to compare two reads by. */
function deliveryStates(incidents) {
  return incidents
    .map((inc) => `${inc.id}:${inc.deliveries.map((d) => `${d.id}=${d.status}`).join(',')}`)
    .sort()
    .join(';');
}

/**
 * The sidecar's incidents and the simulators' books as of one moment. The sidecar keeps working after
 * the drain (a flap damping release or an escalation tier falls due on its timer), and reading 1,000
 * incidents one by one takes seconds: a delivery made meanwhile would be in one side and not the
 * other. So: read the incidents, wait for quiet, read the simulators, read the incidents again; the
 * two reads of the incidents must agree, or it starts over.
 */
async function settledSnapshot(ctx) {
  for (let round = 1; ; round++) {
    const incidents = await allIncidents(ctx.sidecar);
    await drain(ctx.sidecar, ctx.sandbox, ctx.jsm);
    const providers = providerSnapshot(ctx.sandbox);
    const again = await allIncidents(ctx.sidecar);
    if (deliveryStates(again) === deliveryStates(incidents) || round === 5)
      return { incidents: again, providers, rounds: round };
    log(`deliveries changed while the incidents were read (round ${round}): reading again`);
  }
}

/** Expected vs found, per fingerprint: how many incidents, and whether the last one is open. */
/** A fingerprint's incidents, oldest first, as the details file shows them beside the expected lines. */
function foundTimeline(incidents, fp) {
  return incidents
    .filter((inc) => inc.fingerprint === fp)
    .sort((a, b) => Date.parse(a.opened_at) - Date.parse(b.opened_at))
    .map((inc) => ({
      id: inc.id,
      line: inc.event?.timestamp,
      opened_at: inc.opened_at,
      resolved_at: inc.resolved_at,
      recovery_line_at: inc.recovery_line_at ?? null,
      occurrences: inc.occurrences,
      timeline: inc.timeline?.map((e) => `${e.at.slice(11, 23)} ${e.type} ${e.actor ?? ''}`),
    }));
}

/**
 * The expected incidents (from the lines in order) that no found incident covers: one opened by a
 * line no newer than the expected one's recovery and resolved by a recovery line no older than it (or
 * both still open). Two replicas opening two failure lines at once make one incident, opened by
 * whichever line won the key's create, so the opening line may be a later one: up to FOLD_SLACK_MS
 * after the expected incident's recovery line (a failure, its recovery and the next failure within
 * milliseconds make one page instead of two). With several replicas, lines that came within milliseconds of each other can be applied out
 * of order (docs/nats.md, "Ordering and backpressure"), and an incident that opened and resolved
 * between two lines of its neighbour folds into that neighbour: its failure was paged, by the
 * neighbour. One no incident covers is a failure nobody was paged for.
 */
function uncoveredLives(lines, found) {
  const lives = [];
  for (const l of lines) {
    const [kind, at] = [l[0], l.slice(2)];
    const last = lives.at(-1);
    if (kind === 'p' && (last === undefined || last.to !== undefined)) lives.push({ from: at });
    else if (kind === 'r' && last !== undefined && last.to === undefined) last.to = at;
  }
  return lives.filter(
    (life) =>
      !found.some(
        (f) =>
          (life.to === undefined || Date.parse(f.line) <= Date.parse(life.to) + FOLD_SLACK_MS) &&
          (f.recovery_line_at === null
            ? f.resolved_at === null
            : life.to !== undefined && f.recovery_line_at >= life.to),
      ),
  );
}

function compareIncidents(expected, incidents) {
  const found = new Map();
  for (const inc of incidents) {
    const f = found.get(inc.fingerprint) ?? { opened: 0, open: 0 };
    f.opened++;
    if (inc.state !== 'resolved') f.open++;
    found.set(inc.fingerprint, f);
  }
  const mismatches = [];
  for (const fp of new Set([...expected.byFp.keys(), ...found.keys()])) {
    const e = expected.byFp.get(fp) ?? { opened: 0, open: false };
    const f = found.get(fp) ?? { opened: 0, open: 0 };
    if (e.opened !== f.opened || Number(e.open) !== f.open) {
      const timeline = foundTimeline(incidents, fp);
      const uncovered = uncoveredLives(e.lines ?? [], timeline);
      mismatches.push({ fp, expected: e, found: f, incidents: timeline, uncovered });
    }
  }
  const sum = (m, pick) => [...m.values()].reduce((n, v) => n + pick(v), 0);
  return {
    // Mismatches every expected incident of which a found one covers, and whose last is as open.
    folded: mismatches.filter((m) => m.uncovered.length === 0 && Number(m.expected.open) === m.found.open),
    expected: sum(expected.byFp, (e) => e.opened),
    expectedOpen: sum(expected.byFp, (e) => Number(e.open)),
    found: incidents.length,
    foundOpen: sum(found, (f) => f.open),
    mismatches,
  };
}

/**
 * Per incident and provider: the sidecar's trigger deliveries must all be done, or superseded
 * (resolved before it could be sent). Returns the done triggers counted by `provider|key`: an
 * incident's first at each provider in `sent` (it opens the provider's incident), the later ones of
 * its escalation tiers in `tiers`: PagerDuty folds them into the same incident (same `dedup_key`),
 * OpsGenie adds their responders to the open alert or folds a create by alias
 * (src/providers/opsgenie/opsgenie.ts); none of them opens a provider incident of its own.
 */
/**
 * What went to the same provider under the same key around a withdrawn trigger: the deliveries of
 * the key's incidents, oldest first, as `incident action status made→settled`, to tell a real wait
 * (an older delivery pending) from a slow outbox.
 */
function laneBefore(incidents, inc, d) {
  const provider = d.candidates[d.current];
  return incidents
    .toSorted((a, b) => Date.parse(a.opened_at) - Date.parse(b.opened_at))
    .filter((x) => Date.parse(x.opened_at) <= Date.parse(inc.opened_at))
    .slice(-3)
    .flatMap((x) =>
      x.deliveries
        .filter((y) => y.candidates[y.current] === provider)
        .map(
          (y) =>
            `${x.id === inc.id ? '*' : ''}${x.id.slice(-6)} ${y.action} ${y.status} ${y.created_at.slice(11, 23)}→${(y.done_at ?? y.updated_at).slice(11, 23)} a${y.attempts}`,
        ),
    );
}

function triggerLedger(incidents) {
  const sent = new Map();
  const tiers = new Map();
  const unsettled = [];
  const withdrawn = [];
  const byKey = new Map();
  for (const inc of incidents) byKey.set(inc.provider_key, [...(byKey.get(inc.provider_key) ?? []), inc]);
  for (const inc of incidents) {
    const triggers = inc.deliveries.filter((d) => d.action === 'trigger');
    if (triggers.length === 0) unsettled.push({ id: inc.id, why: 'no trigger delivery' });
    for (const d of triggers) {
      if (d.status === 'superseded') {
        // When each waited, for the details file: what withdrew it, how long after it was made.
        withdrawn.push({
          provider: d.candidates[d.current],
          created_at: d.created_at,
          waited_ms: Date.parse(d.updated_at) - Date.parse(d.created_at),
          attempts: d.attempts,
          last_error: d.last_error?.reason ?? null,
          incident: inc.id,
          key: inc.provider_key,
          lane: laneBefore(byKey.get(inc.provider_key), inc, d),
        });
      } else if (d.status !== 'done') unsettled.push({ id: inc.id, why: `trigger ${d.status}` });
    }
    for (const [provider, n] of doneTriggers(inc)) {
      const key = `${provider}|${inc.provider_key}`;
      sent.set(key, (sent.get(key) ?? 0) + 1);
      if (n > 1) tiers.set(key, (tiers.get(key) ?? 0) + n - 1);
    }
  }
  return { sent, tiers, unsettled, superseded: withdrawn.length, withdrawn };
}

/** An incident's done trigger deliveries, counted by the provider that took each. */
function doneTriggers(inc) {
  const byProvider = new Map();
  for (const d of inc.deliveries)
    if (d.action === 'trigger' && d.status === 'done')
      byProvider.set(d.result.provider, (byProvider.get(d.result.provider) ?? 0) + 1);
  return byProvider;
}

/** Provider incidents by key: how many, and how many triggers beyond the first were folded into them. */
function providerBook(records, keyOf, countOf) {
  const book = new Map();
  for (const r of records) {
    const b = book.get(keyOf(r)) ?? { n: 0, folded: 0 };
    b.n++;
    b.folded += countOf(r) - 1;
    book.set(keyOf(r), b);
  }
  return book;
}

/**
 * A trigger the provider took up to this long before the SIGKILL may have been in flight: taken,
 * but its outcome not yet written by the sidecar (an attempt times out after 5 s by default).
 */
const IN_FLIGHT_MS = 10_000;

/**
 * The simulator's accepted trigger requests (PagerDuty `trigger`, OpsGenie `create`) by provider
 * key, oldest first: when, and for which of our incidents (the `incident_id` both carry in their
 * details).
 */
function acceptedTriggers(requests, action, keyOf, incidentOf) {
  const byKey = new Map();
  for (const r of requests) {
    if (r.action !== action || r.status === null || r.status >= 300) continue;
    const key = keyOf(r.body);
    if (typeof key !== 'string') continue;
    const list = byKey.get(key) ?? [];
    list.push({ at: Date.parse(r.at), incident: incidentOf(r.body) ?? null });
    byKey.set(key, list);
  }
  return byKey;
}

/**
 * Of a key's extra trigger requests, those our at-least-once re-sends explain: an incident whose
 * trigger the provider took more often than the sidecar recorded it done. Either it was in flight
 * at the SIGKILL (taken in the `IN_FLIGHT_MS` before it and again after: the restarted process sent
 * it again, its outcome never written), or an attempt the sidecar gave up on (timed out) was taken
 * after all beside its retry. Same `dedup_key` or alias: the provider folds it, nobody is paged twice
 * (docs/architecture.md, "The outbox"). A trigger of another incident folded into the key's provider
 * incident is not explained here: that is a double (or an order broken between incidents).
 */
function resends(accepted, incidents, provider, killedAtMs) {
  const byIncident = new Map();
  for (const { at, incident } of accepted) {
    if (incident === null) continue;
    byIncident.set(incident, [...(byIncident.get(incident) ?? []), at]);
  }
  let total = 0;
  let afterKill = 0;
  for (const [id, times] of byIncident) {
    const inc = incidents.find((x) => x.id === id);
    const done = inc === undefined ? 0 : (doneTriggers(inc).get(provider) ?? 0);
    const excess = Math.max(0, times.length - done);
    if (excess === 0) continue;
    total += excess;
    const inFlight = times.some((t) => t < killedAtMs && t >= killedAtMs - IN_FLIGHT_MS);
    if (inFlight && times.some((t) => t >= killedAtMs)) afterKill += excess;
  }
  return { total, afterKill };
}

/**
 * Done triggers vs what each simulator recorded: fewer = lost; more or folded = doubled, except
 * those our at-least-once re-sends explain (`resends`), counted apart.
 */
function compareDeliveries(ledger, providers, incidents, killedAtMs) {
  const books = {
    pagerduty: providerBook(
      providers.pagerduty.incidents,
      (i) => i.dedupKey,
      (i) => i.alertCount,
    ),
    opsgenie: providerBook(
      providers.opsgenie.alerts,
      (a) => a.alias,
      (a) => a.count,
    ),
  };
  const accepted = {
    pagerduty: acceptedTriggers(
      providers.pagerduty.requests,
      'trigger',
      (b) => b?.dedup_key,
      (b) => b?.payload?.custom_details?.incident_id,
    ),
    opsgenie: acceptedTriggers(
      providers.opsgenie.requests,
      'create',
      (b) => b?.alias,
      (b) => b?.details?.incident_id,
    ),
  };
  const out = {};
  for (const [provider, book] of Object.entries(books)) {
    let sent = 0;
    let lost = 0;
    let doubled = 0;
    let resent = 0;
    let killResent = 0;
    let received = 0;
    const extras = [];
    for (const [key, n] of ledger.sent) if (key.startsWith(`${provider}|`)) sent += n;
    for (const [key, n] of ledger.sent) {
      if (!key.startsWith(`${provider}|`)) continue;
      const b = book.get(key.slice(provider.length + 1)) ?? { n: 0, folded: 0 };
      lost += Math.max(0, n - b.n);
    }
    for (const [key, b] of book) {
      const n = ledger.sent.get(`${provider}|${key}`) ?? 0;
      received += b.n + b.folded;
      // A later tier's trigger may be folded into the incident it escalates: not a double.
      const extra =
        Math.max(0, b.n - n) + Math.max(0, b.folded - (ledger.tiers.get(`${provider}|${key}`) ?? 0));
      if (extra === 0) continue;
      const taken = accepted[provider].get(key) ?? [];
      const explained = resends(taken, incidents, provider, killedAtMs);
      const again = Math.min(extra, explained.total);
      killResent += Math.min(again, explained.afterKill);
      resent += again;
      doubled += extra - again;
      // The evidence for whoever reads the details file: the requests and our incidents of the key.
      extras.push({
        key,
        extra,
        resent: again,
        accepted: taken.map((t) => `${new Date(t.at).toISOString()} ${t.incident}`),
        incidents: incidents.filter((inc) => inc.provider_key === key).map(incidentEvidence),
      });
    }
    out[provider] = { sent, received, lost, doubled, resent, afterKill: killResent, extras };
  }
  return out;
}

/** An incident's state and deliveries, as the details file keeps them for a key that did not add up. */
function incidentEvidence(inc) {
  const deliveries = inc.deliveries.map((d) => ({
    id: d.id,
    action: d.action,
    status: d.status,
    provider: d.result?.provider ?? null,
    attempts: d.attempts,
    created_at: d.created_at,
    done_at: d.done_at ?? null,
  }));
  const timeline = inc.timeline?.map((e) => `${e.at} ${e.type}: ${e.message}`);
  return {
    id: inc.id,
    state: inc.state,
    opened_at: inc.opened_at,
    resolved_at: inc.resolved_at,
    deliveries,
    timeline,
  };
}

/** Open at the provider vs open here: a resolve that never arrived leaves a provider incident open. */
function compareOpenAtProviders(incidents, providers) {
  const openHere = { pagerduty: 0, opsgenie: 0 };
  for (const inc of incidents) {
    if (inc.state === 'resolved') continue;
    // Its tiers' later triggers open nothing more at a provider.
    for (const provider of doneTriggers(inc).keys()) openHere[provider]++;
  }
  return {
    pagerduty: {
      here: openHere.pagerduty,
      there: providers.pagerduty.incidents.filter((i) => i.status !== 'resolved').length,
    },
    opsgenie: {
      here: openHere.opsgenie,
      there: providers.opsgenie.alerts.filter((a) => a.status !== 'closed').length,
    },
  };
}

/**
 * The acknowledgements made in the PagerDuty simulator: did the sidecar take them (acknowledged,
 * or already resolved when the webhook came), and, for incidents also at OpsGenie, did the sync
 * reach it (an acknowledge delivery to OpsGenie done)?
 */
function followedAcks(acks, incidents) {
  const byPdId = new Map(incidents.map((inc) => [inc.holds?.pagerduty?.external_id, inc]));
  const r = {
    clicked: acks.acked.length,
    acknowledged: 0,
    resolvedFirst: 0,
    unmatched: 0,
    toSync: 0,
    synced: 0,
    // For the details file: each ack no incident holds, with the incidents of its key.
    unmatchedEvidence: [],
  };
  for (const ack of acks.acked) {
    const inc = byPdId.get(ack.id);
    if (inc === undefined) {
      r.unmatched++;
      r.unmatchedEvidence.push({
        ...ack,
        incidents: incidents
          .filter((i) => i.provider_key === ack.dedupKey)
          .map((i) => ({ ...incidentEvidence(i), holds: i.holds })),
      });
      continue;
    }
    if (inc.acknowledged_at === null) {
      r.resolvedFirst++;
      continue;
    }
    r.acknowledged++;
    const has = (action, provider, status) =>
      inc.deliveries.some(
        (d) => d.action === action && d.result?.provider === provider && d.status === status,
      );
    if (!has('trigger', 'opsgenie', 'done')) continue;
    r.toSync++;
    if (has('acknowledge', 'opsgenie', 'done')) r.synced++;
  }
  return r;
}

/**
 * Event-loop lag over the sampled intervals (each p99 covers one interval), start-up intervals
 * apart: loading the code and the policy blocks the loop by design.
 */
function lagSummary(samples) {
  const steady = samples.filter((s) => !s.startup);
  const p99s = steady.map((s) => s.lagP99Ms);
  const worst = steady.reduce((w, s) => (s.lagP99Ms > (w?.lagP99Ms ?? -1) ? s : w), null);
  return {
    medianP99: median(p99s),
    worstP99: worst?.lagP99Ms ?? NaN,
    worstAt: worst?.t ?? NaN,
    max: Math.max(...steady.map((s) => s.lagMaxMs)),
    startupMax: Math.max(...samples.filter((s) => s.startup).map((s) => s.lagMaxMs)),
  };
}

const mb = (x) => `${Math.round(x)} MB`;
const row = (figure, measured, expected, ok) => ({ figure, measured, expected, ok });

/**
 * The restarted process receives what is after the first process's acks: the stream's messages
 * it never delivered, plus those it delivered and did not ack (redelivered after ack_wait).
 */
function eventRows(r) {
  if (r.replicas > 1) return replicaEventRows(r);
  const k = r.kill.atKill;
  const secondExpected = r.published - k.delivered + k.ackPending;
  return [
    row('events published (stream messages)', fmt(r.published), fmt(r.count), pass(r.published === r.count)),
    row(
      'events counted by the sidecar: first process (last read before the kill) / delivered to it',
      `${fmt(r.kill.receivedBefore)} / ${fmt(k.delivered)}`,
      'reported',
      '',
    ),
    row(
      'unacked at the kill (redelivered after ack_wait, behind newer events)',
      fmt(k.ackPending),
      'reported',
      '',
    ),
    row(
      'events counted by the restarted process',
      fmt(r.receivedAfter),
      `${fmt(secondExpected)} (published − delivered + unacked)`,
      pass(r.receivedAfter === secondExpected),
    ),
    row('dead-lettered', String(r.dlq), '0', pass(r.dlq === 0)),
  ];
}

/**
 * Several replicas share the consumer, so no one process's count adds up to anything: every event
 * must have been acked (the consumer's ack floor at the last message), and the processes' counts
 * add up to at least that (more by what was redelivered after the SIGKILL).
 */
function replicaEventRows(r) {
  const counted = r.kill.receivedBefore + r.receivedAfter + r.othersReceived;
  const floor = r.drain.consumer.ackFloor;
  return [
    row('events published (stream messages)', fmt(r.published), fmt(r.count), pass(r.published === r.count)),
    row(
      `events acked by the ${r.replicas} replicas (the consumer's ack floor)`,
      fmt(floor),
      fmt(r.published),
      pass(floor === r.published),
    ),
    row(
      'events counted by the replicas (the killed one before and after, the others)',
      `${fmt(counted)} (${fmt(r.kill.receivedBefore)} + ${fmt(r.receivedAfter)} + ${fmt(r.othersReceived)})`,
      `≥ ${fmt(r.published)}, less what the killed process counted after its last sample`,
      '',
    ),
    row('unacked at the kill (redelivered after ack_wait)', fmt(r.kill.atKill.ackPending), 'reported', ''),
    row('dead-lettered', String(r.dlq), '0', pass(r.dlq === 0)),
  ];
}

/** Every replica lists the same incidents (ids), as the one read in full. */
async function sameOnEveryReplica(ctx, incidents) {
  const ids = incidents
    .map((i) => i.id)
    .sort()
    .join(',');
  const differ = [];
  for (const other of ctx.others) {
    const list = (await incidentList(other)).map((i) => i.id);
    if (list.sort().join(',') !== ids) differ.push(other.base);
  }
  return differ;
}

/** Fingerprints that fail: any mismatch with one process; with replicas, one not merely folded. */
function badFingerprints(r) {
  const c = r.incidents;
  return r.replicas > 1 ? c.mismatches.filter((m) => !c.folded.includes(m)) : c.mismatches;
}

function incidentRows(r) {
  const c = r.incidents;
  const bad = badFingerprints(r);
  const shown = c.mismatches.slice(0, 3).map((m) => `${m.fp} ${m.expected.opened}→${m.found.opened}`);
  const foldedLives = c.folded.reduce((n, m) => n + m.expected.opened - m.found.opened, 0);
  return [
    row(
      'incidents: expected vs found (open / resolved)',
      `${fmt(c.found)} (${c.foundOpen} open / ${fmt(c.found - c.foundOpen)} resolved)`,
      `${fmt(c.expected)} (${c.expectedOpen} open / ${fmt(c.expected - c.expectedOpen)} resolved)`,
      pass(bad.length === 0),
    ),
    row(
      'fingerprints whose incidents differ from expected',
      `${c.mismatches.length}${shown.length ? ` (${shown.join(', ')})` : ''}`,
      `0 (${fmt(r.expected.timeSensitive)} time-sensitive events)${r.replicas > 1 ? ', or folded' : ''}`,
      r.replicas > 1 ? '' : pass(c.mismatches.length === 0),
    ),
    ...(r.replicas > 1
      ? [
          row(
            '  of which every expected incident is covered by a found one (folded by lines out of order)',
            `${c.folded.length} (${foldedLives} incidents folded into a neighbour)`,
            `all: ${c.mismatches.length}`,
            pass(bad.length === 0),
          ),
        ]
      : []),
    row(
      'lines out of order (since the restart): stale recoveries / late failures / overtaken failures',
      `${r.ordering.stale} / ${r.ordering.late} / ${r.ordering.overtaken}`,
      'reported',
      '',
    ),
    ...(r.replicas > 1
      ? [
          row(
            "replicas whose incident list differs from the first one's",
            String(r.replicasDiffer.length),
            '0',
            pass(r.replicasDiffer.length === 0),
          ),
        ]
      : []),
  ];
}

function deliveryRows(r) {
  const rows = Object.entries(r.deliveries).map(([provider, d]) =>
    row(
      `${provider}: trigger requests accepted vs triggers done (lost, doubled; re-sent, folded there)`,
      `${fmt(d.received)} (lost ${d.lost}, doubled ${d.doubled}; re-sent ${d.resent}, ${d.afterKill} after the SIGKILL)`,
      `${fmt(d.sent)} (0, 0)`,
      pass(d.lost === 0 && d.doubled === 0),
    ),
  );
  const u = r.ledger.unsettled;
  rows.push(
    row(
      'triggers neither done nor superseded',
      `${u.length}${
        u.length
          ? ` (${u
              .slice(0, 2)
              .map((x) => x.why)
              .join(', ')})`
          : ''
      }; ${r.ledger.superseded} superseded`,
      '0',
      pass(u.length === 0),
    ),
  );
  for (const [provider, o] of Object.entries(r.openAtProviders))
    rows.push(
      row(`${provider}: open there vs open here`, fmt(o.there), fmt(o.here), pass(o.there === o.here)),
    );
  return rows;
}

/** The outbox during the outage: its peak, and how soon after the recovery it was empty (sampled). */
function outageFigures(samples, plan) {
  const start = plan.outageAt / 1000;
  const end = (plan.outageAt + plan.outageMs) / 1000;
  const during = samples.filter((s) => s.t >= start && s.t <= end + 5);
  const emptyAt = samples.find((s) => s.t >= end && s.pending === 0)?.t;
  return {
    peak: Math.max(0, ...during.map((s) => s.pending)),
    emptyAfter: emptyAt === undefined ? '—' : `≤ ${Math.round(emptyAt - end)}`,
  };
}

function disturbanceRows(r) {
  const a = r.acks;
  const k = r.scenario.kill;
  const o = { ...r.scenario.outage, ...outageFigures(r.samples, r.plan) };
  return [
    row(
      'PagerDuty UI acks: taken by the sidecar (acknowledged + already resolved)',
      `${a.acknowledged + a.resolvedFirst} (${a.acknowledged} + ${a.resolvedFirst}) of ${a.clicked}`,
      String(a.clicked),
      pass(a.unmatched === 0),
    ),
    row(
      '  acknowledged and at OpsGenie: OpsGenie synced',
      `${a.synced} of ${a.toSync}`,
      String(a.toSync),
      pass(a.synced === a.toSync),
    ),
    row(
      'policy reload (POST /api/v1/policy/reload)',
      `${r.scenario.reload.before} → ${r.scenario.reload.after}; ${r.underReload} incidents opened under it`,
      'new version active',
      pass(r.scenario.reload.ok && r.underReload > 0),
    ),
    row(
      `PagerDuty outage (${Math.round(r.plan.outageMs / 1000)} s of 503)`,
      `${o.refused} requests refused, breaker ${o.breakerAtEnd}; outbox peak ${o.peak}, empty ${o.emptyAfter} s after`,
      'reported',
      '',
    ),
    row('SIGKILL at 2/3 + restart', `down ${(k.downMs / 1000).toFixed(1)} s`, 'reported', ''),
  ];
}

function pendingRows(r) {
  const d = r.drain;
  return [
    row(
      'nothing pending: deliveries / JetStream num_pending + num_ack_pending',
      `${d.health.deliveries_pending} / ${d.consumer.pending} + ${d.consumer.ackPending}`,
      '0 / 0 + 0',
      pass(d.drained),
    ),
    row(
      'drain after the last event',
      `${(d.ms / 1000).toFixed(0)} s`,
      `< ${DRAIN_TIMEOUT_MS / 60_000} min`,
      pass(d.drained),
    ),
  ];
}

function resourceRows(r) {
  const s = r.scenario;
  const endVsMiddle = r.rssEnd / s.rssMiddle - 1;
  const killVsMiddle = s.kill.rssBefore / s.rssMiddle - 1;
  const pct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
  const lag = lagSummary(r.samples);
  return [
    row(
      'sidecar RSS: start (warm) / middle / before kill',
      `${mb(s.rssStart)} / ${mb(s.rssMiddle)} / ${mb(s.kill.rssBefore)}`,
      'reported',
      '',
    ),
    row(
      'sidecar RSS after restart: warm / end of load / drained',
      `${mb(s.rssRestarted)} / ${mb(r.rssEnd)} / ${mb(r.rssDrained)}`,
      'reported',
      '',
    ),
    row(
      'RSS flat: end vs middle (before kill vs middle)',
      `${pct(endVsMiddle)} (${pct(killVsMiddle)})`,
      'within ±10%',
      pass(Math.abs(endVsMiddle) <= 0.1),
    ),
    row(
      `event-loop lag p99 per ${SAMPLE_MS / 1000} s interval: median / max (at)`,
      `${lag.medianP99.toFixed(1)} / ${lag.worstP99.toFixed(1)} ms (${lag.worstAt} s)`,
      'reported',
      '',
    ),
    row(
      'event-loop lag max: steady / in the two start-up intervals',
      `${lag.max.toFixed(1)} / ${lag.startupMax.toFixed(0)} ms`,
      'reported',
      '',
    ),
  ];
}

/** Lost or doubled anywhere, or something left pending: the run fails. */
function failures(r) {
  const list = [];
  if (r.published !== r.count) list.push('not every event was published');
  if (r.replicas > 1 && r.drain.consumer.ackFloor !== r.published) list.push('not every event was acked');
  if (r.replicas > 1 && r.replicasDiffer.length > 0) list.push('replicas list different incidents');
  if (r.dlq > 0) list.push(`${r.dlq} dead letters`);
  const bad = badFingerprints(r);
  if (bad.length > 0) list.push(`${bad.length} fingerprints differ`);
  for (const [p, d] of Object.entries(r.deliveries)) {
    if (d.lost > 0) list.push(`${d.lost} ${p} triggers lost`);
    if (d.doubled > 0) list.push(`${d.doubled} ${p} triggers doubled`);
  }
  if (r.ledger.unsettled.length > 0) list.push(`${r.ledger.unsettled.length} triggers unsettled`);
  for (const [p, o] of Object.entries(r.openAtProviders))
    if (o.there !== o.here) list.push(`${p} open ${o.there} vs ${o.here}`);
  if (r.acks.unmatched > 0) list.push(`${r.acks.unmatched} PagerDuty acks matched no incident`);
  if (!r.drain.drained) list.push('not drained');
  return list;
}

function printReport(r) {
  table(
    `Soak: ${r.minutes} min, ${fmt(RATE)} events/s, JetStream input, ${r.state} state${
      r.replicas > 1 ? `, ${r.replicas} replicas (the first SIGKILLed)` : ''
    }${r.natsNodes > 1 ? `, ${r.natsNodes} nats-servers (R${r.natsNodes})` : ''}, outage + reload + SIGKILL`,
    [
      ...eventRows(r),
      ...incidentRows(r),
      ...deliveryRows(r),
      ...disturbanceRows(r),
      ...pendingRows(r),
      ...resourceRows(r),
    ],
  );
}

/** Everything the run needs, started in order; `stop` undoes it. */
async function setUp(args) {
  const server = args.natsNodes === 1 ? await startNatsServer() : await startNatsCluster(args.natsNodes);
  const sandbox = await startSimulators();
  const root = await mkdtemp(join(tmpdir(), 'ir-soak-'));
  const policy = await preparePolicyDir(root);
  const nc = await connect({ servers: server.url });
  const jsm = await jetstreamManager(nc);
  await createStream(jsm, args.natsNodes);
  const dlq = countDeadLetters(nc);
  const replicas = [];
  for (let i = 0; i < args.replicas; i++) {
    const env = sidecarEnv({
      port: await freePort(),
      policyDir: policy.dir,
      dataDir: join(root, i === 0 ? 'data' : `data-${i}`),
      natsUrl: server.urls,
      sandbox,
      state: args.state,
      natsNodes: args.natsNodes,
    });
    replicas.push(sidecarProcess(env, join(root, i === 0 ? 'sidecar.log' : `sidecar-${i}.log`)));
  }
  const front = replicas.length > 1 ? await roundRobin(replicas.map((r) => r.base)) : null;
  configureWebhooks(sandbox, front?.base ?? replicas[0].base);
  for (const r of replicas) await r.start();
  await waitForConsumer(jsm);
  const [sidecar, ...others] = replicas;
  const stop = async () => {
    await Promise.all(replicas.map((r) => r.signal('SIGTERM').catch(() => undefined)));
    await front?.close();
    await nc.close();
    await sandbox.stop();
    await server.stop();
    if (!args.keep) await rm(root, { recursive: true, force: true });
  };
  return { server, sandbox, root, policy, nc, jsm, dlq, sidecar, others, stop };
}

/** The publisher, the sampler and the human acknowledging in PagerDuty, all from t0. */
async function startLoad(ctx, args) {
  const count = Math.round(args.minutes * 60 * RATE);
  const pub = await publisher([
    ...[ctx.server.url, SUBJECT, 'gen', String(count), '--rate', String(RATE)],
    ...['--seed', String(args.seed), '--alerting', String(ALERTING_PCT), '--jetstream'],
  ]);
  pub.go();
  const t0 = Date.now();
  const running = { publishing: true };
  return {
    count,
    t0,
    pub,
    running,
    plan: planFor((count / RATE) * 1000),
    sampler: startSampler(ctx.sidecar, ctx.jsm, t0),
    acks: ackLoop(ctx.sandbox, () => running.publishing),
  };
}

/** The load and its disturbances, until the publisher is done; then the drain. */
async function runLoad(ctx, args) {
  const { count, plan, t0, sampler, ...load } = await startLoad(ctx, args);
  const scenario = await runScenario({ ...ctx, plan, t0, sampler, policyDir: ctx.policy.dir });
  log((await load.pub.done).trim().split('\n').at(-1));
  load.running.publishing = false;
  const rssEnd = await rssMb(ctx.sidecar.pid);
  const drained = await drain(ctx.sidecar, ctx.sandbox, ctx.jsm);
  log(`drain: ${JSON.stringify({ drained: drained.drained, ms: drained.ms, consumer: drained.consumer })}`);
  const last = await sampler.take();
  await sampler.stop();
  const acks = await load.acks;
  return { count, plan, t0, scenario, acks, rssEnd, drain: drained, last, samples: sampler.samples };
}

/** After the drain: what the stream, the sidecar and the simulators hold, against the expectation. */
async function verify(ctx, args, load) {
  const stream = await ctx.jsm.streams.info(STREAM);
  log('computing the expected incidents');
  const expected = await expectedIncidents(ctx.policy.compiled, {
    seed: args.seed,
    count: load.count,
    t0: load.t0,
  });
  const { incidents, providers, rounds } = await settledSnapshot(ctx);
  const ledger = triggerLedger(incidents);
  const othersText = await Promise.all(ctx.others.map(async (o) => (await o.request('/metrics')).text()));
  const allText = [await (await ctx.sidecar.request('/metrics')).text(), ...othersText];
  const counted = (name) => allText.reduce((n, t) => n + metricSum(t, name), 0);
  return {
    ...load,
    minutes: args.minutes,
    state: args.state,
    replicas: args.replicas,
    natsNodes: args.natsNodes,
    othersReceived: othersText.reduce((n, t) => n + metricSum(t, 'incident_router_events_received_total'), 0),
    replicasDiffer: await sameOnEveryReplica(ctx, incidents),
    // Lines out of order, as the running processes counted them (the killed one's first life lost).
    ordering: {
      stale: counted('incident_router_stale_resolves_total'),
      late: counted('incident_router_late_failures_total'),
      overtaken: counted('incident_router_overtaken_lines_total'),
    },
    published: stream.state.messages,
    receivedAfter: load.last?.received ?? NaN,
    rssDrained: load.last?.rssMb ?? NaN,
    dlq: ctx.dlq.n,
    expected,
    incidents: compareIncidents(expected, incidents),
    ledger,
    snapshotRounds: rounds,
    deliveries: compareDeliveries(ledger, providers, incidents, load.scenario.kill?.killedAtMs),
    openAtProviders: compareOpenAtProviders(incidents, providers),
    acks: followedAcks(load.acks, incidents),
    kill: load.scenario.kill,
    underReload: incidents.filter((i) => i.policy.version === load.scenario.reload.after).length,
  };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const ctx = await setUp(args);
  for (const r of [ctx.sidecar, ...ctx.others]) log(`sidecar pid ${r.pid}, ${r.base}, log ${r.logPath}`);
  let failed = ['did not finish'];
  try {
    const load = await runLoad(ctx, args);
    const result = await verify(ctx, args, load);
    const evidence = join(tmpdir(), `ir-soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await writeFile(
      evidence,
      JSON.stringify({ ...result, expected: undefined, samples: load.samples }, null, 1),
    );
    printReport(result);
    failed = failures(result);
    console.log(
      `\n${failed.length === 0 ? 'PASS' : `FAIL: ${failed.join('; ')}`} · samples and details: ${evidence}`,
    );
  } finally {
    if (args.keep) log(`kept ${ctx.root}`);
    await ctx.stop();
  }
  process.exit(failed.length === 0 ? 0 : 1);
}

// Run only as a script: importing the module (its helpers) must not start a ten-minute soak.
if (import.meta.url === `file://${process.argv[1]}`) await main();
