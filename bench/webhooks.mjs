// Webhooks (issue 5): from a provider webhook's receipt to our state updated and the sync
// deliveries queued, which is when the sidecar answers (it never waits for a delivery). p50/p99
// over signed PagerDuty `incident.acknowledged` and OpsGenie `Close` webhooks, one per open
// incident, each one a real transition that queues a sync to the other provider; beside the
// ceiling measured in the same run: the same requests to a trivial Koa route that only reads the
// body and answers 200.
import { createServer } from 'node:http';
import Koa from 'koa';
import { Agent, request } from 'undici';
import { readRawBody } from '../dist/api/body.js';
import { signV1, startSandbox } from '../dist/sandbox/index.js';
import { startBenchApp, THROUGHPUT_EDITS } from './app.mjs';
import { fmt, pass, percentile, table } from './lib.mjs';

const SECRET = 'bench-pagerduty-signing-secret+/=';
const TOKEN = 'bench-opsgenie-webhook-token';
const CONCURRENCY = 8;
const agent = new Agent({ connections: 32, keepAliveTimeout: 10_000 });

async function pool(n, concurrency, task) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

async function post(url, headers, body) {
  const res = await request(url, { method: 'POST', dispatcher: agent, headers, body });
  const text = await res.body.text();
  return { status: res.statusCode, text };
}

/**
 * Signed as PagerDuty signs (docs/providers.md, "PagerDuty webhook signatures"), one X-Webhook-Id per
 * delivery.
 */
function pagerDutyAck(incident, i) {
  const body = JSON.stringify({
    event: {
      id: `bench-evt-${i}`,
      event_type: 'incident.acknowledged',
      resource_type: 'incident',
      occurred_at: new Date().toISOString(),
      agent: { id: 'PBENCH1', type: 'user_reference', summary: 'Bench Responder' },
      client: { name: 'PagerDuty' },
      data: { id: incident.id, type: 'incident', incident_key: incident.dedupKey, status: 'acknowledged' },
    },
  });
  const headers = {
    'content-type': 'application/json',
    'x-webhook-id': `bench-wh-${i}`,
    'x-pagerduty-signature': signV1(body, [SECRET]),
  };
  return { path: '/api/v1/webhooks/pagerduty', headers, body };
}

function opsGenieClose(alias, i) {
  const body = JSON.stringify({
    source: { name: 'web', type: 'web' },
    alert: {
      alertId: `bench-alert-${i}`,
      alias,
      username: 'bench@example.com',
      updatedAt: Date.now() * 1_000_000,
    },
    action: 'Close',
    integrationId: 'bench',
    integrationName: 'bench',
  });
  return {
    path: '/api/v1/webhooks/opsgenie',
    headers: { 'content-type': 'application/json', 'x-webhook-token': TOKEN },
    body,
  };
}

/** Latency of each request, ms, `CONCURRENCY` in flight; every answer must be `expect`. */
async function measure(base, requests, expect) {
  const ms = [];
  await pool(requests.length, CONCURRENCY, async (i) => {
    const r = requests[i];
    const t = performance.now();
    const res = await post(`${base}${r.path}`, r.headers, r.body);
    ms.push(performance.now() - t);
    if (!expect(res)) throw new Error(`unexpected answer ${res.status} ${res.text}`);
  });
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), n: ms.length };
}

/** The ceiling: a Koa route that reads the body and answers 200, nothing else. */
async function startTrivial() {
  const app = new Koa();
  app.use(async (ctx) => {
    await readRawBody(ctx, 256 * 1024);
    ctx.status = 200;
    ctx.body = { ok: true };
  });
  const server = createServer(app.callback());
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    stop: () => new Promise((r) => server.close(r)),
  };
}

async function openIncidents(sandbox, url, n) {
  await pool(n, 32, async (i) => {
    const res = await post(
      `${url}/api/v1/alerts`,
      { 'content-type': 'application/json' },
      JSON.stringify({
        title: `webhook bench ${i}`,
        source: 'bench',
        severity: 'critical',
        service_name: `wh-svc-${i}`,
      }),
    );
    if (res.status !== 202) throw new Error(`alert refused: ${res.status} ${res.text}`);
  });
  while (sandbox.pagerduty.incidentCount() < n || sandbox.opsgenie.alertCount() < n)
    await new Promise((r) => setTimeout(r, 100));
}

/** Until the triggers, syncs and the simulators' own webhooks for them have all gone out. */
async function quiet(sandbox, bench) {
  for (let i = 0; i < 3; i++) {
    await bench.app.parts.engine.idle();
    await Promise.all([sandbox.pagerduty.webhooksIdle(), sandbox.opsgenie.webhooksIdle()]);
  }
}

export async function benchWebhooks({ incidents = 1_000 } = {}) {
  const sandbox = await startSandbox();
  const bench = await startBenchApp({
    sandbox,
    edits: THROUGHPUT_EDITS,
    env: { PAGERDUTY_WEBHOOK_SECRET: SECRET, OPSGENIE_WEBHOOK_TOKEN: TOKEN },
  });
  const trivial = await startTrivial();
  try {
    // Half the incidents are acknowledged from PagerDuty (syncing OpsGenie), half closed from
    // OpsGenie (syncing PagerDuty): every webhook is a real transition with a sync delivery.
    await openIncidents(sandbox, bench.url, 2 * incidents);
    await quiet(sandbox, bench);
    const pd = sandbox.pagerduty.incidents();
    const acks = pd.slice(0, incidents).map(pagerDutyAck);
    const closes = pd.slice(incidents).map((p, i) => opsGenieClose(p.dedupKey, i));
    const warm = [...acks.slice(0, 50), ...closes.slice(0, 50)];
    await measure(trivial.url, warm, (r) => r.status === 200);
    const ceilAck = await measure(trivial.url, acks, (r) => r.status === 200);
    const ceilClose = await measure(trivial.url, closes, (r) => r.status === 200);
    const applied = (r) => r.status === 200 && JSON.parse(r.text).result === 'applied';
    const ack = await measure(bench.url, acks, applied);
    await quiet(sandbox, bench);
    const close = await measure(bench.url, closes, applied);
    const row = (figure, ours, ceil) => ({
      figure,
      measured: `${ours.toFixed(2)} ms`,
      ceiling: `${ceil.toFixed(2)} ms`,
      ratio: (ours / ceil).toFixed(1),
      target: '< 1 s (PagerDuty waits 5 s)',
      met: pass(ours < 1_000),
    });
    const rows = [
      row(
        `PagerDuty acknowledged → state + sync queued, p50 (${fmt(ack.n)} webhooks, ${CONCURRENCY} in flight)`,
        ack.p50,
        ceilAck.p50,
      ),
      row('PagerDuty acknowledged, p99', ack.p99, ceilAck.p99),
      row(`OpsGenie Close → state + sync queued, p50 (${fmt(close.n)} webhooks)`, close.p50, ceilClose.p50),
      row('OpsGenie Close, p99', close.p99, ceilClose.p99),
    ];
    table('Webhooks (issue 5)', rows);
    return rows;
  } finally {
    await trivial.stop();
    await bench.stop();
    await sandbox.stop();
    await agent.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchWebhooks();
