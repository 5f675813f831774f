// Cluster mode (issue 12): sidecar processes (the built `serve`) with their state in NATS
// JetStream, against in-process provider simulators, every figure measured in this run:
//   1. events/s through one sidecar with JetStream state (R1) against the same sidecar with
//      LevelDB: the generator's 3%-paging mix over core NATS, as bench/nats.mjs's core row;
//   2. new incidents/s delivered to both simulators: R1 with one sidecar, R3 (a 3-node
//      nats-server cluster) with one and with three sidecars; LevelDB with one sidecar is the
//      ceiling;
//   3. publish → simulator received, p50 and p99, at 1,000 events/s (10% paging) through three
//      sidecars on the 3-node cluster, as bench/nats.mjs's latency row measures it.
// Run alone: `node --expose-gc bench/run.mjs cluster`. Each phase prints its figures on stderr.
import { loadavg } from 'node:os';
import { startSandbox } from '../dist/sandbox/index.js';
import { fmt, pass, sleep, table } from './lib.mjs';
import { latencySamples, progress, spawnSidecar, until } from './nats.mjs';
import { startSandboxProcess } from './sandbox-process.mjs';
import { startNatsCluster, startNatsServer } from './nats-server.mjs';
import { publisher } from './publish.mjs';

/** A phase's start on stderr: the R3 phases take minutes each. */
const starting = (label) => console.error(`  ${label} …`);
const sumOf = (xs) => xs.reduce((a, b) => a + b, 0);

/**
 * Processes this benchmark started and has not stopped yet (nats-servers, sidecars). A failing
 * phase stops its own in `finally`; this is for the rest: an exit by an uncaught error or a signal
 * would otherwise leave them running.
 */
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

/** Keeps `handle`'s processes in `live` until its `stop` has run. */
function tracked(handle) {
  const pids = handle.pids ?? [handle.pid];
  for (const pid of pids) live.add(pid);
  return {
    ...handle,
    stop: async () => {
      try {
        await handle.stop();
      } finally {
        for (const pid of pids) live.delete(pid);
      }
    },
  };
}

/** Runs `fn` with a fresh nats-server (size 1) or a fresh cluster of `size` nodes, then stops it. */
async function withNats(size, fn) {
  const nats = tracked(size === 1 ? await startNatsServer() : await startNatsCluster(size));
  try {
    return await fn(nats);
  } finally {
    await nats.stop();
  }
}

let clusters = 0;

/**
 * `count` sidecar processes on core NATS `subject` (one queue group), LevelDB or JetStream state
 * with `replicas` copies of each bucket. Each cluster gets a new CLUSTER_NAME: no state is shared
 * between measurements. The simulators' webhooks go to the last one started.
 */
async function startSidecars(
  nats,
  sandbox,
  { count, state, replicas = 1, subject, maxPending = '10000', echo = true },
) {
  const cluster = {
    STATE: 'jetstream',
    CLUSTER_NAME: `bench${++clusters}`,
    CLUSTER_REPLICAS: String(replicas),
  };
  const sidecars = [];
  try {
    for (let i = 0; i < count; i++) {
      const env = state === 'jetstream' ? { ...cluster, REPLICA_NAME: `r${i}` } : {};
      sidecars.push(tracked(await spawnSidecar(nats.urls, sandbox, { subject, maxPending, echo, env })));
    }
  } catch (err) {
    await Promise.all(sidecars.map((s) => s.stop()));
    throw err;
  }
  await sleep(200); // the queue subscriptions reach every server of the cluster
  return {
    /** A metric summed over every label set and every sidecar. */
    sum: async (name) => sumOf(await Promise.all(sidecars.map((s) => s.metricSum(name)))),
    /** A metric summed over every sidecar, by the value of one of its labels. */
    byLabel: async (name, label) => {
      const out = {};
      for (const each of await Promise.all(sidecars.map((s) => s.metricByLabel(name, label))))
        for (const [value, n] of Object.entries(each)) out[value] = (out[value] ?? 0) + n;
      return out;
    },
    stop: () => Promise.all(sidecars.map((s) => s.stop())),
  };
}

/**
 * Row 1: `n` events of the generator's mix (3% paging, seed 1) through one sidecar, published as
 * fast as the publisher process goes. The queue holds all `n`, so nothing should drop; drops are
 * counted and reported all the same. Timed until every event is decided, polled every 100 ms
 * (a /metrics scrape costs the sidecar about a millisecond).
 */
