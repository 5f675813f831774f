// Policy diff (issue 17), each figure beside a ceiling measured in the same run:
//   - 1,000,000 generated events (one day, 3% paging) written to an NDJSON file first, then diffed
//     between two versions of the shipped policy (a threshold, a time window and a route changed)
//     the way `incident-router diff --events` does (worker threads for a large file), vs reading,
//     parsing and deciding the same file once per event in one thread; the one-thread diff is shown too;
//   - the recent-events ring's cost on the core NATS path: the sidecar's events/s with the ring on
//     (default settings) vs off (RECENT_EVENTS_MAX=0), alternating rounds.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { startSandbox } from '../dist/sandbox/index.js';
import { diffEvents } from '../dist/diff/diff.js';
import { compileInputOf, diffFileInWorkers, workersFor } from '../dist/diff/parallel.js';
import { ruleLocations } from '../dist/diff/locations.js';
import { parseEventLine, readNdjsonFile } from '../dist/diff/ndjson.js';
import { decideNow, NO_INCIDENTS } from '../dist/policy/decide.js';
import { preparePolicy } from '../dist/policy/active.js';
import { readPolicyDir } from '../dist/policy/load.js';
import { RecentEvents } from '../dist/diff/recent/recent-events.js';
import { SecretScrubber } from '../dist/telemetry/logger.js';
import { eventLines } from '../scripts/gen-log-events.mjs';
import { fmt, median, pass, table } from './lib.mjs';
import { startNatsServer } from './nats-server.mjs';
import { coreRound, progress } from './nats.mjs';

/** The same three edits as tests/diff/fixtures.ts: what a policy pull request changes. */
const EDITS = [
  ['classify.yaml', "'disk usage at (9[5-9]|100)%'", "'disk usage at (9[7-9]|100)%'"],
  ['time-windows.yaml', 'duration: 2h # ... for two hours', 'duration: 1h'],
  [
    'paging.yaml',
    'providers: [opsgenie, pagerduty] }\n    escalation: payments-fast',
    'providers: [opsgenie] }\n    escalation: payments-fast',
  ],
];

async function side(edits) {
  const sources = (await readPolicyDir(new URL('../policies', import.meta.url).pathname)).map((s) => {
    let text = s.text;
    for (const [file, from, to] of edits) if (file === s.name) text = text.replace(from, to);
    return { name: s.name, text };
  });
  const prepared = preparePolicy(sources, { env: {}, sandbox: true }, new Date());
  if (!prepared.ok) throw new Error('bench policy invalid');
  const { compiled, loaded } = prepared.policy;
  return { policy: compiled, locations: ruleLocations(loaded), input: compileInputOf(loaded) };
}

// One day of events: 1,000,000 at 11.6/s from Saturday noon (a Sunday maintenance window inside).
const DAY = { seed: 2026, alerting: 3, start: '2026-11-21T12:00:00Z', rate: 11.6 };

function* items(count) {
  let n = 0;
  for (const line of eventLines({ ...DAY, count })) {
    const item = parseEventLine(line, String(++n));
    if (item !== null) yield item;
  }
}

