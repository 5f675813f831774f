// `incident-router oncall` and `validate`'s coverage warnings, run as a user runs them.
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { SHIPPED_POLICY_DIR } from '../helpers/policy.js';

// Each case starts the CLI from source (tsx) up to three times: slow on a busy two-core machine.
const SLOW = 120_000;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ir-oncall-cli-'));
});
afterAll(async () => rm(root, { recursive: true, force: true }));

describe('incident-router oncall', () => {
  it(
    'prints who is on call at --at, until when, and per layer',
    async () => {
      const r = await runCli([
        'oncall',
        'prod-monitoring',
        '--at',
        '2026-03-09T13:59:00Z',
        '--policy',
        SHIPPED_POLICY_DIR,
      ]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(
        [
          'prod-monitoring at 2026-03-09T13:59:00.000Z (2026-03-09 09:59 EDT, America/New_York)',
          '  on call: hal, ivy',
          '  until:   2026-03-09T14:00:00.000Z (2026-03-09 10:00 EDT)',
          '  layer pairs (add): hal, ivy',
          '',
        ].join('\n'),
      );
    },
    SLOW,
  );

  it(
    'an unknown schedule exits 1 naming those there are; a bad --at or no name is a usage error (2)',
    async () => {
      const unknown = await runCli(['oncall', 'platform', '--policy', SHIPPED_POLICY_DIR]);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain(
        'no schedule named "platform"; the policy has platform-sre, prod-monitoring',
      );
      const badAt = await runCli([
        'oncall',
        'platform-sre',
        '--at',
        'tomorrow',
        '--policy',
        SHIPPED_POLICY_DIR,
      ]);
      expect(badAt.code).toBe(2);
      expect(badAt.stderr).toContain('--at tomorrow: not an RFC 3339 time');
      expect((await runCli(['oncall', '--policy', SHIPPED_POLICY_DIR])).code).toBe(2);
    },
    SLOW,
  );
});

describe('incident-router validate', () => {
  it(
    'warns about each coverage gap within the horizon and still exits 0',
    async () => {
      const dir = join(root, 'gappy');
      await cp(SHIPPED_POLICY_DIR, dir, { recursive: true });
      // A turn of nobody every other day: within any 7 days there are gaps, whatever today is.
      await writeFile(
        join(dir, 'short.yaml'),
        [
          'apiVersion: incident-router/v1',
          'schedules:',
          '  short:',
          '    timezone: UTC',
          "    layers: [{ name: l, rotation: { members: [ana, []], every: 1d, start: '2026-01-01' } }]",
          '',
        ].join('\n'),
      );
      const r = await runCli(['validate', dir, '--sandbox']);
      expect(r.code).toBe(0);
      const warnings = r.stderr.split('\n').filter((l) => l.includes('schedule "short"'));
      expect(warnings.length).toBeGreaterThanOrEqual(3);
      expect(warnings[0]).toMatch(
        /^ {2}warning: schedule "short": 0 of 1 required on call from \S+Z to \S+T00:00:00\.000Z$/,
      );
      expect(r.stderr).not.toContain('schedule "platform-sre"');
    },
    SLOW,
  );
});
