// The dashboard (issue 15), in Debian's Chromium (skipped without it), each figure beside a
// ceiling measured in the same run:
//   - core NATS events/s with the dashboard's incidents view open and following the stream, vs none
//     connected (alternating rounds; the view reloads its page of incidents as changes stream in);
//   - the incidents view with 10,000 incidents: navigation to the first page rendered, vs the API's
//     own answer for that page;
//   - a new alert to its row in an open incidents view (no reload), vs the API's 202;
//   - a stream client that stops reading during a storm: cut off, and what the sidecar's memory did.
import { existsSync } from 'node:fs';
import { connect as tcp } from 'node:net';
import { chromium } from 'playwright-core';
import { startSandbox } from '../dist/sandbox/index.js';
import { startBenchApp, THROUGHPUT_EDITS } from './app.mjs';
import { fmt, median, pass, table } from './lib.mjs';
import { startNatsServer } from './nats-server.mjs';
import { coreRound, progress } from './nats.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Core NATS events/s, with the incidents view open and following the stream, or with no dashboard. */
async function dashboardRound(browser, url, sandbox, n, withDashboard, seed) {
  const during = async (bench) => {
    if (!withDashboard) return null;
    const page = await browser.newPage();
    await page.goto(`${bench.url}/?view=incidents`);
    await page.getByTestId('connection').getByText('live').waitFor();
    return () => page.close();
  };
  return (await coreRound(url, sandbox, { n, subject: `dash.${seed}`, seed, during })).perSecond;
}

/** `count` distinct paging incidents, 1,000 events a request. */
async function openIncidents(url, count) {
  const at = new Date().toISOString();
  for (let i = 0; i < count; i += 1_000) {
    const events = [];
    for (let k = i; k < Math.min(count, i + 1_000); k++)
      events.push({
        timestamp: at,
        service: `bench-svc-${k}`,
        level: 'error',
        source: 'bench',
        message: `bench failure ${k}`,
      });
    const res = await fetch(`${url}/api/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(events),
    });
    if (res.status !== 202) throw new Error(`POST /api/v1/events: ${res.status} ${await res.text()}`);
  }
}

async function firstPageMs(browser, url) {
  const page = await browser.newPage();
  try {
    const t = performance.now();
    await page.goto(`${url}/?view=incidents`);
    await page.locator('tr[data-incident]').first().waitFor({ timeout: 30_000 });
    const ms = performance.now() - t;
    const rows = await page.locator('tr[data-incident]').count();
    return { ms, rows };
  } finally {
    await page.close();
  }
}

async function apiPageMs(url) {
  const t = performance.now();
  const res = await fetch(`${url}/api/v1/incidents?limit=50`);
  await res.json();
  return performance.now() - t;
}

async function alertToRowMs(browser, url, n) {
  const page = await browser.newPage();
  try {
    await page.goto(`${url}/?view=incidents`);
    await page.getByTestId('connection').getByText('live').waitFor();
    const toRow = [];
    const accepted = [];
    for (let i = 0; i < n; i++) {
      const title = `Bench alert ${i} ${Date.now()}`;
      const t = performance.now();
      const res = await fetch(`${url}/api/v1/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title, source: 'bench', severity: 'high', service_name: `bench-row-${i}` }),
      });
      if (res.status !== 202) throw new Error(`POST /api/v1/alerts: ${res.status}`);
      accepted.push(performance.now() - t);
      await page.locator('tr', { hasText: title }).waitFor({ timeout: 30_000 });
      toRow.push(performance.now() - t);
    }
    return { toRow: median(toRow), accepted: median(accepted) };
  } finally {
    await page.close();
  }
}

/**
 * 20,000 incidents opening, with a stream client that read its first bytes and then stopped reading
 * (or none): whether it was cut off, and the heap still held afterwards (the sidecar runs in this
 * process, beside its simulators; peak RSS moved by hundreds of MB with the collector's timing).
 */