async function eventsThrough(nats, sandbox, state, n) {
  const side = await startSidecars(nats, sandbox, {
    count: 1,
    state,
    subject: 'ev.>',
    maxPending: String(n),
  });
  try {
    const pub = await publisher([nats.url, 'ev.gen', 'gen', String(n), '--alerting', '3', '--seed', '1']);
    const t = performance.now();
    pub.go();
    const [decided, ms] = await until(() => side.sum('incident_router_decisions_total'), n, t, 5_000, 100);
    await pub.done;
    const dropped = await side.sum('incident_router_events_dropped_total');
    return { perSecond: (decided / ms) * 1000, decided, dropped };
  } finally {
    await side.stop();
  }
}

/**
 * Row 1 in `rounds` rounds of LevelDB then JetStream, back to back on one nats-server: the round
 * with the median ratio, and every round's ratio (on two cores the publisher's pace moves a single
 * figure by ±20%, see bench/nats.mjs's core row).
 */
async function eventsRounds(sandbox, n, rounds = 3) {
  return withNats(1, async (nats) => {
    const all = [];
    for (let r = 0; r < rounds; r++) {
      starting(`events, round ${r + 1} of ${rounds}`);
      const leveldb = progress('events, LevelDB', await eventsThrough(nats, sandbox, 'leveldb', n));
      const js = progress('events, JetStream R1', await eventsThrough(nats, sandbox, 'jetstream', n));
      all.push({ leveldb, js, ratio: js.perSecond / leveldb.perSecond });
    }
    const sorted = [...all].sort((a, b) => a.ratio - b.ratio);
    return { ...sorted[Math.floor(rounds / 2)], ratios: all.map((r) => r.ratio) };
  });
}

/** What the simulators were asked: every request, and those not answered 2xx (throttled, refused, failed). */
function requestsSeen(sandbox) {
  const all = [...sandbox.pagerduty.requests(), ...sandbox.opsgenie.requests()];
  const accepted = all.filter((r) => r.status !== null && r.status >= 200 && r.status < 300);
  return {
    requests: all.length,
    notAccepted: all.length - accepted.length,
    lastAcceptedMs: accepted.reduce((last, r) => Math.max(last, Date.parse(r.at)), 0),
  };
}

/**
 * Row 2: `n` new incidents (bench/publisher.mjs `paging`: distinct services, a database connection
 * refused, which the shipped policy sends to both providers), published at once over core NATS;
 * timed from the publish until the last request that either simulator accepted, once both hold
 * all `n`. The simulators are polled every 250 ms for their counts (`incidents()` would copy the
 * whole book each time: 8 s of this process's CPU in a three-sidecar run, on the cores it measures).
 */
async function incidentsDelivered(nats, sandbox, { state, replicas = 1, sidecars = 1, echo = true, n }) {
  const side = await startSidecars(nats, sandbox, {
    ...{ count: sidecars, state, replicas, subject: 'inc.>', maxPending: String(n), echo },
  });
  try {
    const pub = await publisher([nats.url, 'inc.new', 'paging', String(n)]);
    const held = async () => Math.min(sandbox.pagerduty.incidentCount(), sandbox.opsgenie.alertCount());
    const t0 = Date.now();
    pub.go();
    const [incidents] = await until(held, n, performance.now(), 60_000, 250);
    await pub.done;
    const seen = requestsSeen(sandbox);
    const seconds = (seen.lastAcceptedMs - t0) / 1000;
    await webhooksSettled(sandbox);
    const webhooks = await side.sum('incident_router_webhooks_total');
    const webhookResults = await side.byLabel('incident_router_webhooks_total', 'result');
    const claimsLost = await side.sum('incident_router_cluster_claims_lost_total');
    return {
      perSecond: incidents / seconds,
      incidents,
      seconds,
      ...seen,
      webhooks,
      webhookResults,
      claimsLost,
    };
  } finally {
    await side.stop();
  }
}

/**
 * The simulators send a webhook back for every incident (as the real providers do when
 * subscribed); they are part of the sidecars' load but not of the figure. Waiting for the last of
 * them (at most 20 s) leaves the next phase a quiet machine.
 */
