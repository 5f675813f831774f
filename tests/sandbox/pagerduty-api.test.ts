import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PagerDutySimulator } from '../../src/sandbox/index.js';
import { OTHER_ROUTING_KEY, ROUTING_KEY, send, statusChange, trigger } from './support.js';

let sim: PagerDutySimulator;
beforeAll(async () => {
  sim = await PagerDutySimulator.start();
});
afterAll(() => sim.stop());
beforeEach(() => sim.reset());

const invalid = (errors: string[]) => ({
  status: 'invalid event',
  message: 'Event object is invalid',
  errors,
});

describe('pagerduty simulator - Events API v2 answers', () => {
  it('accepts a trigger with 202 and echoes the dedup_key', async () => {
    const res = await send(sim.eventsUrl, trigger('srv01/mysql'));
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'success', message: 'Event processed', dedup_key: 'srv01/mysql' });
  });

  it('generates a dedup_key for a trigger without one, and each such trigger opens its own incident', async () => {
    const a = await send(sim.eventsUrl, trigger(undefined));
    const b = await send(sim.eventsUrl, trigger(undefined));
    const keyA = (a.body as { dedup_key: string }).dedup_key;
    expect(keyA).toMatch(/^[0-9a-f-]{36}$/);
    expect(keyA).not.toBe((b.body as { dedup_key: string }).dedup_key);
    expect(sim.incidents().map((i) => i.dedupKey)).toEqual([
      keyA,
      (b.body as { dedup_key: string }).dedup_key,
    ]);
  });

  it('reports both observed routing_key errors at once', async () => {
    const res = await send(sim.eventsUrl, trigger('k', { routing_key: 'not-a-key!' }));
    expect(res.status).toBe(400);
    expect(res.body).toEqual(
      invalid([
        "Length of 'routing_key' is incorrect (should be 32 characters)",
        "'routing_key' cannot contain non-alphanumeric characters.",
      ]),
    );
  });

  it('refuses a summary over 1024 characters with the observed message, typo included', async () => {
    const payload = { summary: 'x'.repeat(1025), source: 'h', severity: 'critical' };
    const res = await send(sim.eventsUrl, trigger('k', { payload }));
    expect(res.body).toEqual(invalid(["'summary' is too long (maiximum is 1024 characters)"]));
    expect(
      (await send(sim.eventsUrl, trigger('k', { payload: { ...payload, summary: 'x'.repeat(1024) } })))
        .status,
    ).toBe(202);
  });

  it('names every missing payload field and a bad severity', async () => {
    const missing = await send(sim.eventsUrl, trigger('k', { payload: {} }));
    expect(missing.body).toEqual(
      invalid([
        "'payload.summary' is missing or blank",
        "'payload.source' is missing or blank",
        "'payload.severity' is missing or blank",
      ]),
    );
    const bad = await send(
      sim.eventsUrl,
      trigger('k', { payload: { summary: 's', source: 'h', severity: 'high' } }),
    );
    expect((bad.body as { errors: string[] }).errors).toEqual([
      "'payload.severity' is invalid (must be one of: critical, error, warning, info)",
    ]);
    expect((await send(sim.eventsUrl, trigger('k', { payload: undefined }))).body).toEqual(
      invalid(["'payload' is missing or blank"]),
    );
  });

  it('refuses a dedup_key over 255 characters and an acknowledge without one', async () => {
    const long = await send(sim.eventsUrl, trigger('k'.repeat(256)));
    expect((long.body as { errors: string[] }).errors).toEqual([
      "'dedup_key' is too long (maiximum is 255 characters)",
    ]);
    const ack = await send(sim.eventsUrl, { routing_key: ROUTING_KEY, event_action: 'acknowledge' });
    expect(ack.body).toEqual(invalid(["'dedup_key' is missing or blank"]));
    const action = await send(sim.eventsUrl, {
      routing_key: ROUTING_KEY,
      event_action: 'snooze',
      dedup_key: 'k',
    });
    expect((action.body as { errors: string[] }).errors).toEqual([
      "'event_action' is invalid (must be one of: trigger, acknowledge, resolve)",
    ]);
  });

  it('answers "Unrecognized object" to a body that is not a JSON object', async () => {
    const expected = {
      status: 'Unrecognized object',
      message: 'Event object format is unrecognized',
      errors: ['JSON parse error'],
    };
    for (const body of ['{"routing_key":', 'routing_key=x', '[1,2]', '']) {
      const res = await send(sim.eventsUrl, body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual(expected);
    }
  });

  it('refuses a request over 512 KB as a whole', async () => {
    const details = { blob: 'x'.repeat(520_000) };
    const res = await send(
      sim.eventsUrl,
      trigger('k', { payload: { summary: 's', source: 'h', severity: 'info', custom_details: details } }),
    );
    expect(res.status).toBe(413);
    expect(sim.incidents()).toEqual([]);
  });

  it('answers 404 on other paths', async () => {
    expect((await send(`${sim.url}/v1/enqueue`, trigger('k'))).status).toBe(404);
  });

  it('logs every request with the status it answered', async () => {
    await send(sim.eventsUrl, trigger('k'));
    await send(sim.eventsUrl, 'nope');
    expect(sim.requests().map((r) => [r.action ?? null, r.status, r.outcome])).toEqual([
      ['trigger', 202, 'answered'],
      [null, 400, 'answered'],
    ]);
    expect(sim.requests()[1]?.rawBody).toBe('nope');
  });
});

