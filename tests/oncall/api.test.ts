// The schedule endpoints over real HTTP (docs/http-api.md, "Schedules"), on the shipped policy
// with one override, the sidecar's clock set by hand.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { get, startTestApp, type TestApp } from '../helpers/app.js';

const NOW = Date.parse('2026-03-09T12:00:00Z'); // Monday 08:00 EDT, the first Monday after spring-forward
const OVERRIDE = (text: string): string =>
  text.replace(
    "          start: '2026-01-05T10:00'\n",
    "          start: '2026-01-05T10:00'\n    overrides:\n      - { remove: ivy, start: '2026-01-20T08:00', end: '2026-01-21T20:00' }\n",
  );

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({}, { clock: new ManualClock(NOW), edits: { 'oncall.yaml': OVERRIDE } });
});
afterAll(async () => t.stop());

describe('GET /api/v1/schedules', () => {
  it('lists every schedule with its zone, coverage and who is on call now', async () => {
    const { status, body } = await get(`${t.url}/api/v1/schedules`);
    expect(status).toBe(200);
    expect(body.at).toBe('2026-03-09T12:00:00.000Z');
    expect(body.schedules).toEqual([
      {
        name: 'platform-sre',
        timezone: 'America/New_York',
        min_coverage: 1,
        coverage_during: null,
        layers: [{ name: 'primary', mode: 'add', members: [['ana'], ['ben'], ['cy']] }],
        overrides: 0,
        on_call: ['cy'], // the week from 03-02 10:00 EST is week 8 of [ana, ben, cy]
      },
      {
        name: 'prod-monitoring',
        timezone: 'America/New_York',
        min_coverage: 2,
        coverage_during: null,
        layers: [
          {
            name: 'pairs',
            mode: 'add',
            members: [
              ['dee', 'eli'],
              ['fay', 'gus'],
              ['hal', 'ivy'],
            ],
          },
        ],
        overrides: 1,
        on_call: ['hal', 'ivy'],
      },
    ]);
  });
});

describe('GET /api/v1/schedules/:name/oncall', () => {
  it('answers for now, and for ?at= either side of the hand-off at 10:00 EDT (14:00Z)', async () => {
    const now = await get(`${t.url}/api/v1/schedules/platform-sre/oncall`);
    expect(now.body).toMatchObject({ schedule: 'platform-sre', at: '2026-03-09T12:00:00.000Z' });
    const before = await get(`${t.url}/api/v1/schedules/platform-sre/oncall?at=2026-03-09T13:59:59Z`);
    const after = await get(`${t.url}/api/v1/schedules/platform-sre/oncall?at=2026-03-09T10:00:00-04:00`);
    expect(before).toEqual({
      status: 200,
      body: {
        schedule: 'platform-sre',
        at: '2026-03-09T13:59:59.000Z',
        on_call: now.body.on_call,
        until: '2026-03-09T14:00:00.000Z',
        layers: [{ name: 'primary', on_call: now.body.on_call }],
      },
    });
    expect(after.status).toBe(200);
    expect(after.body.at).toBe('2026-03-09T14:00:00.000Z');
    expect(after.body.on_call).not.toEqual(before.body.on_call);
    expect(after.body.until).toBe('2026-03-16T14:00:00.000Z'); // 168 h: no clock change that week
  });

  it('404 for an unknown schedule, naming the ones there are; 400 for a bad at', async () => {
    expect(await get(`${t.url}/api/v1/schedules/nope/oncall`)).toEqual({
      status: 404,
      body: {
        error: {
          code: 'not_found',
          message: 'no schedule named "nope"; the policy has platform-sre, prod-monitoring',
        },
      },
    });
    for (const at of ['yesterday', '2026-03-09', '2026-02-30T10:00:00Z', '']) {
      const r = await get(`${t.url}/api/v1/schedules/platform-sre/oncall?at=${encodeURIComponent(at)}`);
      expect([at, r.status, r.body.error?.code]).toEqual([at, 400, 'validation_failed']);
      expect(r.body.error.message).toBe('at must be an RFC 3339 time such as 2026-11-24T02:00:00Z');
    }
    const twice = await get(
      `${t.url}/api/v1/schedules/platform-sre/oncall?at=2026-03-09T10:00:00Z&at=2026-03-09T11:00:00Z`,
    );
    expect(twice.status).toBe(400);
  });
});

describe('GET /api/v1/schedules/:name/gaps', () => {
  it('the exact gap the override leaves, with who is on call throughout', async () => {
    const { status, body } = await get(
      `${t.url}/api/v1/schedules/prod-monitoring/gaps?from=2026-01-19T00:00:00Z&to=2026-01-26T00:00:00Z`,
    );
    expect(status).toBe(200);
    expect(body).toEqual({
      schedule: 'prod-monitoring',
      from: '2026-01-19T00:00:00.000Z',
      to: '2026-01-26T00:00:00.000Z',
      required: 2,
      coverage_during: null,
      gaps: [
        {
          start: '2026-01-20T13:00:00.000Z',
          end: '2026-01-22T01:00:00.000Z',
          required: 2,
          fewest: 1,
          on_call: ['hal'],
        },
      ],
    });
  });

  it('defaults to the horizon from now; none in it', async () => {
    const { body } = await get(`${t.url}/api/v1/schedules/prod-monitoring/gaps`);
    expect(body).toMatchObject({
      from: '2026-03-09T12:00:00.000Z',
      to: '2026-03-16T12:00:00.000Z',
      gaps: [],
    });
  });

  it('400 for bad, reversed or too distant from/to; 404 for an unknown schedule', async () => {
    const bad = async (query: string) =>
      (await get(`${t.url}/api/v1/schedules/prod-monitoring/gaps?${query}`)).body;
    expect(await bad('from=soon')).toMatchObject({
      error: { code: 'validation_failed', message: expect.stringMatching(/^from must be an RFC 3339/) },
    });
    expect(await bad('to=2026-13-01T00:00:00Z')).toMatchObject({
      error: { message: expect.stringMatching(/^to must be/) },
    });
    expect(await bad('from=2026-03-10T00:00:00Z&to=2026-03-10T00:00:00Z')).toMatchObject({
      error: { message: 'to must be after from' },
    });
    expect(await bad('from=2026-01-01T00:00:00Z&to=2027-06-01T00:00:00Z')).toMatchObject({
      error: { message: 'from and to may be at most 366 days apart' },
    });
    expect((await get(`${t.url}/api/v1/schedules/prod-monitorin/gaps`)).status).toBe(404);
  });
});
