// Decision semantics on a small inline policy: one scenario per rule of docs/policy-language.md.
import { beforeAll, describe, expect, it } from 'vitest';
import { alertToInput, eventToInput, type LogEvent } from '../../src/domain/log-event.js';
import { providerKey } from '../../src/domain/provider-key.js';
import type { ActivePolicy } from '../../src/policy/active.js';
import { decide, decideNow, NO_INCIDENTS } from '../../src/policy/decide.js';
import type { Decision } from '../../src/domain/decision.js';
import { compileSources } from '../helpers/policy.js';

const POLICY = `
apiVersion: incident-router/v1
version: "t-1"
settings:
  level_severity: { fatal: high, error: low }
providers:
  pd: { type: pagerduty, routing_key: "", severity_map: { critical: critical, high: error, medium: warning, low: info } }
  og: { type: opsgenie, api_key: "", priority_map: { critical: P1, high: P2, medium: P3, low: P4 } }
  hook: { type: webhook, url: "http://127.0.0.1:9/x" }
time_windows:
  nights:
    - times: [{ start_time: "00:00", end_time: "06:00" }]
teams:
  core: {}
services:
  api: { team: core, criticality: critical }
  batch: { team: core, criticality: low }
classify:
  - name: tag-db
    priority: 50
    when: { all: [{ fact: source, operator: equal, value: database }] }
    severity: medium
    title: "DB trouble on {service}"
    continue: true
  - name: db-down
    priority: 40
    when: { all: [{ fact: message, operator: matches, value: "down" }] }
    severity: critical
    fingerprint: "{service}:db"
  - name: db-up
    priority: 40
    when: { all: [{ fact: message, operator: matches, value: "back up" }] }
    resolve: "{service}:db"
  - name: noisy
    when: { all: [{ fact: message, operator: matches, value: "chatter" }] }
    severity: info
upgrade:
  - name: to-high
    when: { all: [{ fact: criticality, operator: equal, value: critical }, { fact: severity, operator: in, value: [low, medium] }] }
    severity: high
  - name: to-medium
    when: { all: [{ fact: severity, operator: equal, value: low }] }
    severity: medium
suppress:
  - name: quiet-nights
    when: { all: [{ fact: now, operator: within, value: nights }, { fact: criticality, operator: equal, value: low }] }
    reason: batch waits for the morning
routes:
  - name: copy-hook
    when: { all: [{ fact: severity, operator: severityAtLeast, value: high }] }
    deliver: { mode: all, providers: [hook] }
    continue: true
  - name: crit
    when: { all: [{ fact: severity, operator: equal, value: critical }] }
    deliver: { mode: all, providers: [pd, og] }
  - name: default
    deliver: { mode: failover, providers: [og, pd] }
`;

const NOON = Date.parse('2026-11-24T12:00:00Z');
const NIGHT = Date.parse('2026-11-24T03:00:00Z');
const event = (over: Partial<LogEvent>): LogEvent => ({
  timestamp: '2026-11-24T12:00:00Z',
  service: 'api',
  level: 'error',
  message: 'something happened',
  ...over,
});

