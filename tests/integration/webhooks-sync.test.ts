// Cross-provider sync through real webhooks: the simulators send signed webhooks the way PagerDuty
// and OpsGenie do (including for the actions our sync makes through their APIs); the sidecar is the
// real store, incident service, dispatcher and webhooks router over HTTP.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { waitFor } from '../helpers/app.js';
import { useSimulators } from '../helpers/sandbox.js';
import { startHarness, type Harness } from '../webhooks/support.js';

let sandbox: Sandbox;
let h: Harness;

useSimulators((s) => (sandbox = s));
beforeEach(async () => {
  h = await startHarness(sandbox);
});
afterEach(async () => h.stop());

/** A critical alert: route critical-everywhere, both providers hold it once this resolves. */
const openEverywhere = (service: string) =>
  h.openEverywhere({ title: `Disk full on ${service}`, service_name: service });

async function settle() {
  for (let i = 0; i < 3; i++) {
    await h.engine.idle();
    await Promise.all([sandbox.pagerduty.webhooksIdle(), sandbox.opsgenie.webhooksIdle()]);
  }
}

const timelineOf = async (id: string) =>
  (await (await fetch(`${h.url}/api/v1/incidents/${id}`)).json()) as {
    state: string;
    timeline: {
      type: string;
      provider: string | null;
      actor: string;
      message: string;
      source_event_id: string | null;
      policy_version: string;
    }[];
    deliveries: { action: string; candidates: string[]; origin: string | null }[];
  };

