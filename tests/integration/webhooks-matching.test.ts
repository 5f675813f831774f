// Which of a fingerprint's incidents a PagerDuty webhook is about, when a newer incident of the same
// provider key exists that PagerDuty never got (its trigger waits out an outage). Found by the
// three-replica soak: PagerDuty's `incident.triggered` for incident A reached a replica before the
// one that sent A's trigger had recorded it (no hold yet: the id was not learned), and a responder's
// acknowledgement of that PagerDuty incident, seconds later, acknowledged incident B instead, and
// synced the acknowledgement to B's OpsGenie alert (docs/architecture.md, "Webhooks and cross-provider sync").
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/incidents/records.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { OPENED_AFTER_TOLERANCE_MS } from '../../src/webhooks/match.js';
import { waitFor } from '../helpers/app.js';
import { useSimulators } from '../helpers/sandbox.js';
import {
  opsGenieEvent,
  pagerDutyEvent,
  postOpsGenie,
  postPagerDuty,
  startHarness,
  type Harness,
} from '../webhooks/support.js';

let sandbox: Sandbox;
let h: Harness;

useSimulators((s) => (sandbox = s));
// The test posts PagerDuty's webhooks itself, in the order the race left them.
beforeEach(async () => {
  h = await startHarness(sandbox, { wireSimulators: false });
});
afterEach(async () => {
  await sandbox.pagerduty.up();
  await h.stop();
});

const ALERT = { title: 'Disk full on billing', service_name: 'billing' };
const API: Actor = { actor: 'test', source: 'api', sourceEventId: null };

/** Opens an incident of ALERT's fingerprint; its id and provider key. */
async function open(): Promise<{ id: string; key: string }> {
  const applied = await h.alert(ALERT);
  expect(applied.outcome).toBe('paged');
  const id = applied.incident!.id;
  return { id, key: (await h.incidents.get(id))!.provider_key };
}

/** Resolves it here (the route's resolves wait for PagerDuty like everything else). */
async function resolve(id: string): Promise<void> {
  const done = await h.incidents.transition(id, 'resolve', API, null);
  expect(done.ok).toBe(true);
}

const stateOf = async (id: string) => (await h.incidents.get(id))?.state;

/**
 * The key flapped: A paged at `provider`, resolved there, and B opened on the same key and paged
 * there too, all recorded before any webhook of theirs came; A's and B's ids and key, and when A opened.
 */
async function flapped(provider: 'pagerduty' | 'opsgenie') {
  const held = async (id: string) =>
    waitFor(async () => (await h.incidents.get(id))?.holds[provider]?.state === 'open');
  const a = await open();
  await held(a.id);
  await h.engine.idle();
  await resolve(a.id);
  await h.engine.idle();
  const b = await open();
  await held(b.id);
  await h.engine.idle();
  const openedA = Date.parse((await h.incidents.get(a.id))!.opened_at);
  expect(Date.parse((await h.incidents.get(b.id))!.opened_at)).toBeGreaterThan(openedA);
  return { a, b, openedA };
}