async function webhooksSettled(sandbox) {
  const idle = Promise.all([sandbox.pagerduty.webhooksIdle(), sandbox.opsgenie.webhooksIdle()]);
  await Promise.race([idle, sleep(20_000)]);
}

/**
 * Row 2 in its configurations, each on a fresh nats-server or cluster. R1 also runs once without
 * the simulators' webhooks: how much of a sidecar's work per incident they are.
 */
async function incidentRuns(sandbox, n, only = null) {
  const configurations = {
    'LevelDB, 1 sidecar': [1, { state: 'leveldb' }],
    'R1, 1 sidecar': [1, { state: 'jetstream' }],
    'R1, 1 sidecar, no webhooks': [1, { state: 'jetstream', echo: false }],
    'R3, 1 sidecar': [3, { state: 'jetstream', replicas: 3 }],
    'R3, 3 sidecars': [3, { state: 'jetstream', replicas: 3, sidecars: 3 }],
  };
  const runs = {};
  for (const [label, [size, options]] of Object.entries(configurations)) {
    if (only !== null && !label.toLowerCase().startsWith(only.toLowerCase())) continue;
    starting(`incidents, ${label}`);
    runs[label] = await withNats(size, async (nats) =>
      progress(`incidents, ${label}`, await incidentsDelivered(nats, sandbox, { ...options, n })),
    );
  }
  return runs;
}

/**
 * Row 3: three sidecars sharing an R3 cluster and one core NATS queue group, 1,000 events/s of
 * which 10% page, publish → simulator received (bench/nats.mjs `latencySamples`). `rounds` runs,
 * each on a fresh cluster with fresh sidecars: the run with the median p99, and every run's p99.
 * The simulators run in a process of their own (bench/sandbox-process.mjs): this one's pauses
 * (38–78 ms measured while it hosted them) no longer stamp their arrivals late.
 */
async function latencyRounds(rounds = 3) {
  const sandbox = await startSandboxProcess();
  try {
    return await latencyRoundsWith(sandbox, rounds);
  } finally {
    await sandbox.stop();
  }
}

async function latencyRoundsWith(sandbox, rounds) {
  const runs = [];
  for (let r = 0; r < rounds; r++) {
    starting('latency, JetStream R3, 3 sidecars');
    globalThis.gc?.(); // no collection of this process's earlier garbage inside a sample
    const run = await withNats(3, async (nats) => {
      const side = await startSidecars(nats, sandbox, {
        count: 3,
        state: 'jetstream',
        replicas: 3,
        subject: 'lat.>',
      });
      try {
        return await latencySamples(nats.url, sandbox);
      } finally {
        await webhooksSettled(sandbox);
        await side.stop();
      }
    });
    runs.push(progress('latency, JetStream R3, 3 sidecars', run));
  }
  const median = [...runs].sort((a, b) => a.p99 - b.p99)[Math.floor(rounds / 2)];
  return { ...median, p99s: runs.map((r) => r.p99), benchLags: runs.map((r) => r.benchLagMaxMs) };
}

const row = (figure, measured, target, met = '', ceiling = '', ratio = '') => ({
  figure,
  measured,
  ceiling,
  ratio,
  target,
  met,
});

function eventsRow(ev, n) {
  const { js, leveldb, ratio, ratios } = ev;
  return row(
    `events/s through one sidecar, JetStream state (R1) against LevelDB, ${fmt(n)} events (3% paging), core NATS (median of ${ratios.length} rounds; ratios ${ratios.map((r) => r.toFixed(2)).join(', ')})`,
    `${fmt(js.perSecond)} (${fmt(js.decided)} decided, ${fmt(js.dropped)} dropped)`,
    'ratio ≥ 0.5',
    pass(ratio >= 0.5),
    `${fmt(leveldb.perSecond)} LevelDB (${fmt(leveldb.dropped)} dropped)`,
    ratio.toFixed(3),
  );
}

