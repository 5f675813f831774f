import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, loadPolicy, readPolicyDir, type PolicySource } from '../../src/policy/load.js';
import { sha256Hex } from '../../src/policy/load/source.js';
import {
  BASE,
  ENV,
  FIXTURES,
  OPTIONS,
  file,
  fixtureDir,
  load,
  warnings,
} from '../fixtures/policies/load-fixtures.js';

describe('loadPolicy - a valid multi-file policy', () => {
  const policy = load(fixtureDir('valid'));
  const doc = policy.document;

  it('takes version from the one file that sets it and lists every file with its sha256', () => {
    expect(policy.version).toBe('2026.11.23-1');
    expect(doc.version).toBe('2026.11.23-1');
    expect(policy.files.map((f) => f.name)).toEqual([
      'base.yaml',
      'catalog.yaml',
      'classify.yaml',
      'routing.yaml',
    ]);
    const base = fixtureDir('valid')[0] as PolicySource;
    expect(policy.files[0]?.sha256).toBe(sha256Hex(base.text));
  });

  it('merges map sections by key across files', () => {
    expect(Object.keys(doc.providers)).toEqual(['pagerduty', 'opsgenie', 'chatops']);
    expect(Object.keys(doc.time_windows)).toEqual(['business_hours', 'db_maintenance']);
    expect(Object.keys(doc.teams)).toEqual(['payments', 'security', 'ml']);
    expect(doc.services['payment-service']).toEqual({ team: 'payments', criticality: 'critical' });
    expect(Object.keys(doc.conditions)).toEqual(['from-database']);
  });

  it('orders rules by priority (higher first), then file name, then position', () => {
    expect(doc.classify.map((r) => r.name)).toEqual([
      'db-connection-failure',
      'cache-miss-trend',
      'db-recovered',
    ]);
    expect(doc.routes.map((r) => r.name)).toEqual([
      'chatops-copy',
      'security-everywhere',
      'payments-after-hours',
      'default',
    ]);
  });

  it('breaks priority ties by file name, whatever order the files come in', () => {
    const a = file(
      'a.yaml',
      'apiVersion: incident-router/v1',
      'upgrade:',
      ...rule('a1', 0),
      ...rule('a2', 1),
    );
    const b = file(
      'b.yaml',
      'apiVersion: incident-router/v1',
      'upgrade:',
      ...rule('b1', 0),
      ...rule('b2', 1),
      ...rule('b3', 0),
    );
    for (const order of [
      [BASE, a, b],
      [b, a, BASE],
    ]) {
      expect(load(order).document.upgrade.map((r) => r.name)).toEqual(['a2', 'b2', 'a1', 'b1', 'b3']);
    }
  });

  it('fills every missing setting from the defaults, key by key', () => {
    expect(doc.settings).toEqual({
      ...DEFAULT_SETTINGS,
      timezone: 'Europe/Berlin',
      storm: { max_new_incidents: 20, window: '1m' },
      delivery: { ...DEFAULT_SETTINGS.delivery, retry: { ...DEFAULT_SETTINGS.delivery.retry, budget: 6 } },
    });
  });

  it('uses the defaults whole when no file has settings', () => {
    expect(load([BASE]).document.settings).toEqual({
      timezone: 'UTC',
      storm: { max_new_incidents: 10, window: '1m' },
      level_severity: { fatal: 'high', critical: 'high', error: 'low' },
      delivery: {
        timeout: '5s',
        retry: { initial: '250ms', max: '30s', budget: 3 },
        breaker: {
          consecutive_failures: 5,
          failure_rate: 0.5,
          min_requests: 10,
          window: '1m',
          cooldown: '30s',
        },
        outage_backoff_max: '1m',
      },
      coverage_check: { every: '6h', horizon: '7d', severity: 'high' },
    });
  });

  it('completes providers: vendor URLs, the info mappings, no empty webhook secret', () => {
    expect(doc.providers['pagerduty']).toMatchObject({
      url: 'https://events.pagerduty.com/v2/enqueue',
      severity_map: { info: 'info', low: 'info' },
    });
    expect(doc.providers['opsgenie']).toMatchObject({
      url: 'https://api.opsgenie.com',
      priority_map: { info: 'P5', low: 'P4' },
    });
    expect(doc.providers['chatops']).toEqual({
      type: 'webhook',
      url: 'http://127.0.0.1:9/disabled',
      headers: { Authorization: 'Bearer chatops-token-123' },
    });
  });

  it('collects every secret so logs can scrub them', () => {
    expect(policy.secrets).toEqual([
      'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6',
      'ffffeeeeddddccccbbbbaaaa99998888',
      'Bearer chatops-token-123',
      'og-0123456789-abcdef',
      'chatops-token-123',
    ]);
  });

  it('locates merged items in their files', () => {
    expect(policy.locate(['routes', 0])).toBe('routing.yaml:17:5');
    expect(policy.locate(['classify', 0, 'severity'])).toBe('classify.yaml:13:15');
    expect(policy.locate(['providers', 'opsgenie', 'api_key'])).toBe('base.yaml:18:14');
    expect(policy.origin(['teams', 'payments'])).toEqual({
      file: 'catalog.yaml',
      path: ['teams', 'payments'],
    });
    expect(policy.locate(['settings', 'timezone'])).toBe('base.yaml:5:13');
    expect(policy.locate(['teams', 'nobody'])).toBeNull();
  });

  it('has nothing to warn about', () => {
    expect(policy.warnings).toEqual([]);
  });
});

