// The coverage check end to end (docs/policy-language.md, "Coverage gaps"): a real sidecar on the
// shipped policy, its clock moved by hand. A gap opens one `coverage_gap` incident routed by the
// policy; a reload whose override fills the gap resolves it. Both state backends; in cluster mode
// two replicas checking at once still make one incident.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { get, post, startTestApp, type TestApp } from '../helpers/app.js';
import { NatsServer } from '../helpers/nats-server.js';

const START = Date.parse('2026-01-19T12:00:00Z'); // Monday 07:00 EST
const HOUR = 3_600_000;
// 2026-01-19 10:00 EST hands prod-monitoring to [hal, ivy]; without ivy it is one short.
const IVY_AWAY = "      - { remove: ivy, start: '2026-01-20T08:00', end: '2026-01-21T20:00' }\n";
const ANA_COVERS = "      - { add: ana, start: '2026-01-20T08:00', end: '2026-01-21T20:00' }\n";

function withOverrides(...lines: string[]) {
  return (text: string): string =>
    text.replace(
      "          start: '2026-01-05T10:00'\n",
      `          start: '2026-01-05T10:00'\n    overrides:\n${lines.join('')}`,
    );
}

// Monday 2026-01-19 06:00-09:00 New York time: everyone of platform-sre's rotation is away.
function withNobodyOnPlatformSre(text: string): string {
  const rotation = "        rotation: { members: [ana, ben, cy], every: 1w, start: '2026-01-05T10:00' }\n";
  const away = ['ana', 'ben', 'cy']
    .map((who) => `      - { remove: ${who}, start: '2026-01-19T06:00', end: '2026-01-19T09:00' }\n`)
    .join('');
  if (!text.includes(rotation)) throw new Error('oncall.yaml: platform-sre rotation not found');
  return text.replace(rotation, `${rotation}    overrides:\n${away}`);
}

async function coverageIncidents(t: TestApp) {
  const { body } = await get(`${t.url}/api/v1/incidents?service=incident-router`);
  return body.incidents as {
    fingerprint: string;
    state: string;
    severity: string;
    occurrences: number;
    title: string;
    routes: { name: string }[];
    event: { attributes: { schedule: string; gaps: unknown[] } };
  }[];
}

const backends: [string, () => Promise<Record<string, string>>][] = [
  ['leveldb', async () => ({ STATE: 'leveldb' })],
  ['jetstream', async () => ({ STATE: 'jetstream', NATS_URL: (await nats()).url, CLUSTER_NAME: cluster() })],
];
let server: NatsServer | null = null;
const nats = async (): Promise<NatsServer> => (server ??= await NatsServer.start());
const cluster = (): string => `cov${Math.random().toString(36).slice(2, 10)}`;
afterAll(() => server?.kill());