async function storm(sandbox, withStalledClient) {
  const bench = await startBenchApp({ sandbox, edits: THROUGHPUT_EDITS });
  let socket = null;
  try {
    if (withStalledClient) {
      const { hostname, port } = new URL(bench.url);
      socket = tcp({ host: hostname, port: Number(port) });
      await new Promise((r) => socket.once('connect', r));
      socket.write(`GET /api/v1/stream HTTP/1.1\r\nHost: ${hostname}\r\nAccept: text/event-stream\r\n\r\n`);
      await new Promise((r) => socket.once('data', r));
      socket.pause(); // reads nothing more: the socket's buffers fill
    }
    globalThis.gc?.();
    const before = process.memoryUsage().heapUsed;
    await openIncidents(bench.url, 20_000);
    // The cut comes with the message after the buffer passed its bound.
    const deadline = Date.now() + 5_000;
    let dropped = 0;
    while (withStalledClient && dropped === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      dropped = await droppedSlow(bench.app);
    }
    await new Promise((r) => setTimeout(r, 1_000));
    globalThis.gc?.();
    return { dropped, retainedMb: (process.memoryUsage().heapUsed - before) / 1e6 };
  } finally {
    socket?.destroy();
    await bench.stop();
  }
}

async function droppedSlow(app) {
  const text = await app.metrics.registry.getSingleMetricAsString('incident_router_stream_dropped_total');
  const line = text.split('\n').find((l) => l.includes('reason="slow_client"'));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

export async function benchDashboard({ natsEvents = 300_000, rounds = 3, incidents = 10_000 } = {}) {
  if (!existsSync(CHROMIUM)) {
    console.log(
      `\n### Dashboard (issue 15)\n\nskipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)\n`,
    );
    return [];
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu'],
  });
  const server = await startNatsServer();
  const sandbox = await startSandbox();
  const rows = [];
  try {
    const on = [];
    const off = [];
    for (let i = 0; i < rounds; i++) {
      off.push(
        progress(
          `core NATS, no dashboard, round ${i + 1}`,
          await dashboardRound(browser, server.url, sandbox, natsEvents, false, 30 + i),
        ),
      );
      on.push(
        progress(
          `core NATS, dashboard open, round ${i + 1}`,
          await dashboardRound(browser, server.url, sandbox, natsEvents, true, 40 + i),
        ),
      );
    }
    const ratio = median(on) / median(off);
    rows.push({
      figure: `core NATS, ${fmt(natsEvents)} events (3% paging), the incidents view open vs none (median of ${rounds}: open ${on.map(fmt).join(', ')}; none ${off.map(fmt).join(', ')})`,
      measured: `${fmt(median(on))}/s`,
      ceiling: `${fmt(median(off))}/s`,
      ratio: ratio.toFixed(3),
      target: 'ratio ≥ 0.90',
      met: pass(ratio >= 0.9),
    });

    const bench = await startBenchApp({ sandbox, edits: THROUGHPUT_EDITS });
    try {
      await openIncidents(bench.url, incidents);
      progress('incidents opened', incidents);
      const pages = [];
      const api = [];
      for (let i = 0; i < 3; i++) {
        pages.push((await firstPageMs(browser, bench.url)).ms);
        api.push(await apiPageMs(bench.url));
      }
      progress('first page ms', pages);
      rows.push({
        figure: `incidents view with ${fmt(incidents)} incidents: navigation to the first page of 50 rendered (median of 3: ${pages.map(fmt).join(', ')} ms)`,
        measured: `${fmt(median(pages))} ms`,
        ceiling: `${median(api).toFixed(1)} ms (the API's page)`,
        ratio: (median(api) / median(pages)).toFixed(3),
        target: '< 1,000 ms',
        met: pass(median(pages) < 1_000),
      });
      const live = progress('alert to row', await alertToRowMs(browser, bench.url, 5));
      rows.push({
        figure: '  a new alert to its row in the open incidents view, no reload (median of 5)',
        measured: `${fmt(live.toRow)} ms`,
        ceiling: `${live.accepted.toFixed(1)} ms (the API's 202)`,
        ratio: (live.accepted / live.toRow).toFixed(3),
        target: '< 1,000 ms',
        met: pass(live.toRow < 1_000),
      });
    } finally {
      await bench.stop();
    }

    const calm = progress('storm, no stream client', await storm(sandbox, false));
    const slow = progress('storm, a stalled stream client', await storm(sandbox, true));
    rows.push({
      figure:
        'a stream client that stops reading while 20,000 incidents open: cut off; heap held afterwards (after a collection), vs the same storm with no client',
      measured: `cut off ${slow.dropped}×, +${slow.retainedMb.toFixed(0)} MB`,
      ceiling: `+${calm.retainedMb.toFixed(0)} MB`,
      ratio: '',
      target: 'cut off (not buffered)',
      met: pass(slow.dropped >= 1),
    });
  } finally {
    await browser.close();
    await sandbox.stop();
    await server.stop();
  }
  table('Dashboard (issue 15)', rows);
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) await benchDashboard();