describe('decide', () => {
  let policy: ActivePolicy;
  beforeAll(() => {
    policy = compileSources([{ name: 'policy.yaml', text: POLICY }]);
  });
  const run = (e: Partial<LogEvent>, at = NOON) =>
    decide(eventToInput(event(e)), policy.compiled, at, NO_INCIDENTS);

  it('classify - continue applies later matches over earlier ones; the title comes from the rule that set one', async () => {
    const d = await run({ source: 'database', message: 'primary is down' });
    expect(d.classification).toEqual({ rule: 'db-down', severity: 'critical' });
    expect(d.title).toBe('DB trouble on api');
    expect(d.fingerprint).toBe('api:db');
    expect(d.provider_key).toBe(providerKey('api:db'));
    expect(d.provider_key).toMatch(/^ir-[0-9a-f]{40}$/);
  });

  it('classify - no match falls back to level_severity and a level fingerprint', async () => {
    const d = await run({ service: 'batch', message: 'nothing known' });
    expect(d.classification).toEqual({ rule: 'level:error', severity: 'low' });
    expect(d.fingerprint).toBe('batch:level:error');
    expect(d.title).toBe('batch: nothing known');
  });

  it('classify - levels not in level_severity are info: ignored, not recorded', async () => {
    const d = await run({ level: 'warn' });
    expect(d).toMatchObject({ severity: 'info', paged: false, recorded: false, route: null, routes: [] });
  });

  it('classify - an info rule records without paging', async () => {
    const d = await run({ message: 'chatter chatter' });
    expect(d).toMatchObject({
      severity: 'info',
      paged: false,
      recorded: true,
      classification: { rule: 'noisy' },
    });
  });

  it('provider keys stay right past the key cache: 25,000 services in turn, then a sample of them again', async () => {
    // The cache keeps two generations of 10,000 fingerprints; whichever holds a key, it is the hash's.
    for (let round = 0; round < 2; round++)
      for (let i = 0; i < 25_000; i += round === 0 ? 1 : 997) {
        const d = await run({ service: `svc-${i}`, level: 'critical' });
        expect(d.provider_key).toBe(providerKey(d.fingerprint));
      }
  });

  it('classify - a resolve rule names the fingerprint it closes and never pages', async () => {
    const d = await decide(eventToInput(event({ message: 'db back up' })), policy.compiled, NOON, {
      openIncident: (fp) => (fp === 'api:db' ? { id: 'inc_1' } : null),
    });
    expect(d).toMatchObject({
      resolves: 'api:db',
      resolves_provider_key: providerKey('api:db'),
      paged: false,
      severity: 'info',
    });
    expect(d.incident).toEqual({ open: true, id: 'inc_1' });
  });

  it('upgrade - every matching rule applies, severity only goes up, all see the classified severity', async () => {
    const d = await run({ message: 'x' }); // api: critical service, error → low
    expect(d.upgrades).toEqual([{ rule: 'to-high', from: 'low', to: 'high' }]);
    expect(d.severity).toBe('high');
  });

  it('upgrade - a lower upgrade after a higher one changes nothing', async () => {
    const d = await run({ service: 'batch', message: 'x' }); // low criticality: only to-medium
    expect(d.upgrades).toEqual([{ rule: 'to-medium', from: 'low', to: 'medium' }]);
  });

  it('suppress - time windows decide, and a suppressed alert has no route', async () => {
    const night = await run({ service: 'batch' }, NIGHT);
    expect(night).toMatchObject({
      suppressed: true,
      suppressed_by: { rule: 'quiet-nights', reason: 'batch waits for the morning' },
      paged: false,
      route: null,
    });
    const day = await run({ service: 'batch' }, NOON);
    expect(day).toMatchObject({ suppressed: false, paged: true });
  });

  it('routes - continue collects every matching route as its own delivery group', async () => {
    const d = await run({ source: 'database', message: 'down' });
    expect(d.routes.map((r) => r.name)).toEqual(['copy-hook', 'crit']);
    expect(d.route).toEqual({ name: 'copy-hook', mode: 'all', providers: ['hook'] });
  });

  it('routes - with repeatsTakeNoRoute, a paged event of an open incident takes none; others still do', () => {
    const open = { openIncident: (fp: string) => (fp === 'api:db' ? { id: 'inc_1' } : null) };
    const lite = (e: Partial<LogEvent>) =>
      decideNow(eventToInput(event(e)), policy.compiled, NOON, open, {
        repeatsTakeNoRoute: true,
      }) as Decision;
    expect(lite({ source: 'database', message: 'down' })).toMatchObject({
      paged: true,
      routes: [],
      route: null,
      incident: { open: true, id: 'inc_1' },
    });
    expect(lite({ source: 'database', message: 'down' }).trace.at(-1)).toEqual({
      stage: 'route',
      rules: [],
      skipped: 'a repeat of an open incident: routes are chosen when an incident opens',
    });
    // A new incident routes; a resolve of the open one is not a repeat.
    expect(lite({ service: 'batch' })).toMatchObject({ routes: [{ name: 'default' }] });
    expect(lite({ message: 'db back up' })).toMatchObject({ resolves: 'api:db', paged: false });
  });

  it('routes - the catch-all takes what nothing else matched', async () => {
    const d = await run({ service: 'batch' });
    expect(d.routes).toEqual([{ name: 'default', mode: 'failover', providers: ['og', 'pd'] }]);
  });

  it('alerts - the given severity is the initial severity', async () => {
    const d = await decide(
      alertToInput(
        { title: 'Latency high', source: 'http', severity: 'medium', service_name: 'api' },
        new Date(NOON),
      ),
      policy.compiled,
      NOON,
      NO_INCIDENTS,
    );
    expect(d).toMatchObject({
      classification: { rule: 'level:warning', severity: 'medium' },
      severity: 'high',
      level: 'warning',
    });
  });

  it('unknown services are unowned with unknown criticality', async () => {
    const d = await run({ service: 'mystery' });
    expect(d).toMatchObject({ team: 'unowned', criticality: 'unknown' });
  });

  it('stamps the policy version and revision and the evaluation instant', async () => {
    const d = await run({});
    expect(d.policy.version).toBe('t-1');
    expect(d.policy.revision).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(d.at).toBe('2026-11-24T12:00:00.000Z');
  });

  it('trace - live decisions list every evaluated rule per stage; stages that do not run say why', async () => {
    const d = await run({ level: 'warn' });
    expect(d.trace.map((t) => t.stage)).toEqual(['classify', 'upgrade', 'suppress', 'route']);
    expect(d.trace[0]!.rules.map((r) => r.name)).toEqual(['tag-db', 'db-down', 'db-up', 'noisy']);
    expect(d.trace[2]!.skipped).toBe('severity info does not page');
  });

  it('trace - explain mode carries json-rules-engine conditions with fact results, and rules not reached', async () => {
    const d = await decide(
      eventToInput(event({ source: 'database', message: 'down' })),
      policy.compiled,
      NOON,
      NO_INCIDENTS,
      { explain: true },
    );
    const classify = d.trace[0]!.rules;
    expect(classify.find((r) => r.name === 'db-up')).toMatchObject({
      matched: false,
      reason: 'not evaluated: "db-down" matched first',
    });
    const tag = classify.find((r) => r.name === 'tag-db')!;
    expect(tag.matched).toBe(true);
    expect(JSON.stringify(tag.conditions)).toContain('"factResult":"database"');
  });

  it('asks json-rules-engine what only it knows yet, then answers the same event synchronously', async () => {
    // A fresh policy: its memos know nothing. The event matches a rule of three stages.
    const fresh = compileSources([{ name: 'policy.yaml', text: POLICY }]);
    const input = eventToInput(event({ source: 'database', message: 'replica down' }));
    const first = decideNow(input, fresh.compiled, NOON, NO_INCIDENTS);
    expect(first).toBeInstanceOf(Promise);
    const asked = await first;
    const again = decideNow(input, fresh.compiled, NOON, NO_INCIDENTS);
    expect(again).not.toBeInstanceOf(Promise);
    expect(again).toEqual(asked);
    // Without the memo every answer comes from the engine again, and agrees.
    const cold = await decide(input, fresh.compiled, NOON, NO_INCIDENTS, { memo: false });
    expect(cold).toEqual(asked);
    expect(asked.classification).toEqual({ rule: 'db-down', severity: 'critical' });
    expect(asked.routes.map((r) => r.name)).toContain('copy-hook');
  });

  it('is pure: the same input, policy and instant give the same decision', async () => {
    const a = await run({ source: 'database', message: 'down' });
    const b = await run({ source: 'database', message: 'down' });
    expect(a).toEqual(b);
  });
});