describe.each(backends)('coverage_gap incidents (%s)', (name, envOf) => {
  const apps: TestApp[] = [];
  afterEach(async () => {
    for (const t of apps.splice(0)) await t.stop();
  });

  it('a gap opens one incident naming the interval; repeated checks repeat it; an override filling the gap resolves it', async () => {
    const clock = new ManualClock(START);
    const t = await startTestApp(await envOf(), { clock, edits: { 'oncall.yaml': withOverrides(IVY_AWAY) } });
    apps.push(t);
    expect(t.app.parts.state.kind).toBe(name);
    // The check at start found the gap.
    const found = await coverageIncidents(t);
    expect(found).toHaveLength(1);
    let incident = found[0];
    expect(incident).toMatchObject({
      fingerprint: 'coverage_gap:prod-monitoring',
      state: 'triggered',
      severity: 'high',
      occurrences: 1,
      title:
        'Coverage gap on schedule prod-monitoring: fewer than 2 on call from 2026-01-20T13:00:00.000Z to 2026-01-22T01:00:00.000Z',
      routes: [{ name: 'coverage-gaps' }],
    });
    expect(incident?.event.attributes.gaps).toEqual([
      {
        start: '2026-01-20T13:00:00.000Z',
        end: '2026-01-22T01:00:00.000Z',
        required: 2,
        fewest: 1,
        on_call: ['hal'],
      },
    ]);

    // Not due an hour later; due after `every` (6h): the same incident counts a repeat.
    clock.advance(HOUR);
    expect(t.app.parts.coverage.tick()).toBeNull();
    clock.advance(5 * HOUR);
    await t.app.parts.coverage.tick();
    [incident] = await coverageIncidents(t);
    expect(incident).toMatchObject({ state: 'triggered', occurrences: 2 });

    // ana covers the hole: the reload's check resolves the incident.
    const file = join(t.policyDir, 'oncall.yaml');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace(IVY_AWAY, IVY_AWAY + ANA_COVERS));
    expect((await post(`${t.url}/api/v1/policy/reload`, {})).body).toMatchObject({ ok: true, changed: true });
    await t.app.parts.coverage.check(); // queued behind the reload's own check
    const after = await coverageIncidents(t);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ fingerprint: 'coverage_gap:prod-monitoring', state: 'resolved' });
  });

  it('a tier that finds its schedule empty has the gap checked within a minute, not at the next interval', async () => {
    const clock = new ManualClock(START);
    const t = await startTestApp(await envOf(), {
      clock,
      edits: { 'oncall.yaml': withNobodyOnPlatformSre },
    });
    apps.push(t);
    // The check at start raised the gap; someone resolves its alert, but nobody is on call yet.
    const [gap] = await coverageIncidents(t);
    expect(gap).toMatchObject({ fingerprint: 'coverage_gap:platform-sre', state: 'triggered' });
    const id = (gap as unknown as { id: string }).id;
    expect((await post(`${t.url}/api/v1/incidents/${id}/resolve`, {})).status).toBe(200);

    // A critical alert escalates through platform-critical: tier 1 (platform-sre) reaches nobody.
    const opened = await post(`${t.url}/api/v1/alerts`, {
      title: 'DB down',
      source: 'database',
      severity: 'critical',
      service_name: 'payment-service',
    });
    const detail = (await get(`${t.url}/api/v1/incidents/${opened.body.incident_id}`)).body;
    expect(detail.timeline[0].message).toMatch(/skipped tier 1: schedule "platform-sre": nobody on call/);
    // The last check was moments ago: the next one is due a minute after it, not in 6 hours.
    expect(t.app.parts.coverage.tick()).toBeNull();
    clock.advance(60_000);
    await t.app.parts.coverage.tick();
    const states = (await coverageIncidents(t)).map((i) => [i.fingerprint, i.state]);
    expect(states).toContainEqual(['coverage_gap:platform-sre', 'triggered']);
  });

  it('a clean policy opens no coverage incident', async () => {
    const t = await startTestApp(await envOf(), { clock: new ManualClock(START) });
    apps.push(t);
    expect(await coverageIncidents(t)).toEqual([]);
  });
});

describe('coverage_gap in cluster mode', () => {
  it('two replicas checking the same gap make one incident', async () => {
    const env = { STATE: 'jetstream', NATS_URL: (await nats()).url, CLUSTER_NAME: cluster() };
    const options = { clock: new ManualClock(START), edits: { 'oncall.yaml': withOverrides(IVY_AWAY) } };
    const [a, b] = await Promise.all([startTestApp(env, options), startTestApp(env, options)]);
    try {
      await Promise.all([a.app.parts.coverage.check(), b.app.parts.coverage.check()]);
      const seen = await coverageIncidents(a);
      expect(seen.map((i) => [i.fingerprint, i.state])).toEqual([
        ['coverage_gap:prod-monitoring', 'triggered'],
      ]);
      expect(seen[0]?.occurrences).toBeGreaterThanOrEqual(1);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }, 90_000); // two sidecars with their own policy loads on a shared two-core machine
});
