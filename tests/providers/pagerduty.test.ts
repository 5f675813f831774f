import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PagerDutySimulator } from '../../src/sandbox/index.js';
import { PagerDutyProvider } from '../../src/providers/pagerduty/pagerduty.js';
import { PagerDutyConfig } from '../../src/providers/pagerduty/config.js';
import { buildTrigger, fitEvent, PAGERDUTY_LIMITS } from '../../src/providers/pagerduty/payload.js';
import {
  bytes,
  expectValidOutbound,
  hasLoneSurrogate,
  makeIncident,
  pagerDutySpec,
  PD_KEY,
  PD_PAYMENTS_KEY,
  requestFor,
} from './support.js';

let sim: PagerDutySimulator;
let pd: PagerDutyProvider;

beforeAll(async () => {
  sim = await PagerDutySimulator.start({ port: 0 });
  const overrides = { payments: { routing_key: PD_PAYMENTS_KEY }, ml: { api_key: 'not-for-pagerduty' } };
  pd = new PagerDutyProvider('pagerduty', new PagerDutyConfig(pagerDutySpec(sim.eventsUrl), overrides));
});
afterAll(async () => {
  await pd.close();
  await sim.stop();
});
beforeEach(() => sim.reset());

const signal = (): AbortSignal => AbortSignal.timeout(5_000);

/** The last body the simulator received. */
function lastBody(): Record<string, unknown> {
  return sim.requests().at(-1)?.body as Record<string, unknown>;
}

describe('pagerduty - lifecycle against the simulator', () => {
  it('triggers, acknowledges and resolves one incident with the same routing key', async () => {
    const incident = makeIncident();
    const opened = await pd.send(requestFor(pd, 'trigger', incident), signal());
    expect(opened).toEqual({ status: 202, ref: incident.provider_key });
    expect(sim.incident(incident.provider_key)).toMatchObject({
      routingKey: PD_KEY,
      dedupKey: incident.provider_key,
      status: 'triggered',
      title: incident.title,
      severity: 'critical',
    });

    await pd.send(requestFor(pd, 'acknowledge', incident), signal());
    expect(sim.incident(incident.provider_key)?.status).toBe('acknowledged');
    const resolved = await pd.send(requestFor(pd, 'resolve', incident), signal());
    expect(resolved.status).toBe(202);
    expect(sim.incident(incident.provider_key)?.status).toBe('resolved');
    expect(sim.dropped()).toEqual([]);
    expectValidOutbound(sim.requests());
  });

  it('sends the documented trigger fields', async () => {
    const incident = makeIncident();
    await pd.send(requestFor(pd, 'trigger', incident), signal());
    expect(lastBody()).toEqual({
      routing_key: PD_KEY,
      event_action: 'trigger',
      dedup_key: incident.provider_key,
      payload: {
        summary: incident.title,
        source: 'db-1.example.com',
        severity: 'critical',
        timestamp: incident.event.timestamp,
        component: 'database',
        group: 'payment-service',
        class: 'db-connection-failure',
        custom_details: {
          incident_id: incident.id,
          correlation_id: incident.correlation_id,
          fingerprint: incident.fingerprint,
          service: 'payment-service',
          team: 'platform',
          criticality: 'critical',
          occurrences: 1,
          policy_version: '2026.11.23-1',
          trace_id: 'trace-1',
          message: 'connection pool exhausted',
          attributes: { pool: 'primary', waiting: 12 },
        },
      },
      client: 'incident-router',
      client_url: 'http://127.0.0.1:8080/incidents/inc-1',
    });
  });

  it('falls back to the service as source and omits component when the event has none', async () => {
    const incident = makeIncident({ severity: 'high', event: { host: null, source: null } });
    await pd.send(requestFor(pd, 'trigger', incident), signal());
    const payload = lastBody()['payload'] as Record<string, unknown>;
    expect(payload['source']).toBe('payment-service');
    expect(payload).not.toHaveProperty('component');
    expect(payload['severity']).toBe('error');
    expectValidOutbound(sim.requests());
  });

  it("uses a team's own routing key for that team, and acknowledges with it", async () => {
    const incident = makeIncident({ team: 'payments' });
    expect(pd.target('payments')).toEqual({ url: sim.eventsUrl, routing_key: PD_PAYMENTS_KEY });
    expect(pd.target('ml').routing_key).toBe(PD_KEY);
    await pd.send(requestFor(pd, 'trigger', incident), signal());
    expect(sim.incident(incident.provider_key)?.routingKey).toBe(PD_PAYMENTS_KEY);
    await pd.send(requestFor(pd, 'acknowledge', incident), signal());
    expect(sim.incident(incident.provider_key)?.status).toBe('acknowledged');
  });

  it('acknowledges with the key the caller passes (the one that opened the incident)', async () => {
    const incident = makeIncident({ team: 'payments' });
    await pd.send(requestFor(pd, 'trigger', incident), signal());
    const wrong = {
      ...requestFor(pd, 'acknowledge', incident),
      target: { url: sim.eventsUrl, routing_key: PD_KEY },
    };
    await pd.send(wrong, signal());
    expect(sim.dropped()).toMatchObject([{ reason: 'routing_key_mismatch' }]);
    expect(sim.incident(incident.provider_key)?.status).toBe('triggered');
  });

  it('answers a note locally: the Events API has no notes', async () => {
    const incident = makeIncident();
    expect(await pd.send(requestFor(pd, 'note', incident, 'hello'), signal())).toEqual({
      status: 204,
      ref: null,
    });
    expect(sim.requests()).toEqual([]);
  });
});