describe('webhooks - cross-provider sync', () => {
  it('acknowledged in PagerDuty: ours and the OpsGenie alert are acknowledged, nothing goes back to PagerDuty, and the OpsGenie echo changes nothing', async () => {
    const incident = await openEverywhere('payment-service');
    const before = h.events.length;
    const pd = sandbox.pagerduty.incident(incident.provider_key)!;

    const { delivery } = await sandbox.pagerduty.acknowledge(pd.id);
    expect(delivery?.outcome).toBe('delivered');
    expect(JSON.parse(delivery!.attempts[0]!.responseBody!)).toMatchObject({
      result: 'applied',
      incident_id: incident.id,
      state: 'acknowledged',
    });
    // Our state changed before PagerDuty had its answer.
    expect((await h.incidents.get(incident.id))!.state).toBe('acknowledged');
    await waitFor(async () => sandbox.opsgenie.alert(incident.provider_key)?.status === 'acked');
    await settle();

    // Nothing went back to PagerDuty: only the trigger was ever sent there.
    expect(sandbox.pagerduty.requests().map((r) => (r.body as any).event_action)).toEqual(['trigger']);
    // OpsGenie sent its own Acknowledge for our API call; it was recognised and changed nothing.
    const echo = sandbox.opsgenie.webhooks().find((w) => w.eventType === 'Acknowledge')!;
    expect(echo.outcome).toBe('delivered');
    expect(JSON.parse(echo.attempts[0]!.responseBody!)).toMatchObject({
      result: 'observed',
      state: 'acknowledged',
    });

    const detail = await timelineOf(incident.id);
    expect(detail.state).toBe('acknowledged');
    const ack = detail.timeline.findIndex((e) => e.type === 'acknowledged');
    expect(detail.timeline[ack]).toMatchObject({
      provider: 'pagerduty',
      actor: 'Sandbox Responder',
      message: 'acknowledge in pagerduty by Sandbox Responder; syncing opsgenie',
      source_event_id: JSON.parse(delivery!.body).event.id,
      policy_version: '2026.11.23-1',
    });
    expect(detail.timeline.slice(ack + 1).map((e) => [e.type, e.provider])).toEqual([
      ['delivered', 'opsgenie'],
    ]);
    expect(detail.timeline[ack + 1]!.message).toMatch(/^acknowledge accepted by opsgenie/);
    expect(detail.deliveries.filter((d) => d.action === 'acknowledge')).toEqual([
      expect.objectContaining({ candidates: ['opsgenie'], origin: 'pagerduty' }),
    ]);

    const acks = h.events.slice(before).filter((e) => e.kind === 'acknowledged');
    expect(acks).toHaveLength(1);
    expect(acks[0]).toMatchObject({
      incident_id: incident.id,
      source: 'pagerduty',
      actor: 'Sandbox Responder',
    });
    expect(h.events.slice(before)).toHaveLength(1);

    // The PagerDuty incident id is learned from its webhooks and kept on the hold.
    const stored = (await h.incidents.get(incident.id))!;
    expect(stored.holds['pagerduty']!.external_id).toBe(pd.id);
    expect(stored.holds['opsgenie']!.external_id).toBe(sandbox.opsgenie.alert(incident.provider_key)!.id);
    expect(await h.webhookCount('pagerduty', 'applied')).toBe(1);
    expect(await h.webhookCount('opsgenie', 'observed')).toBeGreaterThanOrEqual(1);
  });

  it("closed in OpsGenie: resolved here and in PagerDuty, never closed again in OpsGenie, and PagerDuty's echo changes nothing", async () => {
    const incident = await openEverywhere('auth-service');
    const before = h.events.length;

    const { delivery } = await sandbox.opsgenie.close(incident.provider_key);
    expect(delivery?.outcome).toBe('delivered');
    expect(JSON.parse(delivery!.attempts[0]!.responseBody!)).toMatchObject({
      result: 'applied',
      state: 'resolved',
    });
    await waitFor(async () => sandbox.pagerduty.incident(incident.provider_key)?.status === 'resolved');
    await settle();

    // We never told OpsGenie to close what it closed itself.
    expect(sandbox.opsgenie.requests().filter((r) => r.path.endsWith('/close'))).toEqual([]);
    expect(sandbox.pagerduty.requests().map((r) => (r.body as any).event_action)).toEqual([
      'trigger',
      'resolve',
    ]);
    expect(sandbox.pagerduty.dropped()).toEqual([]); // the resolve used the trigger's routing key
    const echo = sandbox.pagerduty.webhooks().find((w) => w.eventType === 'incident.resolved')!;
    expect(JSON.parse(echo.attempts[0]!.responseBody!)).toMatchObject({
      result: 'observed',
      state: 'resolved',
    });

    const detail = await timelineOf(incident.id);
    expect(detail.state).toBe('resolved');
    const resolved = detail.timeline.findIndex((e) => e.type === 'resolved');
    expect(detail.timeline[resolved]).toMatchObject({
      provider: 'opsgenie',
      actor: 'sandbox-responder@example.com',
      message: 'resolve in opsgenie by sandbox-responder@example.com; syncing pagerduty',
    });
    expect(detail.timeline.slice(resolved + 1).map((e) => [e.type, e.provider])).toEqual([
      ['delivered', 'pagerduty'],
    ]);

    const resolves = h.events.slice(before).filter((e) => e.kind === 'resolved');
    expect(resolves).toHaveLength(1);
    expect(resolves[0]).toMatchObject({ source: 'opsgenie' });
    expect(h.events.slice(before)).toHaveLength(1);
  });

  it('acknowledged in OpsGenie, then resolved in PagerDuty: each change reaches the other provider once', async () => {
    const incident = await openEverywhere('api-gateway');
    await sandbox.opsgenie.acknowledge(incident.provider_key);
    await waitFor(async () => sandbox.pagerduty.incident(incident.provider_key)?.status === 'acknowledged');
    await settle();
    await sandbox.pagerduty.resolve(incident.provider_key);
    await waitFor(async () => sandbox.opsgenie.alert(incident.provider_key)?.status === 'closed');
    await settle();
    expect(sandbox.pagerduty.requests().map((r) => (r.body as any).event_action)).toEqual([
      'trigger',
      'acknowledge',
    ]);
    const actions = sandbox.opsgenie.requests().map((r) => r.path.split('/').at(-1));
    expect(actions).toEqual(['alerts', 'close']);
    expect(h.events.map((e) => e.kind)).toEqual(['triggered', 'acknowledged', 'resolved']);
    expect((await timelineOf(incident.id)).state).toBe('resolved');
  });

  it('notes, escalation and reassignment are on the timeline with who and where', async () => {
    const incident = await openEverywhere('order-service');
    await sandbox.pagerduty.annotate(incident.provider_key, 'looking at the replica lag');
    await sandbox.opsgenie.addNote(incident.provider_key, 'DBA paged', { user: 'dana@example.com' });
    await sandbox.opsgenie.escalate(incident.provider_key);
    await settle();
    const detail = await timelineOf(incident.id);
    const messages = detail.timeline.map((e) => `${e.type}: ${e.message}`);
    expect(messages).toContain('note: note in pagerduty by Sandbox Responder: looking at the replica lag');
    expect(messages).toContain('note: note in opsgenie by dana@example.com: DBA paged');
    expect(messages).toContain('escalated: escalate in opsgenie by sandbox-responder@example.com');
    expect(h.events.filter((e) => e.kind === 'escalated')).toHaveLength(1);
    expect(detail.state).toBe('triggered');
  });
});