function incidentRows(inc, n) {
  const ceiling = inc['LevelDB, 1 sidecar'];
  const figure = (x) => `${fmt(x.perSecond)} (${fmt(x.incidents)} at both)`;
  const vs = (x) => ({
    ceiling: `${fmt(ceiling.perSecond)} LevelDB`,
    ratio: (x.perSecond / ceiling.perSecond).toFixed(3),
  });
  const r1 = inc['R1, 1 sidecar'];
  const quiet = inc['R1, 1 sidecar, no webhooks'];
  const r3 = inc['R3, 1 sidecar'];
  const r3x3 = inc['R3, 3 sidecars'];
  return [
    {
      ...row(
        `new incidents/s delivered to both providers, ${fmt(n)} distinct, cluster R1, 1 sidecar`,
        figure(r1),
        '≥ 1,000/s',
      ),
      ...vs(r1),
      met: pass(r1.incidents === n && r1.perSecond >= 1_000),
    },
    { ...row('same, R1, the simulators sending no webhooks', figure(quiet), 'reported'), ...vs(quiet) },
    { ...row('same, R3 (3-node cluster), 1 sidecar', figure(r3), 'reported'), ...vs(r3) },
    {
      ...row(
        'same, R3, 3 sidecars',
        `${fmt(r3x3.perSecond)} (${fmt(r3x3.perSecond / 3)} per replica; ${fmt(r3x3.incidents)} at both)`,
        'reported',
      ),
      ...vs(r3x3),
    },
  ];
}

function latencyRows(lat) {
  return [
    row(
      `publish → simulator received, p50, 3 sidecars, R3, 1,000 events/s (10% paging, ${lat.n} requests)`,
      `${lat.p50} ms`,
      'reported',
    ),
    row(
      'publish → simulator received, p99 (after a 2 s warm-up)',
      `${lat.p99} ms (median of ${lat.p99s.length} runs: ${lat.p99s.join(', ')} ms; the publishing process's longest pause in each: ${lat.benchLags.join(', ')} ms)`,
      '< 50 ms',
      pass(lat.p99 < 50),
    ),
    row('same, the first 2 s after start', `${lat.coldP99} ms`, 'reported'),
  ];
}

/** What the table cannot say: the simulators' requests (duplicates, refusals) and the machine. */
function notes(inc, load) {
  const line = ([name, x]) =>
    `- ${name}: ${fmt(x.requests)} requests at the simulators for ${fmt(2 * x.incidents)} deliveries, ${fmt(x.notAccepted)} not accepted; ${fmt(x.webhooks)} webhooks handled; ${x.seconds.toFixed(2)} s`;
  console.log('\nRow 2, per run:\n');
  for (const entry of Object.entries(inc)) console.log(line(entry));
  console.log(
    '\nOn two cores, three sidecars and three nats-servers (plus the publisher and the simulators) share the\n' +
      'same CPUs: the 3-sidecar figures measure the overhead of running as a cluster, not how it scales.',
  );
  console.log(
    `Load average (1 min) at the start and end of this table: ${load.map((l) => l.toFixed(2)).join(', ')}.`,
  );
}

export async function benchCluster({ events = 500_000, incidents = 5_000 } = {}) {
  const onSignal = () => process.exit(130);
  process.on('exit', killLeftovers);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const sandbox = await startSandbox();
  const load = [loadavg()[0]];
  try {
    const ev = await eventsRounds(sandbox, events);
    const inc = await incidentRuns(sandbox, incidents);
    const lat = await latencyRounds();
    load.push(loadavg()[0]);
    table('Cluster mode (issue 12)', [
      eventsRow(ev, events),
      ...incidentRows(inc, incidents),
      ...latencyRows(lat),
    ]);
    notes(inc, load);
  } finally {
    await sandbox.stop();
    killLeftovers();
    process.off('exit', killLeftovers);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * One phase alone, for investigating: `node bench/cluster.mjs events|incidents|latency [n] [only]`;
 * `only` picks the incident configurations whose label starts with it (`leveldb`, `r1`, `r3, 3`).
 */
async function phase(name, n, only) {
  const sandbox = await startSandbox();
  process.on('exit', killLeftovers);
  try {
    if (name === 'events') progress('events', await eventsRounds(sandbox, n ?? 500_000, 1));
    else if (name === 'incidents') await incidentRuns(sandbox, n ?? 5_000, only ?? null);
    else if (name === 'latency') progress('latency', await latencyRounds(1));
    else throw new Error(`unknown phase ${name}: events, incidents or latency`);
  } finally {
    await sandbox.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [name, n, only] = process.argv.slice(2);
  if (name === undefined) await benchCluster();
  else await phase(name, n === undefined ? undefined : Number(n), only);
}
