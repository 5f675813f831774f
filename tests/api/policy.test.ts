// The policy endpoints over real HTTP (docs/http-api.md, "Policy"): GET, validate, reload, dry-run, hot
// reload.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { get, post, startTestApp, waitFor, type TestApp, exposition } from '../helpers/app.js';

const ROUTING_KEY = 'abcdefghijklmnopqrstuvwxyz123456';
const TOKEN = 'a-long-api-token-for-tests';
const AUTH = { authorization: `Bearer ${TOKEN}` };

describe('policy API', () => {
  let t: TestApp;
  beforeEach(async () => {
    // The dry-run test asks about the shipped maintenance window.
    t = await startTestApp(
      { PAGERDUTY_ROUTING_KEY: ROUTING_KEY, API_TOKEN: TOKEN },
      { maintenanceWindow: true },
    );
  });
  afterEach(async () => t.stop());

  it('GET /livez and /readyz answer', async () => {
    expect((await get(`${t.url}/livez`)).status).toBe(200);
    expect(await get(`${t.url}/readyz`)).toEqual({
      status: 200,
      body: { status: 'ready', checks: expect.objectContaining({ policy: true }) },
    });
  });

  it('GET /api/v1/policy shows version, revision and files, and masks secrets', async () => {
    const { status, body } = await get(`${t.url}/api/v1/policy`);
    expect(status).toBe(200);
    expect(body.version).toBe('2026.11.23-1');
    expect(body.revision).toMatch(/^sha256:/);
    expect(body.files.map((f: { name: string }) => f.name)).toContain('classify.yaml');
    expect(body.last_reload).toMatchObject({ ok: true, trigger: 'startup' });
    expect(JSON.stringify(body)).not.toContain(ROUTING_KEY);
    expect(body.document.providers.pagerduty.routing_key).toBe('****3456');
  });

  it('dry-run explains a decision for an event at a given time, sending nothing', async () => {
    const { status, body } = await post(`${t.url}/api/v1/policy/dry-run`, {
      event: {
        timestamp: '2026-11-29T02:30:00Z',
        service: 'order-service',
        level: 'error',
        source: 'database',
        message: 'connection refused to postgres',
      },
      at: '2026-11-29T02:30:00Z',
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      severity: 'critical',
      suppressed: true,
      suppressed_by: { rule: 'db-maintenance' },
      paged: false,
      route: null,
      candidate: false,
    });
    expect(
      body.trace[0].rules.find((r: { name: string }) => r.name === 'db-connection-failure').conditions,
    ).toBeDefined();
  });

  it('dry-run takes the seed alert shape', async () => {
    const { body } = await post(`${t.url}/api/v1/policy/dry-run`, {
      alert: {
        title: 'Database Connection Failed',
        source: 'database',
        severity: 'critical',
        service_name: 'payment-service',
      },
      at: '2026-11-24T15:00:00Z',
    });
    expect(body).toMatchObject({
      severity: 'critical',
      route: { name: 'critical-everywhere', mode: 'all', providers: ['pagerduty', 'opsgenie'] },
    });
  });

  it('dry-run evaluates a candidate policy without touching the active one', async () => {
    const files: Record<string, string> = {};
    for (const name of [
      '00-settings.yaml',
      'providers.yaml',
      'catalog.yaml',
      'time-windows.yaml',
      'classify.yaml',
      'paging.yaml',
      'oncall.yaml',
      'escalations.yaml',
    ]) {
      files[name] = await readFile(join(t.policyDir, name), 'utf8');
    }
    files['classify.yaml'] = files['classify.yaml']!.replace(
      /severity: info\s*# recorded for trends, never paged/,
      'severity: high',
    );
    const before = (await get(`${t.url}/api/v1/policy`)).body.revision;
    const event = {
      timestamp: '2026-11-24T15:00:00Z',
      service: 'search',
      level: 'info',
      source: 'cache',
      message: 'cache miss rate increased by 5%',
    };
    const candidate = await post(
      `${t.url}/api/v1/policy/dry-run`,
      { event, at: '2026-11-24T15:00:00Z', policy: { files } },
      AUTH,
    );
    expect(candidate.status).toBe(200);
    expect(candidate.body).toMatchObject({ candidate: true, severity: 'high', paged: true });
    const active = await post(`${t.url}/api/v1/policy/dry-run`, { event, at: '2026-11-24T15:00:00Z' });
    expect(active.body).toMatchObject({ candidate: false, severity: 'info', paged: false });
    expect((await get(`${t.url}/api/v1/policy`)).body.revision).toBe(before);
  });

  it('dry-run refuses malformed requests with 400 and the reasons', async () => {
    const noInput = await post(`${t.url}/api/v1/policy/dry-run`, { at: '2026-11-24T15:00:00Z' });
    expect(noInput).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    const badEvent = await post(`${t.url}/api/v1/policy/dry-run`, { event: { service: 'x', level: 'loud' } });
    expect(badEvent.status).toBe(400);
    expect(badEvent.body.error.details.errors).toEqual(
      expect.arrayContaining([
        "event.must have required property 'timestamp'",
        expect.stringContaining('event.level: must be one of'),
      ]),
    );
    const badAt = await post(`${t.url}/api/v1/policy/dry-run`, {
      event: { timestamp: '2026-11-24T15:00:00Z', service: 'x', level: 'info', message: 'm' },
      at: 'tomorrow',
    });
    expect(badAt.body.error.message).toContain('at must be an RFC 3339 time');
    // A day its month does not have is refused, not rolled over into the next month.
    const noSuchDay = await post(`${t.url}/api/v1/policy/dry-run`, {
      event: { timestamp: '2026-11-24T15:00:00Z', service: 'x', level: 'info', message: 'm' },
      at: '2026-02-30T03:00:00Z',
    });
    expect(noSuchDay.status).toBe(400);
    expect(noSuchDay.body.error.message).toContain('at must be an RFC 3339 time');
    const notJson = await post(`${t.url}/api/v1/policy/dry-run`, '{"event": ');
    expect(notJson).toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
    const unknown = await post(`${t.url}/api/v1/policy/dry-run`, { event: {}, extra: 1 });
    expect(unknown.body.error.message).toContain('unknown field(s): extra');
    const badCandidate = await post(
      `${t.url}/api/v1/policy/dry-run`,
      {
        event: { timestamp: '2026-11-24T15:00:00Z', service: 'x', level: 'info', message: 'm' },
        policy: 'apiVersion: nope',
      },
      AUTH,
    );
    expect(badCandidate.status).toBe(422);
    expect(badCandidate.body.error.details.errors.length).toBeGreaterThan(0);
  });

  it('validate answers every problem as file:line:col for YAML text', async () => {
    const res = await fetch(`${t.url}/api/v1/policy/validate`, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml', ...AUTH },
      body: 'apiVersion: incident-router/v1\nversion: "x"\nroutes:\n  - name: r\n    deliver: { mode: sometimes, providers: [nope] }\n',
    });
    const body = (await res.json()) as { valid: boolean; errors: string[] };
    expect(res.status).toBe(200);
    expect(body.valid).toBe(false);
    expect(body.errors.length).toBeGreaterThan(0);
    for (const e of body.errors) expect(e).toMatch(/^candidate\.yaml:\d+:\d+ /);
  });

  it('reload refuses an invalid policy with 422 and every error, keeps the old one, and drops the gauge', async () => {
    const before = (await get(`${t.url}/api/v1/policy`)).body;
    await writeFile(
      join(t.policyDir, 'broken.yaml'),
      'apiVersion: incident-router/v1\nroutes:\n  - name: x\n    deliver: { mode: all, providers: [ghost] }\n  - name: Bad Name\n',
    );
    const auth = { authorization: `Bearer ${TOKEN}` };
    const refused = await post(`${t.url}/api/v1/policy/reload`, {}, auth);
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('policy_invalid');
    expect(refused.body.error.details.errors.length).toBeGreaterThanOrEqual(2);
    expect(refused.body.error.details.errors.every((e: string) => /^broken\.yaml:\d+:\d+ /.test(e))).toBe(
      true,
    );
    expect((await get(`${t.url}/api/v1/policy`)).body.revision).toBe(before.revision);
    expect(await exposition(t.url)).toMatch(/^incident_router_policy_last_reload_successful 0$/m);
    const dry = await post(`${t.url}/api/v1/policy/dry-run`, {
      alert: { title: 'x', source: 'database', severity: 'critical', service_name: 'payment-service' },
    });
    expect(dry.body.policy.revision).toBe(before.revision);

    await writeFile(join(t.policyDir, 'broken.yaml'), 'apiVersion: incident-router/v1\n');
    const ok = await post(`${t.url}/api/v1/policy/reload`, {}, auth);
    expect(ok).toMatchObject({ status: 200, body: { ok: true, trigger: 'api' } });
    expect(await exposition(t.url)).toMatch(/^incident_router_policy_last_reload_successful 1$/m);
  });

  it('reload requires the API token', async () => {
    expect((await post(`${t.url}/api/v1/policy/reload`, {})).status).toBe(401);
    expect(
      (
        await post(
          `${t.url}/api/v1/policy/reload`,
          {},
          { authorization: 'Bearer wrong-token-of-some-length' },
        )
      ).body.error.code,
    ).toBe('unauthorized');
  });

  it('unknown routes and methods answer in the error shape', async () => {
    expect(await get(`${t.url}/api/v1/nope`)).toMatchObject({
      status: 404,
      body: { error: { code: 'not_found' } },
    });
    const res = await fetch(`${t.url}/api/v1/policy/reload`, { method: 'GET' });
    expect(res.status).toBe(405);
    expect(((await res.json()) as any).error.code).toBe('method_not_allowed');
  });
});

describe('policy hot reload', () => {
  it('reloads on file change (debounced), and keeps serving through an invalid edit', async () => {
    const t = await startTestApp({}, { watchPolicy: true });
    try {
      const settings = join(t.policyDir, '00-settings.yaml');
      const text = await readFile(settings, 'utf8');
      await writeFile(settings, text.replace(/version: .*/, 'version: "2026.11.23-2"'));
      await waitFor(async () => (await get(`${t.url}/api/v1/policy`)).body.version === '2026.11.23-2');
      await writeFile(settings, text.replace(/version: .*/, 'version: [oops'));
      await waitFor(async () => (await get(`${t.url}/api/v1/policy`)).body.last_reload?.ok === false);
      expect((await get(`${t.url}/api/v1/policy`)).body.version).toBe('2026.11.23-2');
    } finally {
      await t.stop();
    }
  });
});
