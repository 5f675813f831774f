// Flap damping (docs/policy-language.md, "Flap damping"): the real app with the provider
// simulators and a clock the test moves; runs against both state backends (vitest.config.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { LifecycleEvent } from '../../src/incidents/lifecycle.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { get, post, startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { useSimulators } from '../helpers/sandbox.js';

const POLICY = `apiVersion: incident-router/v1
routes:
  - name: flappy-route
    priority: 10000
    when: { all: [{ fact: service, operator: matches, value: "^flappy-" }] }
    deliver: { mode: failover, providers: [pagerduty, opsgenie] }
    flap: { max_repages: 0, window: 10m, hold: 2m }
`;
const SEC = 1_000;

let sandbox: Sandbox;
let t: TestApp;
let clock: ManualClock;
const events: LifecycleEvent[] = [];
useSimulators((s) => (sandbox = s));

beforeAll(async () => {
  clock = new ManualClock(Date.now());
  t = await startTestApp({}, { sandbox, clock, files: { 'zz-flap.yaml': POLICY } });
  t.app.parts.lifecycle.subscribe({ incident: (e) => events.push(e) });
});
afterAll(async () => t?.stop());

const alert = (service: string, title: string) =>
  post(`${t.url}/api/v1/alerts`, { title, source: 'http', severity: 'high', service_name: service });

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await t.app.parts.engine.idle();
    await t.app.parts.state.idle();
  }
}

/**
 * Waits for `n` triggers of the service at PagerDuty (cluster mode sends through a JetStream work
 * queue, whose waits run on real time while this test's clock runs ahead), then settles.
 */
async function triggered(service: string, n: number): Promise<number> {
  await waitFor(async () => triggers(service) >= n);
  await settle();
  return triggers(service);
}

/** Trigger requests PagerDuty received for a service's alerts. */
const triggers = (service: string): number =>
  sandbox.pagerduty.requests().filter((r) => {
    const body = r.body as { event_action?: string; payload?: { summary?: string } } | null;
    return body?.event_action === 'trigger' && (body.payload?.summary ?? '').includes(service);
  }).length;

const timeline = async (id: string): Promise<{ type: string; message: string }[]> =>
  (await get(`${t.url}/api/v1/incidents/${id}`)).body.timeline;

describe('flap damping', () => {
  it('10 resolve/trigger cycles in a minute page once; each re-trigger is held, on the timeline', async () => {
    const ids: string[] = [];
    for (let cycle = 0; cycle < 10; cycle++) {
      const fired = await alert('flappy-a', 'connection refused');
      expect(fired.status).toBe(202);
      expect(fired.body.outcome).toBe(cycle === 0 ? 'paged' : 'held');
      ids.push(fired.body.incident_id as string);
      // The first page reaches PagerDuty before its resolve (a resolve first would withdraw it).
      if (cycle === 0) await triggered('flappy-a', 1);
      clock.advance(3 * SEC);
      expect((await alert('flappy-a', 'connection pool recovered')).body.outcome).toBe('resolved');
      clock.advance(3 * SEC);
    }
    expect(new Set(ids).size).toBe(10);
    expect(await triggered('flappy-a', 1)).toBe(1);
    expect(sandbox.opsgenie.alerts()).toHaveLength(0);
    const held = await timeline(ids[9] as string);
    expect(held[0]?.type).toBe('flap_held');
    expect(held[0]?.message).toContain('triggered again 9 times within 10m');
    expect(
      events.filter((e) => e.kind === 'flapping' && e.fingerprint === 'flappy-a:db-connection'),
    ).toHaveLength(9);
    // The held ones resolved without a word to the providers; the hold timers found them closed.
    clock.advance(3 * 60 * SEC);
    await t.app.parts.escalations.runDue();
    await settle();
    expect(triggers('flappy-a')).toBe(1);
  });

  it('a held re-trigger that persists past the hold pages then', async () => {
    expect((await alert('flappy-b', 'connection refused')).body.outcome).toBe('paged');
    await triggered('flappy-b', 1);
    clock.advance(5 * SEC);
    await alert('flappy-b', 'connection pool recovered');
    clock.advance(5 * SEC);
    const again = await alert('flappy-b', 'connection refused');
    expect(again.body.outcome).toBe('held');
    expect(await triggered('flappy-b', 1)).toBe(1);
    clock.advance(60 * SEC);
    expect((await alert('flappy-b', 'connection refused')).body.outcome).toBe('deduplicated');
    await t.app.parts.escalations.runDue();
    await settle();
    expect(triggers('flappy-b')).toBe(1); // not yet: the hold is 2m
    clock.advance(61 * SEC);
    await t.app.parts.escalations.runDue();
    expect(await triggered('flappy-b', 2)).toBe(2);
    const entries = await timeline(again.body.incident_id as string);
    expect(entries.map((e) => e.type)).toEqual(expect.arrayContaining(['flap_held', 'flap_released']));
  });

  it('the dry-run explains the damping of the route, and what it would do to this event now', async () => {
    const dryRun = async (): Promise<any> =>
      (
        await post(`${t.url}/api/v1/policy/dry-run`, {
          alert: { title: 'connection refused', source: 'http', severity: 'high', service_name: 'flappy-c' },
        })
      ).body;
    const first = await dryRun();
    expect(first.route.flap).toEqual({ max_repages: 0, window_ms: 600_000, hold_ms: 120_000 });
    expect(first.flap_damping).toMatchObject({ this_event: 'pages', recent_retriggers: 0 });
    expect(first.flap_damping.explanation).toContain('held open');
    await alert('flappy-c', 'connection refused');
    await triggered('flappy-c', 1);
    expect((await dryRun()).flap_damping.this_event).toBe('repeat');
    clock.advance(5 * SEC);
    await alert('flappy-c', 'connection pool recovered');
    clock.advance(5 * SEC);
    const next = await dryRun();
    expect(next.flap_damping).toMatchObject({
      this_event: 'held',
      recent_retriggers: 1,
      held_until: new Date(clock.now() + 120 * SEC).toISOString(),
    });
  });
});
