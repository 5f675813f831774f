// Issue 11: one broad run of the real sidecar (production mode, providers pointed at the
// simulators) with every kind of secret set, then every HTTP answer it gave (status, headers, body)
// and every log line it wrote is searched for each secret and for its first 12 characters (a
// partially masked key is still a leak). `****` + the last 4 characters is the only allowed form.
import { readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { signV1, type Sandbox } from '../../src/sandbox/index.js';
import { fastBreaker, noRateLimit, startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { useSimulators } from '../helpers/sandbox.js';
import { opsGenieEvent, pagerDutyEvent } from '../webhooks/support.js';

const API_TOKEN = 'apitok-7Hq2Lm9Xw4Rz8Kp3Vd6';
const PD_SECRET_OLD = 'pdsig-old-Vb6Nc1Zq8Wt5Ys2Gx';
const PD_SECRET_NEW = 'pdsig-new+/=Jm4Hd7Ka0Pe3Lr';
const OG_TOKEN = 'ogtok-Fy5Ur8Ti1Op4As7Dg0Hj';
const ROUTING_KEY = 'Rk7mQ2xW9pL4vN8bT3cY6hJ1sD5fG0aZ';
const OPSGENIE_API_KEY = 'ogkey-3e9a7c1b-5d2f-4a8e-9b6c';
const PD_KEY_PAYMENTS = 'Pm4nB8vC2xZ6lK0jH5gF9dS3aQ7wE1rT';
const DATABASE_PASSWORD = 'dbpw-Xo2Ve8Lu5Ni1Ma7Ke4Qs';
// Policy-level secrets: written literally in the policy file, in no environment variable.
const CHAT_SECRET = 'chatsig-Wq3Er6Ty9Ui2Op5As8';
const CHAT_BEARER = 'chatbearer-Zx4Cv7Bn0Mq3Wl6';
const CHAT_AUTHORIZATION = `Bearer ${CHAT_BEARER}`;

const ENV = {
  API_TOKEN,
  PAGERDUTY_WEBHOOK_SECRET: `${PD_SECRET_OLD},${PD_SECRET_NEW}`,
  OPSGENIE_WEBHOOK_TOKEN: OG_TOKEN,
  PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
  OPSGENIE_API_KEY,
  PD_KEY_PAYMENTS,
  DATABASE_PASSWORD,
};

/** Every secret of the run by name: none may appear, whole or its first 12 characters. */
const SECRETS: Record<string, string> = {
  API_TOKEN,
  'PAGERDUTY_WEBHOOK_SECRET (old)': PD_SECRET_OLD,
  'PAGERDUTY_WEBHOOK_SECRET (new)': PD_SECRET_NEW,
  'PAGERDUTY_WEBHOOK_SECRET (whole value)': ENV.PAGERDUTY_WEBHOOK_SECRET,
  OPSGENIE_WEBHOOK_TOKEN: OG_TOKEN,
  PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
  OPSGENIE_API_KEY,
  PD_KEY_PAYMENTS,
  DATABASE_PASSWORD,
  'policy providers.chat.secret': CHAT_SECRET,
  'policy providers.chat.headers.Authorization': CHAT_AUTHORIZATION,
  'policy providers.chat bearer token': CHAT_BEARER,
};
const PREFIX = 12;

/** `name (whole|first 12)` for each secret found in `text`. */
function secretsIn(text: string, allowed: readonly string[] = []): string[] {
  const found: string[] = [];
  for (const [name, value] of Object.entries(SECRETS)) {
    if (allowed.includes(value)) continue;
    if (text.includes(value)) found.push(`${name} (whole)`);
    else if (text.includes(value.slice(0, PREFIX))) found.push(`${name} (first ${PREFIX} chars)`);
  }
  return found;
}

/** Where a leak is, without printing the secret: the 40 characters before it. */
function context(text: string, name: string): string {
  const value = SECRETS[name.replace(/ \((whole|first \d+ chars)\)$/, '')] ?? '';
  const at = text.indexOf(value.slice(0, PREFIX));
  return at < 0 ? '' : JSON.stringify(text.slice(Math.max(0, at - 40), at));
}

interface Answer {
  label: string;
  status: number;
  headers: Record<string, string>;
  text: string;
}

const CHAT_PROVIDER = (url: string): string => `
  chat: # a generic webhook provider with policy-level credentials
    type: webhook
    url: ${url}/chat
    secret: '${CHAT_SECRET}'
    headers: { Authorization: '${CHAT_AUTHORIZATION}', X-Team: notifications }
`;
const CHAT_ROUTE = `
  - name: notifications-chat
    when: { all: [{ fact: service, operator: equal, value: notification-service }] }
    deliver: { mode: all, providers: [chat, opsgenie] }
`;

// A policy file on disk that misuses secrets: some of its problems quote the value, some must not.
const MISUSE = [
  'apiVersion: incident-router/v1',
  'services:',
  "  leaky-service: { team: '${DATABASE_PASSWORD}' }",
  'providers:',
  '  pagerduty-misused:',
  '    type: pagerduty',
  "    routing_key: '${OPSGENIE_API_KEY}'",
  '    severity_map: { critical: critical, high: error, medium: warning, low: info }',
  '  chat-misused:',
  '    type: webhook',
  "    url: '${DATABASE_PASSWORD}'",
  'classify:',
  '  - name: misuse-priority',
  "    priority: '${API_TOKEN}'",
  '    when: { all: [{ fact: service, operator: equal, value: leaky-service }] }',
  '    severity: high',
  // A long value: the loader quotes at most 77 characters of it, cutting the key in two.
  '  - name: page-the-payments-team-through-its-own-pagerduty-service-${PD_KEY_PAYMENTS}',
  '    when: { all: [{ fact: service, operator: equal, value: leaky-service }] }',
  '    severity: high',
  '',
].join('\n');

/** The shipped files plus one more, as a candidate policy body. */
async function candidateWith(t: TestApp, extra: string): Promise<{ files: Record<string, string> }> {
  const files: Record<string, string> = {};
  for (const name of (await readdir(t.policyDir)).filter((f) => f.endsWith('.yaml')))
    files[name] = await readFile(join(t.policyDir, name), 'utf8');
  files['zz-candidate.yaml'] = `apiVersion: incident-router/v1\n${extra}\n`;
  return { files };
}

let sandbox: Sandbox;
useSimulators((s) => (sandbox = s));

describe('secrets everywhere (issue 11)', () => {
  it('no answer, log line, timeline or policy view of a broad run holds a secret or its first 12 characters', async () => {
    expect(ROUTING_KEY).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(PD_KEY_PAYMENTS).toMatch(/^[A-Za-z0-9]{32}$/);
    const t = await startTestApp(ENV, {
      sandbox,
      production: true,
      captureLogs: true,
      editSettings: fastBreaker,
      edits: {
        'providers.yaml': (s) => noRateLimit(s) + CHAT_PROVIDER(sandbox.urls.webhook),
        'paging.yaml': (s) => s.replace(/^routes:.*\n/m, (line) => line + CHAT_ROUTE),
      },
    });
    const answers: Answer[] = [];
    const incidentIds = new Set<string>();
    const parts = t.app.parts;
    const AUTH = { authorization: `Bearer ${API_TOKEN}` };

    /** Every request of the test goes through here, and every answer is kept. */
    async function call(
      method: string,
      path: string,
      options: { json?: unknown; raw?: string; headers?: Record<string, string> } = {},
    ): Promise<{ status: number; body: any; text: string }> {
      const headers: Record<string, string> = { ...options.headers };
      let body: string | undefined;
      if (options.raw !== undefined) body = options.raw;
      else if (options.json !== undefined) body = JSON.stringify(options.json);
      if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
        headers['content-type'] = 'application/json';
      const res = await fetch(`${t.url}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
      });
      const text = await res.text();
      answers.push({
        label: `${method} ${path} → ${res.status}`,
        status: res.status,
        headers: Object.fromEntries(res.headers),
        text,
      });
      let parsed: unknown = null;
      try {
        parsed = text === '' ? null : JSON.parse(text);
      } catch {
        parsed = text;
      }
      return { status: res.status, body: parsed, text };
    }
    const get = (path: string) => call('GET', path);
    const post = (path: string, json: unknown, headers: Record<string, string> = AUTH) =>
      call('POST', path, { json, headers });
    const alert = async (a: Record<string, unknown>) => {
      const res = await post('/api/v1/alerts', a);
      expect(res.status).toBe(202);
      if (typeof res.body?.incident_id === 'string') incidentIds.add(res.body.incident_id);
      return res.body as { incident_id: string; paged: boolean };
    };
    const pagerDutyWebhook = (body: string, secret: string) =>
      call('POST', '/api/v1/webhooks/pagerduty', {
        raw: body,
        headers: { 'x-pagerduty-signature': signV1(body, [secret]), 'x-webhook-id': `wh-${Math.random()}` },
      });
    const opsGenieWebhook = (body: string, token: string) =>
      call('POST', '/api/v1/webhooks/opsgenie', { raw: body, headers: { 'x-webhook-token': token } });
    const settle = async () => {
      for (let i = 0; i < 3; i++) {
        await parts.engine.idle();
        await Promise.all([sandbox.pagerduty.webhooksIdle(), sandbox.opsgenie.webhooksIdle()]);
        await parts.state.idle();
      }
    };
    const incident = (id: string) => parts.incidents.get(id);
    const holdState = async (id: string, provider: string) => (await incident(id))?.holds[provider]?.state;
    /** A `delivery_failed` entry for this provider is on the incident's timeline. */
    const failedAt = async (id: string, provider: string) =>
      (await parts.state.detail(id))?.timeline.some(
        (e) => e.type === 'delivery_failed' && e.provider === provider,
      ) ?? false;
    const gets = async () => {
      for (const path of [
        '/livez',
        '/readyz',
        '/api/v1/health',
        '/api/v1/metrics',
        '/metrics',
        '/api/v1/policy',
        '/api/v1/incidents',
        '/api/v1/webhooks/unmatched',
      ])
        expect((await get(path)).status).toBe(200);
    };

    try {
      // The simulators send their webhooks here: PagerDuty signs with the new secret of the
      // rotation, the hand-made ones below with the old one.
      sandbox.pagerduty.configureWebhook({
        url: `${t.url}/api/v1/webhooks/pagerduty`,
        secret: PD_SECRET_NEW,
      });
      sandbox.opsgenie.configureWebhook({ url: `${t.url}/api/v1/webhooks/opsgenie`, token: OG_TOKEN });

      await gets();
      expect((await get('/no/such/route')).status).toBe(404);
      expect((await get('/api/v1/incidents/inc_missing')).status).toBe(404);

      // Wrong credentials everywhere: 401s, nothing changes.
      const someAlert = { title: 'x', source: 'y', severity: 'low', service_name: 'search' };
      expect((await post('/api/v1/alerts', someAlert, {})).status).toBe(401);
      expect(
        (await post('/api/v1/alerts', someAlert, { authorization: 'Bearer wrong-token-0000000' })).status,
      ).toBe(401);
      // Almost the token (one character short, one too many): what was sent must not be echoed.
      for (const near of [API_TOKEN.slice(0, -1), `${API_TOKEN}x`, API_TOKEN.toUpperCase()])
        expect((await post('/api/v1/alerts', someAlert, { authorization: `Bearer ${near}` })).status).toBe(
          401,
        );
      expect((await post('/api/v1/events', [], { authorization: `Token ${API_TOKEN}` })).status).toBe(401);
      expect((await post('/api/v1/policy/reload', {}, {})).status).toBe(401);
      expect(
        (await post('/api/v1/incidents/inc_x/acknowledge', {}, { authorization: 'Bearer nope' })).status,
      ).toBe(401);
      const unknownPd = pagerDutyEvent('incident.acknowledged', {
        id: 'PNOPE01',
        incident_key: 'ir-unknown',
      });
      expect((await pagerDutyWebhook(unknownPd, 'not-the-secret')).status).toBe(401);
      expect((await pagerDutyWebhook(unknownPd, PD_SECRET_OLD.slice(0, -1))).status).toBe(401);
      expect(
        (
          await call('POST', '/api/v1/webhooks/pagerduty', {
            raw: unknownPd,
            headers: { 'x-pagerduty-signature': 'v1=zz' },
          })
        ).status,
      ).toBe(401);
      expect((await call('POST', '/api/v1/webhooks/pagerduty', { raw: unknownPd })).status).toBe(401);
      const unknownOg = opsGenieEvent('Acknowledge', { alias: 'ir-unknown' });
      expect((await opsGenieWebhook(unknownOg, 'wrong-token')).status).toBe(401);
      expect((await opsGenieWebhook(unknownOg, `${OG_TOKEN}x`)).status).toBe(401);
      expect((await opsGenieWebhook(unknownOg, OG_TOKEN.slice(0, 14))).status).toBe(401);
      expect((await call('POST', '/api/v1/webhooks/opsgenie', { raw: unknownOg })).status).toBe(401);
      // Valid credentials, no such incident: 202 and listed as unmatched.
      expect((await pagerDutyWebhook(unknownPd, PD_SECRET_OLD)).status).toBe(202);
      expect((await opsGenieWebhook(unknownOg, OG_TOKEN)).status).toBe(202);
      // Valid credentials, but a body that is not JSON, or an instance the policy does not have.
      const notJson = `{"event": "${ROUTING_KEY}"`;
      expect((await pagerDutyWebhook(notJson, PD_SECRET_NEW)).status).toBe(400);
      expect(
        (
          await call('POST', '/api/v1/webhooks/pagerduty/no-such-instance', {
            raw: unknownPd,
            headers: { 'x-pagerduty-signature': signV1(unknownPd, [PD_SECRET_OLD]) },
          })
        ).status,
      ).toBe(404);

      // Dry-runs: plain, and candidates that try to read secrets.
      const dry = await post(
        '/api/v1/policy/dry-run',
        {
          alert: {
            title: 'Checkout slow ${PAGERDUTY_ROUTING_KEY}',
            source: 'http',
            severity: 'medium',
            service_name: 'payment-service',
          },
          at: '2026-11-24T03:00:00Z',
        },
        {},
      );
      expect(dry.status).toBe(200);
      expect(
        (
          await post(
            '/api/v1/policy/dry-run',
            {
              event: {
                timestamp: new Date().toISOString(),
                service: 'notification-service',
                level: 'error',
                message: 'upstream 502 from push gateway, key=${OPSGENIE_API_KEY}',
              },
            },
            {},
          )
        ).status,
      ).toBe(200);
      const sneaky = await candidateWith(
        t,
        [
          'classify:',
          '  - name: sneaky-title',
          '    priority: 10000',
          '    when: { all: [{ fact: service, operator: equal, value: payment-service }] }',
          '    severity: critical',
          "    title: 'key ${PAGERDUTY_ROUTING_KEY} pw ${DATABASE_PASSWORD} tok ${API_TOKEN}'",
          "    fingerprint: '{service}:${PD_KEY_PAYMENTS}'",
        ].join('\n'),
      );
      const event = {
        timestamp: new Date().toISOString(),
        service: 'payment-service',
        level: 'fatal',
        message: 'connection refused',
      };
      const candidateRun = await post('/api/v1/policy/dry-run', { event, policy: sneaky });
      expect(candidateRun.status).toBe(200);
      expect(candidateRun.body.title).toBe('key $PAGERDUTY_ROUTING_KEY pw $DATABASE_PASSWORD tok $API_TOKEN');
      expect((await post('/api/v1/policy/dry-run', { event, policy: sneaky }, {})).status).toBe(401);
      const badCandidate = await candidateWith(
        t,
        [
          'services:',
          "  leak: { team: '${DATABASE_PASSWORD}' }",
          'providers:',
          '  hook:',
          '    type: webhook',
          "    url: 'https://${API_TOKEN}.example.com/${PAGERDUTY_ROUTING_KEY}'",
          "    secret: '${PAGERDUTY_WEBHOOK_SECRET}'",
          "    headers: { Authorization: 'Bearer ${OPSGENIE_API_KEY}' }",
        ].join('\n'),
      );
      expect((await post('/api/v1/policy/dry-run', { event, policy: badCandidate })).status).toBe(422);
      const validated = await post('/api/v1/policy/validate', badCandidate);
      expect(validated.status).toBe(200);
      expect(validated.body.valid).toBe(false);
      expect(
        (await post('/api/v1/policy/validate', badCandidate, { authorization: 'Bearer wrong' })).status,
      ).toBe(401);
      const yamlCandidate = await call('POST', '/api/v1/policy/validate', {
        raw: "apiVersion: incident-router/v1\nteams:\n  '${PD_KEY_PAYMENTS}': {}\n",
        headers: { ...AUTH, 'content-type': 'application/yaml' },
      });
      expect(yamlCandidate.status).toBe(200);

      // A policy on disk that misuses secrets: refused, shown, then fixed.
      await writeFile(join(t.policyDir, 'zz-misuse.yaml'), MISUSE);
      const refused = await post('/api/v1/policy/reload', {});
      expect(refused.status).toBe(422);
      expect(refused.body.error.details.errors.length).toBeGreaterThanOrEqual(4);
      const shown = await get('/api/v1/policy');
      expect(shown.body.last_reload.ok).toBe(false);
      await unlink(join(t.policyDir, 'zz-misuse.yaml'));
      expect((await post('/api/v1/policy/reload', {})).status).toBe(200);
      expect((await get('/api/v1/policy')).body.last_reload.ok).toBe(true);

      // Pages on every route.
      // critical-everywhere, payments team: PagerDuty with the team's own routing key.
      const payments = await alert({
        title: 'Database Connection Failed',
        source: 'database',
        severity: 'critical',
        service_name: 'payment-service',
        description: 'pool at 100%',
      });
      // security-everywhere: PagerDuty with the provider's key, and OpsGenie.
      const security = await alert({
        title: 'JWT signature verification failed',
        source: 'auth',
        severity: 'medium',
        service_name: 'user-auth',
      });
      // notifications-chat: the webhook provider with its secret and bearer header, and OpsGenie.
      const chat = await alert({
        title: 'Push gateway rejects sends',
        source: 'push',
        severity: 'high',
        service_name: 'notification-service',
      });
      // Text that looks like references is data, never interpolated.
      const literal = await alert({
        title: 'Export stuck ${PAGERDUTY_ROUTING_KEY}',
        source: 'export',
        severity: 'high',
        service_name: 'inventory-service',
        description: 'pw ${DATABASE_PASSWORD}',
        details: { token: '${API_TOKEN}', nested: { key: '${PD_KEY_PAYMENTS}' } },
      });
      const accepted = await post('/api/v1/events', [
        {
          timestamp: new Date().toISOString(),
          service: 'search',
          level: 'error',
          message: 'OOMKilled worker-3',
        },
        {
          timestamp: new Date().toISOString(),
          service: 'search',
          source: 'cache',
          level: 'info',
          message: 'cache miss rate 40%',
        },
        { timestamp: 'yesterday', service: 'search', level: 'error', message: 'invalid' },
      ]);
      expect(accepted.status).toBe(202);
      expect(accepted.body.rejected).toHaveLength(1);
      await settle();
      await waitFor(async () => (await holdState(payments.incident_id, 'pagerduty')) === 'open');
      await waitFor(async () => (await holdState(security.incident_id, 'opsgenie')) === 'open');
      await waitFor(async () => (await holdState(chat.incident_id, 'chat')) === 'open');
      await settle();

      // Providers that echo the credentials back in their error bodies (refusals: not retried).
      sandbox.pagerduty.injectFault({
        kind: 'status',
        status: 400,
        times: 1,
        scope: { action: 'trigger' },
        body: {
          status: 'invalid event',
          message: `routing key ${ROUTING_KEY} is disabled`,
          errors: [`routing_key=${ROUTING_KEY}`],
        },
      });
      const refusedByPd = await alert({
        title: 'Order export lagging',
        source: 'export',
        severity: 'high',
        service_name: 'order-service',
      });
      await waitFor(async () => (await holdState(refusedByPd.incident_id, 'opsgenie')) === 'open');
      await settle();
      sandbox.opsgenie.injectFault({
        kind: 'status',
        status: 422,
        times: 1,
        scope: { action: 'create' },
        body: { message: `Key GenieKey ${OPSGENIE_API_KEY} is not allowed`, took: 0.001, requestId: 'r-1' },
      });
      const refusedByOg = await alert({
        title: 'Search latency up',
        source: 'search',
        severity: 'low',
        service_name: 'search',
      });
      await waitFor(async () => (await holdState(refusedByOg.incident_id, 'pagerduty')) === 'open');
      await settle();
      sandbox.webhook.injectFault({
        kind: 'status',
        status: 400,
        times: 1,
        body: {
          error: `token ${CHAT_BEARER} revoked (${CHAT_AUTHORIZATION}); signed with ${CHAT_SECRET}`,
        },
      });
      const refusedByChat = await alert({
        title: 'sms-sender OOMKilled', // a classify rule: its own fingerprint
        source: 'sms',
        severity: 'high',
        service_name: 'notification-service',
      });
      await waitFor(async () => failedAt(refusedByChat.incident_id, 'chat'));
      await settle();

      // An outage of PagerDuty (5xx twice, then it recovers) and of OpsGenie (down, then up).
      sandbox.pagerduty.injectFault({ kind: 'status', status: 503, times: 2, scope: { action: 'trigger' } });
      const gateway = await post('/api/v1/events', {
        timestamp: new Date().toISOString(),
        service: 'api-gateway',
        level: 'error',
        message: 'upstream 503 from auth backend',
      });
      expect(gateway.body.accepted).toBe(1);
      await waitFor(async () =>
        sandbox.pagerduty
          .incidents()
          .some((i) => i.routingKey === ROUTING_KEY && /api-gateway/.test(i.title)),
      );
      await settle();
      await sandbox.opsgenie.down();
      const pool = await alert({
        title: 'connection pool exhausted',
        source: 'database',
        severity: 'critical',
        service_name: 'inventory-service',
      });
      await waitFor(async () => failedAt(pool.incident_id, 'opsgenie'), 10_000);
      await get(`/api/v1/incidents/${pool.incident_id}`);
      await get('/api/v1/health');
      await sandbox.opsgenie.up();
      await waitFor(async () => (await holdState(pool.incident_id, 'opsgenie')) === 'open', 10_000);
      await settle();

      // Acknowledge and resolve: through the API, from the simulators' UIs (their signed webhooks),
      // and by hand-signed webhooks (the old secret of the rotation).
      expect(
        (await post(`/api/v1/incidents/${chat.incident_id}/acknowledge`, { note: 'on it' })).status,
      ).toBe(200);
      expect((await post(`/api/v1/incidents/${chat.incident_id}/resolve`, { note: 'fixed' })).status).toBe(
        200,
      );
      // Resolving twice changes nothing; acknowledging a resolved incident is a conflict.
      expect((await post(`/api/v1/incidents/${chat.incident_id}/resolve`, {})).body.changed).toBe(false);
      expect((await post(`/api/v1/incidents/${chat.incident_id}/acknowledge`, {})).status).toBe(409);
      expect((await post(`/api/v1/incidents/${chat.incident_id}/resolve`, {}, {})).status).toBe(401);
      const securityKey = (await incident(security.incident_id))!.provider_key;
      await sandbox.pagerduty.acknowledge(securityKey);
      await waitFor(async () => sandbox.opsgenie.alert(securityKey)?.status === 'acked');
      await settle();
      expect(
        (await post(`/api/v1/incidents/${security.incident_id}/resolve`, { note: 'rotated keys' })).status,
      ).toBe(200);
      const paymentsKey = (await incident(payments.incident_id))!.provider_key;
      await sandbox.opsgenie.close(paymentsKey);
      await waitFor(async () => sandbox.pagerduty.incident(paymentsKey)?.status === 'resolved');
      await settle();
      const orderKey = (await incident(refusedByPd.incident_id))!.provider_key;
      await sandbox.opsgenie.acknowledge(orderKey);
      await waitFor(async () => (await incident(refusedByPd.incident_id))?.state === 'acknowledged');
      const searchKey = (await incident(refusedByOg.incident_id))!.provider_key;
      const searchPd = sandbox.pagerduty.incident(searchKey)!;
      const resolvedByHand = await pagerDutyWebhook(
        pagerDutyEvent('incident.resolved', { id: searchPd.id, incident_key: searchKey, status: 'resolved' }),
        PD_SECRET_OLD,
      );
      expect(resolvedByHand.status).toBe(200);
      expect(
        (await opsGenieWebhook(opsGenieEvent('AddNote', { alias: orderKey, note: 'looking' }), OG_TOKEN))
          .status,
      ).toBeLessThan(300);
      // A log line resolves the pool incident.
      await post('/api/v1/events', {
        timestamp: new Date().toISOString(),
        service: 'inventory-service',
        level: 'info',
        message: 'connection pool recovered',
      });
      await waitFor(async () => (await incident(pool.incident_id))?.state === 'resolved');
      await settle();

      // Every read endpoint once more, the list with its filters, every incident.
      await gets();
      for (const query of [
        'state=triggered',
        'state=acknowledged',
        'state=resolved',
        'service=payment-service',
        'team=payments',
        'team=applications&state=resolved',
        'limit=2',
        'state=bogus',
      ])
        await get(`/api/v1/incidents?${query}`);
      const all = (await get('/api/v1/incidents?limit=500')).body.incidents as { id: string }[];
      for (const i of all) incidentIds.add(i.id);
      const details: unknown[] = [];
      for (const id of incidentIds) {
        const d = await get(`/api/v1/incidents/${id}`);
        expect(d.status).toBe(200);
        details.push(d.body);
      }
      await settle();

      // The credentials really were used, so their absence below means something.
      expect(sandbox.pagerduty.incident(paymentsKey)!.routingKey).toBe(PD_KEY_PAYMENTS);
      expect(sandbox.pagerduty.incident(securityKey)!.routingKey).toBe(ROUTING_KEY);
      const chatPosts = sandbox.webhook.received();
      expect(chatPosts.map((w) => (w.body as any).action)).toEqual(
        expect.arrayContaining(['trigger', 'acknowledge', 'resolve']),
      );
      for (const w of chatPosts) {
        expect(w.headers['authorization']).toBe(CHAT_AUTHORIZATION);
        expect(w.headers['x-incident-router-signature']).toBe(signV1(w.rawBody, [CHAT_SECRET]));
      }
      expect(sandbox.opsgenie.requests().length).toBeGreaterThan(5);
      // Reference-like text in an alert is data: it reaches the provider as written.
      const literalKey = (await incident(literal.incident_id))!.provider_key;
      expect(sandbox.pagerduty.incident(literalKey)!.title).toContain('${PAGERDUTY_ROUTING_KEY}');
      const paymentsDetail = details.find((d: any) => d.id === payments.incident_id) as any;
      expect(paymentsDetail.holds.pagerduty.routing_key).toBe(`****${PD_KEY_PAYMENTS.slice(-4)}`);
      expect(JSON.stringify(details)).toContain('[redacted]'); // the echoed keys, scrubbed

      // The simulators' webhook deliveries carry our answers to them too.
      for (const [name, sim] of [
        ['pagerduty', sandbox.pagerduty],
        ['opsgenie', sandbox.opsgenie],
      ] as const)
        for (const delivery of sim.webhooks())
          for (const attempt of delivery.attempts)
            answers.push({
              label: `${name} webhook ${delivery.eventType} → ${attempt.status}`,
              status: attempt.status ?? 0,
              headers: {},
              text: attempt.responseBody ?? '',
            });

      // ---- The search.
      const leaks: string[] = [];
      for (const a of answers) {
        const text = `${JSON.stringify(a.headers)}\n${a.text}`;
        for (const s of secretsIn(text)) leaks.push(`answer ${a.label}: ${s} after ${context(text, s)}`);
      }
      const lines = t
        .logs()
        .split('\n')
        .filter((l) => l !== '');
      for (const line of lines) {
        for (const s of secretsIn(line)) {
          const event = /"event":"([^"]*)"/.exec(line)?.[1] ?? '?';
          leaks.push(`log line (event ${event}): ${s} after ${context(line, s)}`);
        }
      }
      // Timelines as stored, not only as served (the answers above are scrubbed on the way out).
      for (const id of incidentIds) {
        const stored = await parts.state.detail(id);
        expect(stored).not.toBeNull();
        const text = JSON.stringify(stored!.timeline);
        for (const s of secretsIn(text))
          leaks.push(`stored timeline of ${id}: ${s} after ${context(text, s)}`);
      }
      const policy = await get('/api/v1/policy');
      for (const s of secretsIn(policy.text)) leaks.push(`/api/v1/policy document: ${s}`);
      // What the providers received carries their own credentials and nobody else's.
      const sent: [string, string, readonly string[]][] = [
        ...sandbox.pagerduty
          .requests()
          .map((r): [string, string, string[]] => [
            'pagerduty',
            JSON.stringify(r),
            [ROUTING_KEY, PD_KEY_PAYMENTS],
          ]),
        ...sandbox.opsgenie
          .requests()
          .map((r): [string, string, string[]] => ['opsgenie', JSON.stringify(r), [OPSGENIE_API_KEY]]),
        ...chatPosts.map((w): [string, string, string[]] => [
          'chat',
          JSON.stringify(w),
          [CHAT_AUTHORIZATION, CHAT_BEARER],
        ]),
      ];
      for (const [to, text, own] of sent)
        for (const s of secretsIn(text, own)) leaks.push(`request to ${to}: ${s} after ${context(text, s)}`);

      console.log(
        `secrets-everywhere: ${Object.keys(SECRETS).length} secrets searched in ${answers.length} HTTP answers, ` +
          `${lines.length} log lines, ${incidentIds.size} stored timelines, ${sent.length} provider requests; ` +
          `${leaks.length} leak(s)`,
      );
      expect(answers.length).toBeGreaterThanOrEqual(40);
      // At debug level the sidecar logs decisions about webhooks, refusals, reloads and failed
      // deliveries, not every request or delivered page: this run writes about 45 lines.
      expect(lines.length).toBeGreaterThanOrEqual(40);
      const events = new Set(lines.map((l) => /"event":"([^"]*)"/.exec(l)?.[1]));
      for (const kind of [
        'listening',
        'policy_loaded',
        'policy_reload_failed',
        'webhook_unauthorized',
        'webhook_rejected',
        'webhook_handled',
        'delivery_failed',
      ])
        expect(events, `a "${kind}" log line`).toContain(kind);
      expect(leaks).toEqual([]);
    } finally {
      sandbox.pagerduty.configureWebhook(null);
      sandbox.opsgenie.configureWebhook(null);
      await t.stop();
    }
  });
});
