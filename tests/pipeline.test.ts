// The pipeline (src/pipeline.ts) over a running app: a repeat of an open incident is decided without
// routes, and such a decision applied once its incident is gone is decided again, in full.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { alertToInput, type AlertInput } from '../src/domain/log-event.js';
import type { Sandbox } from '../src/sandbox/index.js';
import type { Decided } from '../src/pipeline.js';
import { post, startTestApp, type TestApp } from './helpers/app.js';
import { useSimulators } from './helpers/sandbox.js';

const ALERT: AlertInput = {
  title: 'Database Connection Failed',
  source: 'database',
  severity: 'critical',
  service_name: 'payment-service',
};

let sandbox: Sandbox;
let t: TestApp;

useSimulators((s) => (sandbox = s));
beforeEach(async () => {
  t = await startTestApp({}, { sandbox });
});
afterEach(async () => t.stop());

const decide = (full = false): Decided => {
  const decided = t.app.parts.pipeline.decide(alertToInput(ALERT, new Date()), full);
  if (decided instanceof Promise) throw new Error('the shipped policy decides this alert synchronously');
  return decided;
};

it('a repeat takes no route, and is decided again in full once its incident is gone', async () => {
  const first = await post(`${t.url}/api/v1/alerts`, ALERT);
  expect(first.body).toMatchObject({ outcome: 'paged', route: { name: 'critical-everywhere' } });

  const lite = decide();
  expect(lite.decision).toMatchObject({ paged: true, routes: [], route: null });
  expect(lite.decision.incident).toEqual({ open: true, id: first.body.incident_id });
  expect(lite.decision.trace.at(-1)).toEqual({
    stage: 'route',
    rules: [],
    skipped: 'a repeat of an open incident: routes are chosen when an incident opens',
  });
  // Shown to a caller (POST /api/v1/alerts), a repeat names the route it would take.
  expect(decide(true).decision.route?.name).toBe('critical-everywhere');
  const repeat = await post(`${t.url}/api/v1/alerts`, ALERT);
  expect(repeat.body).toMatchObject({ outcome: 'deduplicated', route: { name: 'critical-everywhere' } });

  // The incident resolves between the decision and its application: the alert opens a new one,
  // routed as any new incident.
  expect((await post(`${t.url}/api/v1/incidents/${first.body.incident_id}/resolve`, {})).status).toBe(200);
  const applied = await t.app.parts.pipeline.apply(lite);
  expect(applied.outcome).toBe('paged');
  expect(applied.incident?.id).not.toBe(first.body.incident_id);
  expect(
    applied.deliveries
      .map((d) => d.candidates)
      .flat()
      .sort(),
  ).toEqual(['opsgenie', 'pagerduty']);
});