/** The day as an NDJSON file, as a reviewer would pass it to `diff --events`. */
async function writeDay(file, count) {
  const out = createWriteStream(file);
  for (const line of eventLines({ ...DAY, count })) if (!out.write(`${line}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
  return file;
}

/** As the CLI does: worker threads when the file is large enough (`--jobs auto`). */
async function diffFileRate(file, prev, next, jobs = 'auto') {
  const workers = workersFor((await stat(file)).size, jobs);
  const t = performance.now();
  const report =
    workers > 0
      ? await diffFileInWorkers(file, prev, next, { workers })
      : await diffEvents(readNdjsonFile(file), prev, next);
  return { perSecond: (report.events / (performance.now() - t)) * 1000, report, workers };
}

/** The ceiling: the same file read, parsed and decided once per event, in one thread. */
async function singleFileRate(file, side) {
  const t = performance.now();
  let n = 0;
  for await (const item of readNdjsonFile(file)) {
    if ('problem' in item) continue;
    const d = decideNow(item.input, side.policy, Date.parse(item.input.event.timestamp), NO_INCIDENTS);
    if (d instanceof Promise) await d;
    n++;
  }
  return (n / (performance.now() - t)) * 1000;
}

function parseRate(count) {
  const t = performance.now();
  let n = 0;
  for (const item of items(count)) if (!('problem' in item)) n++;
  return (n / (performance.now() - t)) * 1000;
}

/**
 * The ring's hot-path cost alone: `offer` (with the sidecar's scrubber holding a few secrets) over
 * 200,000 events already decided, in µs per event. The store is a no-op: its writes are off the path.
 */
async function offerCostUs(side, n = 200_000) {
  // Each event with the text it came as, as the NATS ingest hands it to the ring.
  const decided = [];
  let k = 0;
  for (const line of eventLines({ ...DAY, count: n })) {
    const item = parseEventLine(line, String(++k));
    if (item === null || 'problem' in item) continue;
    const d = decideNow(item.input, side.policy, Date.parse(item.input.event.timestamp), NO_INCIDENTS);
    decided.push([item.input.event, d instanceof Promise ? await d : d, line]);
  }
  const scrubber = new SecretScrubber();
  scrubber.set('config', ['R0123456789abcdef0123456789abcdef', 'test-opsgenie-api-key', 'a-long-api-token']);
  const store = { append: async () => undefined, read: async function* () {}, close: async () => undefined };
  const settings = { sampleEvery: 10, flushMs: 1_000, maxPending: 1e9 };
  const runs = [];
  for (let r = 0; r < 4; r++) {
    const ring = new RecentEvents(store, settings, (text) => scrubber.scrub(text));
    const t = performance.now();
    for (const [event, decision, text] of decided) ring.offer(event, decision, text);
    const offered = performance.now();
    await ring.flush(); // masking and serializing: off the hot path, but the same thread's CPU
    const flushed = performance.now();
    runs.push({
      offerUs: ((offered - t) * 1000) / decided.length,
      totalUs: ((flushed - t) * 1000) / decided.length,
    });
    await ring.close();
  }
  const rest = runs.slice(1);
  return { offerUs: median(rest.map((r) => r.offerUs)), totalUs: median(rest.map((r) => r.totalUs)) };
}

/** Core NATS events/s with the ring on (default settings) or off (`RECENT_EVENTS_MAX=0`). */
async function ringRound(url, sandbox, n, ring, seed) {
  const env = ring ? {} : { RECENT_EVENTS_MAX: '0' };
  return (await coreRound(url, sandbox, { n, subject: `ring.${seed}`, seed, env })).perSecond;
}

export async function benchDiff({ count = 1_000_000, natsEvents = 300_000, rounds = 3 } = {}) {
  const [prev, next] = [await side([]), await side(EDITS)];
  const dir = await mkdtemp(join(tmpdir(), 'ir-bench-diff-'));
  let diff, oneThread, single, bytes;
  try {
    await diffFileRate(await writeDay(join(dir, 'warm-up.ndjson'), 50_000), prev, next, 1);
    const file = await writeDay(join(dir, 'day.ndjson'), count);
    bytes = (await stat(file)).size;
    diff = await diffFileRate(file, prev, next);
    progress('diff', { perSecond: diff.perSecond, changed: diff.report.changed, workers: diff.workers });
    oneThread = progress('diff, one thread', (await diffFileRate(file, prev, next, 1)).perSecond);
    single = progress('single decide', await singleFileRate(file, prev));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const parse = progress('generate + parse', parseRate(count));
  const ringCost = progress('ring µs/event', await offerCostUs(prev));

  const server = await startNatsServer();
  const sandbox = await startSandbox();
  const on = [];
  const off = [];
  try {
    for (let i = 0; i < rounds; i++) {
      off.push(
        progress(
          `core NATS, ring off, round ${i + 1}`,
          await ringRound(server.url, sandbox, natsEvents, false, 10 + i),
        ),
      );
      on.push(
        progress(
          `core NATS, ring on, round ${i + 1}`,
          await ringRound(server.url, sandbox, natsEvents, true, 20 + i),
        ),
      );
    }
  } finally {
    await sandbox.stop();
    await server.stop();
  }
  const ringRatio = median(on) / median(off);
  const r = diff.report;
  const rows = [
    {
      figure: `diff --events of ${fmt(r.events)} events (one day, 3% paging, ${(bytes / 1e6).toFixed(0)} MB of NDJSON; 2 decisions each; ${fmt(r.changed)} changed in ${r.groups.length} groups; ${diff.workers} worker threads)`,
      measured: `${fmt(diff.perSecond)}/s`,
      ceiling: `${fmt(single)}/s (read, parse, one decide each, one thread)`,
      ratio: (diff.perSecond / single).toFixed(3),
      target: '≥ 100,000/s',
      met: pass(diff.perSecond >= 100_000),
    },
    {
      figure: '  the same diff in one thread (--jobs 1)',
      measured: `${fmt(oneThread)}/s`,
      ceiling: `${fmt(single)}/s`,
      ratio: (oneThread / single).toFixed(3),
      target: 'reported',
      met: '',
    },
    {
      figure: '  generating and parsing the same events in memory (no file)',
      measured: `${fmt(parse)}/s`,
      ceiling: '',
      ratio: '',
      target: 'reported',
      met: '',
    },
    {
      figure: `core NATS, ${fmt(natsEvents)} events (3% paging), recent-events ring on vs off (median of ${rounds} rounds: on ${on.map(fmt).join(', ')}; off ${off.map(fmt).join(', ')})`,
      measured: `${fmt(median(on))}/s`,
      ceiling: `${fmt(median(off))}/s`,
      ratio: ringRatio.toFixed(3),
      target: 'ratio ≥ 0.95',
      met: pass(ringRatio >= 0.95),
    },
  ];
  // Of each second the ring-off sidecar spends, the share the ring's work (offer and flush) would take.
  const share = (ringCost.totalUs * median(off)) / 1e6;
  rows.push({
    figure: `  recent-events ring alone: µs per event, all work (offer ${ringCost.offerUs.toFixed(3)} µs on the hot path, then masking and serializing the batch), as a share of the ring-off sidecar's per-event time`,
    measured: `${ringCost.totalUs.toFixed(2)} µs`,
    ceiling: `${(1e6 / median(off)).toFixed(1)} µs`,
    ratio: share.toFixed(3),
    target: 'share < 0.05',
    met: pass(share < 0.05),
  });
  table('Policy diff and the recent-events ring (issue 17)', rows);
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) await benchDiff();