describe('pagerduty - limits are met by truncation, never by a refused request', () => {
  it('cuts the summary to 1024 characters without splitting an astral character', async () => {
    const incident = makeIncident({ title: 'a'.repeat(1022) + '😀' + 'x'.repeat(50) });
    expect(await pd.send(requestFor(pd, 'trigger', incident), signal())).toMatchObject({ status: 202 });
    const summary = (lastBody()['payload'] as { summary: string }).summary;
    expect(summary.length).toBeLessThanOrEqual(PAGERDUTY_LIMITS.summaryChars);
    expect(summary.endsWith('…')).toBe(true);
    expect(hasLoneSurrogate(summary)).toBe(false);
    expectValidOutbound(sim.requests());
  });

  it('keeps a summary of exactly 1024 characters, astral character last', async () => {
    const title = 'a'.repeat(1022) + '😀';
    await pd.send(requestFor(pd, 'trigger', makeIncident({ title })), signal());
    expect((lastBody()['payload'] as { summary: string }).summary).toBe(title);
  });

  it('keeps 1024 code points of astral text within 1024 UTF-16 units', async () => {
    await pd.send(requestFor(pd, 'trigger', makeIncident({ title: '🔥'.repeat(1024) })), signal());
    const summary = (lastBody()['payload'] as { summary: string }).summary;
    expect(summary.length).toBeLessThanOrEqual(1024);
    expect(hasLoneSurrogate(summary)).toBe(false);
    expectValidOutbound(sim.requests());
  });

  it('drops huge attributes first to stay within 512,000 bytes; the simulator accepts it', async () => {
    const incident = makeIncident({
      event: { attributes: { blob: 'ü'.repeat(300_000) }, message: 'm'.repeat(200_000) },
    });
    expect(await pd.send(requestFor(pd, 'trigger', incident), signal())).toMatchObject({ status: 202 });
    const body = lastBody();
    expect(bytes(body)).toBeLessThanOrEqual(512_000);
    const details = (body['payload'] as { custom_details: Record<string, unknown> }).custom_details;
    expect(details).not.toHaveProperty('attributes');
    expect(details['message']).toBe('m'.repeat(200_000));
    expect(details['dropped_fields']).toEqual(['attributes']);
    expect(details['fingerprint']).toBe(incident.fingerprint);
    expectValidOutbound(sim.requests());
  });

  it('drops the largest custom detail, then the next, until the event fits', async () => {
    const incident = makeIncident({
      event: {
        host: 'h'.repeat(300_000),
        attributes: { blob: 'a'.repeat(250_000) },
        message: 'm'.repeat(260_000),
      },
    });
    expect(await pd.send(requestFor(pd, 'trigger', incident), signal())).toMatchObject({ status: 202 });
    const payload = lastBody()['payload'] as { source: string; custom_details: Record<string, unknown> };
    expect(payload.custom_details['dropped_fields']).toEqual(['message', 'attributes']);
    expect(payload.custom_details['incident_id']).toBe(incident.id);
    expect(payload.source).toBe(incident.event.host);
    expect(bytes(lastBody())).toBeLessThanOrEqual(512_000);
  });

  it('then cuts the largest remaining strings, JSON escapes included (a huge host and source)', async () => {
    const incident = makeIncident({
      event: { host: 'h'.repeat(300_000), source: '"\n'.repeat(150_000), message: 'm'.repeat(100_000) },
    });
    expect(await pd.send(requestFor(pd, 'trigger', incident), signal())).toMatchObject({ status: 202 });
    const body = lastBody();
    expect(bytes(body)).toBeLessThanOrEqual(512_000);
    expect(bytes(body)).toBeGreaterThan(500_000);
    const payload = body['payload'] as { source: string; summary: string; component: string };
    expect(payload.component.endsWith('…')).toBe(true);
    expect(payload.component.length).toBeGreaterThan(50_000);
    expect(payload.source).toBe(incident.event.host);
    expect(payload.summary).toBe(incident.title);
    expectValidOutbound(sim.requests());
  });

  it('fitEvent is a no-op for an event within the limit and exact at the boundary', () => {
    const event = buildTrigger({
      incident: makeIncident({ event: { message: 'x'.repeat(600_000) } }),
      routingKey: PD_KEY,
      severity: 'critical',
      incidentUrl: 'http://127.0.0.1/i',
    });
    const small = fitEvent(event, 10_000_000);
    expect(small).toBe(event);
    for (const max of [512_000, 20_000, 2_000]) expect(bytes(fitEvent(event, max))).toBeLessThanOrEqual(max);
  });
});
