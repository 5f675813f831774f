// Escalation timers (issue 14): 100,000 open incidents each with a pending escalation timer fire
// with p99 lateness under 1 s while the sidecar takes 1,000 events/s; a restart with 100,000
// pending timers is ready in under 10 s; RSS with the timers beside the same incidents without.
// The incidents are written to LevelDB beforehand (as a previous run of the sidecar would have left
// them), so the figures measure the timers, not 100,000 opening deliveries. The sidecar is its own
// process (the built `serve`, as deployed), the simulators and the load in this one: the providers'
// work is not the sidecar's. Each fired tier is seen on NATS (`incidents.escalated`, published
// after the tier's write), so a local nats-server runs beside it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { Agent, request } from 'undici';
import { systemClock } from '../dist/domain/clock.js';
import { providerKey } from '../dist/domain/provider-key.js';
import { startSandbox } from '../dist/sandbox/index.js';
import { LevelDbState } from '../dist/state/leveldb.js';
import { IdGenerator } from '../dist/store/index.js';
import { fmt, pass, percentile, rssMb, sleep, table } from './lib.mjs';
import { startNatsServer } from './nats-server.mjs';
import { spawnSidecar } from './nats.mjs';

const N = Number(process.env.BENCH_ESCALATIONS ?? 100_000);
/** The timers fall due evenly over this window (100,000 over 100 s: 1,000 tiers fired a second). */
const WINDOW_MS = Number(process.env.BENCH_ESCALATION_WINDOW_MS ?? 100_000);
const EVENTS_PER_SECOND = 1_000;
const TIER2_AFTER_MS = 15 * 60_000;
const KEYS = ['E1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'E2bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'];
const ROUTE = { name: 'bench-route', mode: 'all', providers: ['pagerduty'] };
const tier = (after_ms, key) => ({
  after_ms,
  targets: [{ pagerduty: { routing_key: key } }],
  deliver: { mode: 'all', providers: ['pagerduty'] },
});
const PLAN = {
  name: 'bench-escalation',
  route: ROUTE,
  tiers: [tier(0, KEYS[0]), tier(TIER2_AFTER_MS, KEYS[1])],
  repeat: null,
  ack_timeout_ms: null,
};

/** An open incident whose tier 1 fired; tier 2 due at `dueMs` (no escalation when null). */
function incidentOf(i, ids, dueMs) {
  const fingerprint = `esc-bench-${i}:stuck`;
  const opened = new Date((dueMs ?? Date.now()) - TIER2_AFTER_MS).toISOString();
  return {
    id: ids.incidentId(),
    correlation_id: ids.correlationId(),
    fingerprint,
    provider_key: providerKey(fingerprint),
    state: 'triggered',
    escalated: false,
    severity: 'critical',
    title: `Queue ${i} stuck`,
    service: `esc-bench-${i}`,
    team: 'unowned',
    criticality: 'unknown',
    rule: 'bench',
    event: {
      timestamp: opened,
      level: 'error',
      message: 'stuck',
      source: null,
      host: null,
      trace_id: null,
      attributes: null,
    },
    occurrences: 1,
    opened_at: opened,
    last_seen: opened,
    acknowledged_at: null,
    resolved_at: null,
    policy: { version: 'bench', revision: 'sha256:bench' },
    routes: [ROUTE],
    holds: {},
    storm: null,
    revision: 1,
    ...(dueMs === null
      ? {}
      : {
          escalation: {
            plan: PLAN,
            next_tier: 1,
            round: 0,
            started_at: dueMs - TIER2_AFTER_MS,
            due_at: dueMs,
            due: 'tier',
            fired_tier: 1,
          },
        }),
  };
}

/** Writes `n` open incidents to a fresh data directory; returns the root and each one's due time. */
async function populate(n, dueOf) {
  const root = await mkdtemp(join(tmpdir(), 'ir-bench-esc-'));
  const state = await LevelDbState.open(join(root, 'data'), systemClock);
  const ids = new IdGenerator(systemClock);
  const due = new Map();
  let next = 0;
  await Promise.all(
    Array.from({ length: 256 }, async () => {
      while (next < n) {
        const i = next++;
        const incident = incidentOf(i, ids, dueOf(i));
        if (incident.escalation) due.set(incident.id, incident.escalation.due_at);
        const opened = {
          incident_id: incident.id,
          at: incident.opened_at,
          type: 'opened',
          actor: 'bench',
          provider: null,
          source_event_id: null,
          policy_version: 'bench',
          message: 'written by the benchmark',
        };
        await state.create(incident, [], [opened]);
      }
    }),
  );
  await state.close();
  return { root, due };
}

/**
 * The sidecar on a populated directory. The first start on a directory checks the policy's patterns
 * in a child process and keeps the verdicts in DATA_DIR (docs/policy-language.md, "Regular
 * expressions"), as a real restart would find them: that start is made and stopped first.
 */
async function sidecarOn(nats, sandbox, populated) {
  const options = {
    subject: 'esc-bench.unused',
    echo: true,
    env: { DATA_DIR: join(populated.root, 'data') },
  };
  await (await spawnSidecar(nats.url, sandbox, options)).stop();
  const side = await spawnSidecar(nats.url, sandbox, options);
  while ((await side.get('/readyz')).status !== 200) await sleep(5);
  return { side, readyMs: performance.now() - side.spawnedAt };
}

/** Spawn to ready (the HTTP listener up, timers rebuilt) on a populated directory, and RSS 2 s after. */
async function restart(nats, sandbox, populated) {
  const { side, readyMs } = await sidecarOn(nats, sandbox, populated);
  try {
    const timers = await side.metric('incident_router_escalation_timers');
    await sleep(2_000);
    return { readyMs, timers, rss: rssMb(side.pid) };
  } finally {
    await side.stop();
    await rm(populated.root, { recursive: true, force: true });
  }
}

const agent = new Agent({ connections: 8, keepAliveTimeout: 10_000 });
const noise = (i) => ({
  timestamp: new Date().toISOString(),
  service: `web-${i % 50}`,
  level: 'info',
  source: 'cache',
  message: `cache miss rate increased by ${i % 7}%`,
});
const paging = (i) => ({
  timestamp: new Date().toISOString(),
  service: `esc-load-${i}`,
  level: 'error',
  source: 'database',
  message: 'connection refused to postgres',
});

/** 1,000 events/s (3% paging) in batches of 100, paced (not waiting for answers), until `until`. */
async function load(url, until) {
  let i = 0;
  let sent = 0;
  const answers = [];
  const t0 = performance.now();
  while (performance.now() < until) {
    const batch = Array.from({ length: 100 }, () => (i++ % 33 === 0 ? paging(i) : noise(i)));
    answers.push(
      request(`${url}/api/v1/events`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(batch),
      }).then((res) => res.body.text()),
    );
    sent += batch.length;
    const wait = t0 + (sent * 1000) / EVENTS_PER_SECOND - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await Promise.all(answers);
  return sent / ((performance.now() - t0) / 1000);
}

/** The timers falling due over WINDOW_MS while 1,000 events/s come in: lateness of each tier 2. */
async function fire(nats, sandbox, populateMs) {
  // Enough time to write them and start (twice: the first start checks the policy's patterns).
  const startAt = Date.now() + 1.5 * populateMs + 40_000;
  const populated = await populate(N, (i) => startAt + Math.floor((i * WINDOW_MS) / N));
  const nc = await connect({ servers: nats.url });
  const lateness = [];
  const sub = nc.subscribe('incidents.escalated', {
    callback: (err, msg) => {
      if (err) return;
      const seen = Date.now();
      const due = populated.due.get(msg.json().incident_id);
      if (due !== undefined) lateness.push([due, seen - due]);
    },
  });
  const { side } = await sidecarOn(nats, sandbox, populated);
  try {
    const waitMs = startAt - Date.now();
    if (waitMs < 0) throw new Error(`populating took too long: the first timer was due ${-waitMs} ms ago`);
    await sleep(Math.max(0, waitMs - 5_000));
    const pending = () => side.metric('incident_router_deliveries_pending');
    const watch = process.env.BENCH_DEBUG
      ? setInterval(async () => {
          const statuses = {};
          for (const r of sandbox.pagerduty.requests()) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
          console.error(
            `fired ${lateness.length}, pending ${await pending()}, PagerDuty answers ${JSON.stringify(statuses)}`,
          );
        }, 2_000)
      : null;
    const rate = await load(side.url, performance.now() + 5_000 + WINDOW_MS + 2_000);
    if (watch !== null) clearInterval(watch);
    const backlog = await pending();
    const deadline = Date.now() + 60_000;
    while (lateness.length < N && Date.now() < deadline) await sleep(200);
    const rss = rssMb(side.pid);
    const ms = lateness.map(([, l]) => l);
    const half = startAt + WINDOW_MS / 2;
    const p99Of = (xs) => (xs.length === 0 ? NaN : percentile(xs, 99));
    return {
      rate,
      backlog,
      rss,
      fired: ms.length,
      p50: percentile(ms, 50),
      p99: percentile(ms, 99),
      max: Math.max(...ms),
      firstHalfP99: p99Of(lateness.filter(([d]) => d < half).map(([, l]) => l)),
      secondHalfP99: p99Of(lateness.filter(([d]) => d >= half).map(([, l]) => l)),
    };
  } finally {
    sub.unsubscribe();
    await nc.close();
    await side.stop();
    await rm(populated.root, { recursive: true, force: true });
  }
}

export async function benchEscalation() {
  const sandbox = await startSandbox();
  const nats = await startNatsServer();
  try {
    const { without, withTimers, populateMs } = await restarts(nats, sandbox);
    sandbox.pagerduty.reset();
    const fired = await fire(nats, sandbox, populateMs);
    const rows = [
      {
        figure: `${fmt(N)} timers due over ${WINDOW_MS / 1000} s, ${fmt(fired.rate)} events/s in: lateness p50`,
        measured: `${fmt(fired.p50)} ms`,
        ceiling: '',
        ratio: '',
        target: 'reported',
        met: '',
      },
      {
        figure: `same, lateness p99 (${fmt(fired.fired)} fired; max ${fmt(fired.max)} ms; p99 of the first half ${fmt(fired.firstHalfP99)} ms, second half ${fmt(fired.secondHalfP99)} ms; outbox backlog at the end ${fmt(fired.backlog)})`,
        measured: `${fmt(fired.p99)} ms`,
        ceiling: '',
        ratio: '',
        target: '< 1 s, all fired',
        met: pass(fired.p99 < 1_000 && fired.fired === N),
      },
      {
        figure: `restart to ready with ${fmt(N)} pending timers (${fmt(withTimers.timers)} rebuilt)`,
        measured: `${fmt(withTimers.readyMs)} ms`,
        ceiling: `${fmt(without.readyMs)} ms without timers`,
        ratio: (withTimers.readyMs / without.readyMs).toFixed(2),
        target: '< 10 s',
        met: pass(withTimers.readyMs < 10_000 && withTimers.timers === N),
      },
      {
        figure: `sidecar RSS with ${fmt(N)} open incidents, 2 s after ready`,
        measured: `${fmt(withTimers.rss)} MB with timers`,
        ceiling: `${fmt(without.rss)} MB without`,
        ratio: (withTimers.rss / without.rss).toFixed(2),
        target: 'reported',
        met: '',
      },
      {
        figure: `sidecar RSS at the end of the firing run`,
        measured: `${fmt(fired.rss)} MB`,
        ceiling: '',
        ratio: '',
        target: 'reported',
        met: '',
      },
    ];
    table('Escalation timers (issue 14)', rows);
    return rows;
  } finally {
    await nats.stop();
    await sandbox.stop();
    await agent.close();
  }
}

/**
 * The restart rows: `N` open incidents written to a fresh directory (timed: the fire phase sizes its
 * head start from it), the sidecar restarted on them; then again with a timer each, far off.
 */
async function restarts(nats, sandbox) {
  const t = performance.now();
  const plain = await populate(N, () => null);
  const populateMs = performance.now() - t;
  const without = await restart(nats, sandbox, plain);
  const far = Date.now() + 24 * 3_600_000;
  const withTimers = await restart(nats, sandbox, await populate(N, () => far));
  return { without, withTimers, populateMs };
}

/** The restart rows alone (`node bench/escalation.mjs restart`). */
async function restartsOnly() {
  const sandbox = await startSandbox();
  const nats = await startNatsServer();
  try {
    const { without, withTimers } = await restarts(nats, sandbox);
    console.error(`  restart, ${fmt(N)} open incidents: ${JSON.stringify(without)}`);
    console.error(`  restart, ${fmt(N)} open incidents with timers: ${JSON.stringify(withTimers)}`);
  } finally {
    await nats.stop();
    await sandbox.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv[2] === 'restart') await restartsOnly();
  else await benchEscalation();
}
