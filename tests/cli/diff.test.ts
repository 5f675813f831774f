// `incident-router diff` as CI runs it (docs/policy-diff.md, "Exit codes"): 0 nothing changed, 1
// outcomes changed, 2 an invalid policy or source; a malformed line is reported and skipped.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEvents } from '../../scripts/gen-log-events.mjs';
import { runCli } from '../helpers/cli.js';
import { SHIPPED_POLICY_DIR } from '../helpers/policy.js';
import { FINGERPRINT, policyDirWith, ROUTE, THRESHOLD, WINDOW } from '../diff/fixtures.js';

let root: string;
let changedDir: string;
let events: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ir-diff-cli-'));
  changedDir = await policyDirWith(join(root, 'changed'), [THRESHOLD, WINDOW, ROUTE, FINGERPRINT]);
  events = join(root, 'events.ndjson');
  const lines = generateEvents({
    count: 3000,
    seed: 5,
    alerting: 8,
    start: '2026-11-21T12:00:00Z',
    rate: 0.035,
  });
  lines.splice(2, 0, '{"timestamp": "2026-11-21T12:00:00Z", "service": "x", "level": '); // line 3
  await writeFile(events, `${lines.join('\n')}\n`);
});
afterAll(async () => rm(root, { recursive: true, force: true }));

// Each run loads two policies (with their ReDoS checks): slow on a loaded machine.
describe('incident-router diff', { timeout: 90_000 }, () => {
  it('exits 0 when nothing changes, and reports the malformed line by its number', async () => {
    const r = await runCli(['diff', SHIPPED_POLICY_DIR, SHIPPED_POLICY_DIR, '--events', events]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/0 of 3000 events change/);
    expect(r.stdout).toMatch(/skipped events\.ndjson:3: not JSON/);
  });

  it('exits 1 when outcomes change; JSON and Markdown carry the same report', async () => {
    const changedAs = (format: string, ...more: string[]) =>
      runCli(['diff', SHIPPED_POLICY_DIR, changedDir, '--events', events, '--format', format, ...more]);
    const json = await changedAs('json');
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as {
      changed: number;
      events: number;
      groups: { kind: string; loud: boolean; count: number }[];
      problems: { ref: string }[];
    };
    expect(report.events).toBe(3000);
    expect(report.changed).toBeGreaterThan(0);
    expect(report.groups[0]).toMatchObject({ kind: 'fingerprint', loud: true });
    expect(report.problems).toEqual([expect.objectContaining({ ref: 'events.ndjson:3' })]);
    expect(json.stderr).toMatch(/skipped events\.ndjson:3/);
    // Worker threads (docs/policy-diff.md, "Speed") print the very same report.
    const inWorkers = await changedAs('json', '--jobs', '2');
    expect(inWorkers).toMatchObject({ code: 1, stdout: json.stdout });

    const md = await changedAs('markdown');
    expect(md.code).toBe(1);
    expect(md.stdout).toContain('### Policy diff');
    expect(md.stdout).toContain(`${report.changed} of 3000 events change`);
    expect(md.stdout).toMatch(
      /\| \*\*fingerprint\*\* \| \{service\}:db-connection \| \{service\}:db-conn \|/,
    );
    expect(md.stdout).toMatch(/`payments-off-hours` paging\.yaml:47/);
  });

  it('exits 2 with file:line:col for an invalid policy', async () => {
    const broken = await policyDirWith(join(root, 'broken'), [
      [
        'paging.yaml',
        'deliver: { mode: failover, providers: [pagerduty, opsgenie] }',
        'deliver: { mode: sometimes }',
      ],
    ]);
    const r = await runCli(['diff', SHIPPED_POLICY_DIR, broken, '--events', events]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/paging\.yaml:\d+:\d+ .*mode/);
  });

  it('exits 2 for a source that cannot be read', async () => {
    const missing = await runCli([
      'diff',
      SHIPPED_POLICY_DIR,
      SHIPPED_POLICY_DIR,
      '--events',
      join(root, 'none'),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such readable file/);
  });
});