describe('loadPolicy - revision', () => {
  const revision = (sources: PolicySource[], env = ENV): string => load(sources, { env }).revision;
  const valid = fixtureDir('valid');
  const original = revision(valid);

  it('is "sha256:" and 64 hex digits', () => {
    expect(original).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('does not change with file order, whitespace, comments or key order', () => {
    expect(revision([...valid].reverse())).toBe(original);
    const reformatted = valid.map((s) => ({
      ...s,
      text: `# reformatted\n${s.text.replace(/\n/g, '   # note\n\n').replace(/: \{ /g, ': {')}`,
    }));
    expect(revision(reformatted)).toBe(original);
    const swapped = valid.map((s) =>
      s.name === 'base.yaml'
        ? {
            ...s,
            text: s.text.replace(
              'type: opsgenie\n    api_key: ${OPSGENIE_API_KEY}',
              'api_key: ${OPSGENIE_API_KEY}\n    type: opsgenie',
            ),
          }
        : s,
    );
    expect(swapped).not.toEqual(valid);
    expect(revision(swapped)).toBe(original);
  });

  it('changes when the content or an interpolated value changes', () => {
    const edited = valid.map((s) =>
      s.name === 'classify.yaml' ? { ...s, text: s.text.replace('priority: 100', 'priority: 99') } : s,
    );
    expect(revision(edited)).not.toBe(original);
    expect(revision(valid, { ...ENV, OPSGENIE_API_KEY: 'another-key' })).not.toBe(original);
  });
});

describe('loadPolicy - notes and warnings', () => {
  it('notes patterns that run on the linear-time engine', () => {
    const rules = file(
      'rules.yaml',
      'apiVersion: incident-router/v1',
      'classify:',
      '  - name: refused',
      '    when: { all: [{ fact: message, operator: matches, value: "connection.*refused" }] }',
      '    severity: high',
    );
    expect(load([BASE, rules]).notes).toEqual([
      'rules.yaml:4:62 "connection.*refused" runs on the linear-time RE2 engine (2nd degree polynomial time on V8)',
    ]);
  });

  it('warns about unreachable rules, unused teams, time windows and conditions', () => {
    const extra = file(
      'extra.yaml',
      'apiVersion: incident-router/v1',
      'teams:',
      '  idle: {}',
      'time_windows:',
      '  never: [{ weekdays: [saturday] }]',
      'conditions:',
      '  orphan: { all: [{ fact: level, operator: equal, value: error }] }',
      'classify:',
      '  - name: everything',
      '    severity: low',
      '  - name: shadowed',
      '    severity: high',
      'routes:',
      '  - name: late',
      '    priority: -1',
      '    deliver: { mode: all, providers: [opsgenie] }',
    );
    expect(warnings([BASE, extra])).toEqual([
      'extra.yaml:3:3 team "idle" is not the team of any service',
      'extra.yaml:5:3 time window "never" is never used by a within condition',
      'extra.yaml:7:3 condition "orphan" is never used',
      'extra.yaml:11:5 classify rule "shadowed" is never reached: classify rule "everything" at extra.yaml:9:5 has no "when" and no "continue: true"',
      'extra.yaml:14:5 route "late" is never reached: route "default" at base.yaml:17:5 has no "when" and no "continue: true"',
    ]);
  });

  it('returns warnings with the problems of an invalid policy', () => {
    const result = loadPolicy(
      [BASE, file('x.yaml', 'apiVersion: incident-router/v1', 'teams:', '  idle: {}', 'bogus: 1')],
      OPTIONS,
    );
    expect(result).toMatchObject({
      ok: false,
      warnings: ['x.yaml:3:3 team "idle" is not the team of any service'],
    });
  });
});

describe('readPolicyDir', () => {
  const dirs: string[] = [];
  const tempDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'policy-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('reads *.yaml and *.yml directly in the directory, sorted by name, not tests/', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'b.yml'), 'b');
    await writeFile(join(dir, 'a.yaml'), 'a');
    await writeFile(join(dir, 'notes.txt'), 'x');
    await writeFile(join(dir, '.#a.yaml'), 'editor lock');
    await mkdir(join(dir, 'tests'));
    await writeFile(join(dir, 'tests', 'case.yaml'), 'case');
    await symlink(join(dir, 'a.yaml'), join(dir, 'c.yaml'));
    expect(await readPolicyDir(dir)).toEqual([
      { name: 'a.yaml', text: 'a' },
      { name: 'b.yml', text: 'b' },
      { name: 'c.yaml', text: 'a' },
    ]);
  });

  it('reads the valid fixture', async () => {
    expect(await readPolicyDir(`${FIXTURES}valid`)).toEqual(fixtureDir('valid'));
  });

  it('reports a missing directory and a directory without policy files', async () => {
    const missing = join(await tempDir(), 'nope');
    expect(await readPolicyDir(missing)).toEqual([
      {
        file: missing,
        line: 1,
        col: 1,
        message: expect.stringMatching(/^cannot read the policy directory: ENOENT/) as string,
      },
    ]);
    const empty = await tempDir();
    expect(await readPolicyDir(empty)).toEqual([
      { file: empty, line: 1, col: 1, message: 'no *.yaml or *.yml policy files in the policy directory' },
    ]);
  });

  it('reports a policy file that cannot be read', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'weird.yaml'));
    await symlink(join(dir, 'gone.yaml'), join(dir, 'dangling.yaml'));
    expect(await readPolicyDir(dir)).toEqual([
      {
        file: 'dangling.yaml',
        line: 1,
        col: 1,
        message: expect.stringMatching(/^cannot read the file: ENOENT/) as string,
      },
    ]);
  });
});

function rule(name: string, priority: number): string[] {
  return [
    `  - name: ${name}`,
    `    priority: ${priority}`,
    '    when: { all: [{ fact: level, operator: equal, value: error }] }',
    '    severity: high',
  ];
}