describe('pagerduty simulator - incident bookkeeping', () => {
  it('folds repeated triggers into the open incident and keeps its status', async () => {
    await send(sim.eventsUrl, trigger('k1'));
    await send(sim.eventsUrl, statusChange('acknowledge', 'k1'));
    await send(
      sim.eventsUrl,
      trigger('k1', { payload: { summary: 'again', source: 'h', severity: 'error' } }),
    );
    const [incident] = sim.incidents();
    expect(sim.incidents()).toHaveLength(1);
    expect(incident).toMatchObject({
      status: 'acknowledged',
      alertCount: 2,
      routingKey: ROUTING_KEY,
      dedupKey: 'k1',
    });
    expect(incident?.lastEvent).toMatchObject({ payload: { summary: 'again' } });
    expect(incident?.acknowledgedAt).not.toBeNull();
  });

  it('drops (still 202) an acknowledge or resolve sent with another routing key, and records it', async () => {
    await send(sim.eventsUrl, trigger('k1'));
    const res = await send(sim.eventsUrl, statusChange('resolve', 'k1', OTHER_ROUTING_KEY));
    expect(res.status).toBe(202);
    expect(sim.incident('k1')?.status).toBe('triggered');
    expect(sim.dropped()).toMatchObject([
      { action: 'resolve', dedupKey: 'k1', reason: 'routing_key_mismatch' },
    ]);
    expect(sim.requests().at(-1)?.note).toBe('dropped: routing_key_mismatch');
  });

  it('drops an acknowledge for a dedup key with no open incident', async () => {
    expect((await send(sim.eventsUrl, statusChange('acknowledge', 'never'))).status).toBe(202);
    expect(sim.dropped()).toMatchObject([{ action: 'acknowledge', reason: 'no_open_incident' }]);
    expect(sim.incidents()).toEqual([]);
  });

  it('opens a new incident when a key triggers again after resolve', async () => {
    await send(sim.eventsUrl, trigger('k1'));
    await send(sim.eventsUrl, statusChange('resolve', 'k1'));
    await send(sim.eventsUrl, statusChange('resolve', 'k1'));
    await send(sim.eventsUrl, trigger('k1'));
    const incidents = sim.incidents();
    expect(incidents.map((i) => [i.number, i.status])).toEqual([
      [1, 'resolved'],
      [2, 'triggered'],
    ]);
    expect(sim.dropped()).toHaveLength(1);
  });

  it('keeps the same dedup key under two routing keys as two incidents', async () => {
    await send(sim.eventsUrl, trigger('shared'));
    await send(sim.eventsUrl, trigger('shared', { routing_key: OTHER_ROUTING_KEY }));
    await send(sim.eventsUrl, statusChange('acknowledge', 'shared', OTHER_ROUTING_KEY));
    expect(sim.incidents().map((i) => [i.routingKey, i.status])).toEqual([
      [ROUTING_KEY, 'triggered'],
      [OTHER_ROUTING_KEY, 'acknowledged'],
    ]);
  });
});

describe('pagerduty simulator - emulated rate limit', () => {
  it('answers 429 "Request Limit Exceeded" past the limit, per routing key', async () => {
    const limited = await PagerDutySimulator.start({ rateLimitPerMinute: 2 });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await send(limited.eventsUrl, trigger(`k${i}`))).status);
      expect(statuses).toEqual([202, 202, 429]);
      const throttled = await send(limited.eventsUrl, trigger('k9'));
      expect(throttled.body).toMatchObject({
        status: 'Request Limit Exceeded',
        message: 'Request Limit Exceeded',
      });
      expect((await send(limited.eventsUrl, trigger('k', { routing_key: OTHER_ROUTING_KEY }))).status).toBe(
        202,
      );
      expect(limited.incidents()).toHaveLength(3);
    } finally {
      await limited.stop();
    }
  });
});

describe('pagerduty simulator - a bounded book (the sandbox inside the sidecar)', () => {
  it('forgets the oldest resolved incidents past keepResolved and keeps every open one', async () => {
    const bounded = await PagerDutySimulator.start({ keepResolved: 4 });
    try {
      await send(bounded.eventsUrl, trigger('open-1'));
      for (let i = 0; i < 6; i++) {
        await send(bounded.eventsUrl, trigger(`done-${i}`));
        await send(bounded.eventsUrl, statusChange('resolve', `done-${i}`));
      }
      await send(bounded.eventsUrl, trigger('open-2'));
      const kept = bounded.incidents().map((i) => [i.dedupKey, i.status]);
      expect(kept).toContainEqual(['open-1', 'triggered']);
      expect(kept).toContainEqual(['open-2', 'triggered']);
      expect(kept.length).toBeLessThanOrEqual(6);
      expect(bounded.incidents().find((i) => i.dedupKey === 'done-0')).toBeUndefined();
      // The open one still takes its resolve.
      await send(bounded.eventsUrl, statusChange('resolve', 'open-1'));
      expect(bounded.incidents().find((i) => i.dedupKey === 'open-1')?.status).toBe('resolved');
    } finally {
      await bounded.stop();
    }
  });
});
