// The coverage checker with a scripted pipeline and a clock moved by hand (docs/policy-language.md,
// "Coverage gaps"): when checks are due, what each sends, and what happens when a send fails.
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { PipelineInput } from '../../src/domain/log-event.js';
import { CoverageChecker } from '../../src/oncall/coverage-checker.js';
import type { CompiledPolicy } from '../../src/policy/compile.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { policyWith } from './helpers.js';

const HOUR = 3_600_000;
const SETTINGS = `settings: { coverage_check: { every: 2h, horizon: 1d, severity: critical } }\n`;
const SCHEDULES = `schedules:
  full:
    timezone: UTC
    layers: [{ name: l, rotation: { members: [ana, ben], every: 1d, start: '2026-05-01' } }]
  thin:
    timezone: UTC
    layers: [{ name: l, rotation: { members: [ana, []], every: 1d, start: '2026-05-01' } }]
`;

function setup(first: CompiledPolicy) {
  const clock = new ManualClock(Date.parse('2026-05-01T12:00:00Z'));
  const sent: PipelineInput[] = [];
  let failing = false;
  let policy = first;
  const checker = new CoverageChecker({
    policy: () => policy,
    pipeline: {
      process: async (input) => {
        if (failing) throw new Error('state unreachable');
        sent.push(input);
      },
    },
    clock,
    logger: silentLogger(),
  });
  return {
    clock,
    checker,
    sent,
    fail: (on: boolean) => (failing = on),
    use: (next: CompiledPolicy) => (policy = next),
  };
}

const summary = (inputs: PipelineInput[]) =>
  inputs.map((i) => [
    i.builtIn?.fingerprint,
    i.builtIn?.resolves === null ? 'gap' : 'clean',
    i.builtIn?.severity,
  ]);

let stop: (() => Promise<unknown>) | null = null;
afterEach(async () => stop?.());

describe('CoverageChecker', () => {
  it('checks every schedule at start: a gap raises, a clean schedule resolves, with the set severity', async () => {
    const t = setup(policyWith(SCHEDULES, SETTINGS));
    stop = () => t.checker.stop();
    const reports = await t.checker.start(3_600_000);
    expect(summary(t.sent)).toEqual([
      ['coverage_gap:full', 'clean', 'info'],
      ['coverage_gap:thin', 'gap', 'critical'],
    ]);
    // 05-02 is thin's empty turn: the horizon (1 day from 12:00) holds its first 12 hours.
    expect(reports.find((r) => r.schedule === 'thin')?.gaps).toEqual([
      {
        start: '2026-05-02T00:00:00.000Z',
        end: '2026-05-02T12:00:00.000Z',
        required: 1,
        fewest: 0,
        on_call: [],
      },
    ]);
    expect(t.sent[1]).toMatchObject({
      event: {
        service: 'incident-router',
        source: 'coverage_check',
        attributes: { schedule: 'thin', required: 1 },
      },
      builtIn: {
        rule: 'coverage_gap',
        title:
          'Coverage gap on schedule thin: fewer than 1 on call from 2026-05-02T00:00:00.000Z to 2026-05-02T12:00:00.000Z',
      },
    });
  });

  it('is due again after settings.coverage_check.every by the injected clock, not before', async () => {
    const t = setup(policyWith(SCHEDULES, SETTINGS));
    await t.checker.check();
    t.clock.advance(2 * HOUR - 1);
    expect(t.checker.tick()).toBeNull();
    t.clock.advance(1);
    await t.checker.tick();
    expect(t.sent).toHaveLength(4);
  });

  it('resolves the gap of a schedule the new policy no longer has', async () => {
    const t = setup(policyWith(SCHEDULES, SETTINGS));
    await t.checker.check();
    t.use(policyWith(SCHEDULES.split('  thin:')[0] as string, SETTINGS));
    t.sent.length = 0;
    await t.checker.check();
    expect(summary(t.sent)).toEqual([
      ['coverage_gap:full', 'clean', 'info'],
      ['coverage_gap:thin', 'clean', 'info'],
    ]);
  });

  it('a failed send makes the next check due within a minute, not after `every`', async () => {
    const t = setup(policyWith(SCHEDULES, SETTINGS));
    t.fail(true);
    expect(await t.checker.check()).toHaveLength(2); // never rejects
    t.fail(false);
    t.clock.advance(59_999);
    expect(t.checker.tick()).toBeNull();
    t.clock.advance(1);
    await t.checker.tick();
    expect(t.sent).toHaveLength(2);
  });
});