describe('a PagerDuty webhook and the newer incident of its key', () => {
  it('the creation event came before our record of the trigger: later events of that PagerDuty incident still find it', async () => {
    await sandbox.pagerduty.down({ mode: 'refuse' });
    const a = await open();
    // PagerDuty created QA for A's trigger; its answer is not recorded here (no hold of A's names it).
    const created = await postPagerDuty(
      h.url,
      pagerDutyEvent('incident.triggered', { id: 'QA', incident_key: a.key }),
    );
    expect(created.status).toBe(200);
    expect(created.body.incident_id).toBe(a.id);
    expect((await h.incidents.get(a.id))?.holds['pagerduty']).toBeUndefined();
    await resolve(a.id);
    const b = await open();
    expect(b.id).not.toBe(a.id);
    expect(b.key).toBe(a.key);

    const acked = await postPagerDuty(
      h.url,
      pagerDutyEvent('incident.acknowledged', { id: 'QA', incident_key: a.key, status: 'acknowledged' }),
    );
    expect(acked.status).toBe(200);
    expect(acked.body.incident_id).toBe(a.id);
    expect(await stateOf(b.id)).toBe('triggered');
  });

  it('no event of it seen before: an acknowledgement goes to the incident PagerDuty holds, not to a newer one it never got', async () => {
    const a = await open();
    await waitFor(async () => (await h.incidents.get(a.id))?.holds['pagerduty']?.state === 'open');
    await h.engine.idle();
    await sandbox.pagerduty.down({ mode: 'refuse' });
    await resolve(a.id);
    const b = await open();
    expect(b.id).not.toBe(a.id);
    expect((await h.incidents.get(b.id))?.holds['pagerduty']).toBeUndefined();

    const acked = await postPagerDuty(
      h.url,
      pagerDutyEvent('incident.acknowledged', { id: 'QA2', incident_key: a.key, status: 'acknowledged' }),
    );
    expect(acked.body.incident_id).toBe(a.id);
    expect(await stateOf(b.id)).toBe('triggered');
    // The hold learnt PagerDuty's id from it.
    expect((await h.incidents.get(a.id))?.holds['pagerduty']?.external_id).toBe('QA2');
  });

  it('a creation event still goes to the newest incident while its trigger is being recorded', async () => {
    const a = await open();
    await waitFor(async () => (await h.incidents.get(a.id))?.holds['pagerduty']?.state === 'open');
    await h.engine.idle();
    await resolve(a.id);
    await sandbox.pagerduty.down({ mode: 'refuse' });
    const b = await open();
    // As if B's trigger had reached PagerDuty and its answer were not recorded yet.
    const created = await postPagerDuty(
      h.url,
      pagerDutyEvent('incident.triggered', { id: 'QB', incident_key: b.key }),
    );
    expect(created.body.incident_id).toBe(b.id);
  });

  it("a creation event dated before the newer incident opened is the older incident's, and its resolve echo leaves the newer one paged", async () => {
    // The key resolved and opened again within seconds: A's trigger, A's resolve and B's trigger all
    // reached PagerDuty before PagerDuty's `incident.triggered` for A's incident came.
    const { a, b, openedA } = await flapped('pagerduty');
    // PagerDuty's clock runs as far behind ours as we allow: A's incident is dated just before B opened.
    const createdA = new Date(openedA - OPENED_AFTER_TOLERANCE_MS).toISOString();

    const created = await postPagerDuty(
      h.url,
      pagerDutyEvent('incident.triggered', { id: 'QA', incident_key: a.key }, { occurredAt: createdA }),
    );
    expect(created.body.incident_id).toBe(a.id);
    const echo = await postPagerDuty(
      h.url,
      pagerDutyEvent('incident.resolved', { id: 'QA', incident_key: a.key, status: 'resolved' }),
    );
    expect(echo.body.incident_id).toBe(a.id);
    expect(await stateOf(b.id)).toBe('triggered');

    // B's own creation event, and a responder's acknowledgement of it, are B's.
    const createdB = await postPagerDuty(
      h.url,
      pagerDutyEvent('incident.triggered', { id: 'QB', incident_key: b.key }),
    );
    expect(createdB.body.incident_id).toBe(b.id);
    const acked = await postPagerDuty(
      h.url,
      pagerDutyEvent('incident.acknowledged', { id: 'QB', incident_key: b.key, status: 'acknowledged' }),
    );
    expect(acked.body.incident_id).toBe(b.id);
    expect(await stateOf(b.id)).toBe('acknowledged');
    expect((await h.incidents.get(a.id))?.holds['pagerduty']?.external_id).toBe('QA');
  });

  it("the same with OpsGenie: a Create whose alert was created before the newer incident opened is the older incident's", async () => {
    const { a, b, openedA } = await flapped('opsgenie');
    // The Create arrives late and, as OpsGenie sends the alert as it is now, updated after B opened.
    const created = await postOpsGenie(
      h.url,
      opsGenieEvent('Create', {
        alias: a.key,
        alertId: 'og-A',
        createdAtMs: openedA - OPENED_AFTER_TOLERANCE_MS,
      }),
    );
    expect(created.body.incident_id).toBe(a.id);
    const echo = await postOpsGenie(h.url, opsGenieEvent('Close', { alias: a.key, alertId: 'og-A' }));
    expect(echo.body.incident_id).toBe(a.id);
    expect(await stateOf(b.id)).toBe('triggered');
  });
});
