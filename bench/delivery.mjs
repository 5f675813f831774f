// Delivery (issue 3): alerts/s delivered to the simulators with `mode: all` over two providers,
// and p50/p99 from accepting an alert to the simulator receiving it at 100 alerts/s, beside the
// simulators' own ceiling measured in the same run: a bare HTTP client posting the same kind of
// requests to them.
import { Agent, request } from 'undici';
import {
  startSandbox,
  SANDBOX_PAGERDUTY_ROUTING_KEY,
  SANDBOX_OPSGENIE_API_KEY,
} from '../dist/sandbox/index.js';
import { startBenchApp, THROUGHPUT_EDITS } from './app.mjs';
import { fmt, pass, percentile, table } from './lib.mjs';

const agent = new Agent({ connections: 32, keepAliveTimeout: 10_000 });

async function postJson(url, body, headers = {}) {
  const res = await request(url, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, text };
}

async function pool(n, concurrency, task) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

/** The simulators' ceiling: a bare client posting one PagerDuty trigger and one OpsGenie create per "alert". */
async function ceiling(sandbox, alerts) {
  reset(sandbox);
  const t = performance.now();
  await pool(alerts, 32, async (i) => {
    await Promise.all([
      postJson(sandbox.urls.pagerdutyEvents, {
        routing_key: SANDBOX_PAGERDUTY_ROUTING_KEY,
        event_action: 'trigger',
        dedup_key: `ceiling-${i}`,
        payload: { summary: `ceiling ${i}`, source: 'bench', severity: 'critical' },
      }),
      postJson(
        `${sandbox.urls.opsgenie}/v2/alerts`,
        { message: `ceiling ${i}`, alias: `ceiling-${i}` },
        { authorization: `GenieKey ${SANDBOX_OPSGENIE_API_KEY}` },
      ),
    ]);
  });
  return alerts / ((performance.now() - t) / 1000);
}

const alert = (i, tag) => ({
  title: `${tag} ${i}`,
  source: 'bench',
  severity: 'critical',
  service_name: `${tag}-svc-${i}`,
});

function reset(sandbox) {
  // The simulators keep at most 10,000 requests in their logs: start each phase empty.
  sandbox.pagerduty.reset();
  sandbox.opsgenie.reset();
}

async function throughput(sandbox, url, alerts, tag) {
  reset(sandbox);
  const target = 2 * alerts;
  const t = performance.now();
  await pool(alerts, 32, async (i) => {
    const r = await postJson(`${url}/api/v1/alerts`, alert(i, tag));
    if (r.status !== 202) throw new Error(`alert refused: ${r.status} ${r.text}`);
  });
  // Poll gently: reading the simulators' logs costs CPU the sidecar would otherwise have.
  while (sandbox.pagerduty.requestCount() + sandbox.opsgenie.requestCount() < target)
    await new Promise((r) => setTimeout(r, 100));
  return alerts / ((performance.now() - t) / 1000);
}

async function latency(sandbox, url, perSecond, seconds) {
  const sent = new Map();
  const total = perSecond * seconds;
  const t0 = performance.now();
  const inflight = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    sent.set(`lat ${i}`, Date.now());
    inflight.push(postJson(`${url}/api/v1/alerts`, alert(i, 'lat')));
  }
  await Promise.all(inflight);
  // Titles read "lat-svc-7: lat 7" (the default title template); the number finds the send time.
  const tagOf = (r) => /lat \d+$/.exec(String(r.body?.payload?.summary ?? r.body?.message ?? ''))?.[0];
  const received = () =>
    [...sandbox.pagerduty.requests(), ...sandbox.opsgenie.requests()].filter((r) => tagOf(r) !== undefined);
  while (received().length < 2 * total) await new Promise((r) => setTimeout(r, 20));
  const ms = received().map((r) => Date.parse(r.at) - sent.get(tagOf(r)));
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), n: ms.length };
}

export async function benchDelivery({ alerts = 2_000 } = {}) {
  const sandbox = await startSandbox();
  const bench = await startBenchApp({ sandbox, edits: THROUGHPUT_EDITS });
  try {
    await ceiling(sandbox, 200); // warm-up
    const ceil = await ceiling(sandbox, alerts);
    // Distinct services per phase: a repeated fingerprint would (rightly) be deduplicated.
    await throughput(sandbox, bench.url, 200, 'warm');
    const ours = await throughput(sandbox, bench.url, alerts, 'tp');
    reset(sandbox);
    const lat = await latency(sandbox, bench.url, 100, 10);
    const rows = [
      {
        figure: `alerts/s delivered, mode all over 2 providers (${fmt(alerts)} alerts)`,
        measured: fmt(ours),
        ceiling: fmt(ceil),
        ratio: (ours / ceil).toFixed(3),
        target: 'reported (brief: 100 alerts/min)',
        met: pass(ours * 60 >= 100),
      },
      {
        figure: `accept → simulator received, p50 (100 alerts/s, ${lat.n} requests)`,
        measured: `${lat.p50} ms`,
        ceiling: '',
        ratio: '',
        target: '< 2 s (brief)',
        met: pass(lat.p50 < 2_000),
      },
      {
        figure: 'accept → simulator received, p99',
        measured: `${lat.p99} ms`,
        ceiling: '',
        ratio: '',
        target: '< 2 s (brief)',
        met: pass(lat.p99 < 2_000),
      },
    ];
    table('Delivery (issue 3)', rows);
    return rows;
  } finally {
    await bench.stop();
    await sandbox.stop();
    await agent.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchDelivery();
