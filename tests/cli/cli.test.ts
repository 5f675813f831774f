// The command line (docs/configuration.md, "Command line") as a user runs it: exit codes, every problem
// printed, signals.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, waitFor } from '../helpers/app.js';
import { CLI, exited, runCli, startServe } from '../helpers/cli.js';
import { SHIPPED_POLICY_DIR } from '../helpers/policy.js';

let root: string;
let policyDir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ir-cli-'));
  policyDir = join(root, 'policies');
  await cp(SHIPPED_POLICY_DIR, policyDir, { recursive: true });
});
afterAll(async () => rm(root, { recursive: true, force: true }));

async function brokenCopy(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(root, name);
  await cp(SHIPPED_POLICY_DIR, dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
  return dir;
}

describe('incident-router CLI', () => {
  it('--help lists every environment variable', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const name of [
      'PORT',
      'HOST',
      'POLICY_DIR',
      'DATA_DIR',
      'NATS_URL',
      'NATS_SUBJECT',
      'NATS_STREAM',
      'NATS_DURABLE',
      'API_TOKEN',
      'PAGERDUTY_WEBHOOK_SECRET',
      'OPSGENIE_WEBHOOK_TOKEN',
      'LOG_LEVEL',
    ]) {
      expect(r.stdout).toContain(name);
    }
  });

  it('validate passes the shipped policy in sandbox mode and exits 0', async () => {
    const r = await runCli(['validate', policyDir, '--sandbox']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/policy 2026\.11\.23-1 \(sha256:[0-9a-f]{64}\) is valid/);
  });

  it('validate without --sandbox wants the provider keys, naming each place', async () => {
    const r = await runCli(['validate', policyDir], { PAGERDUTY_ROUTING_KEY: '', OPSGENIE_API_KEY: '' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/providers\.yaml:\d+:\d+ provider "pagerduty": routing_key is empty/);
    expect(r.stderr).toMatch(/providers\.yaml:\d+:\d+ provider "opsgenie": api_key is empty/);
  });

  it('validate prints every problem of every file at once', async () => {
    const dir = await brokenCopy('broken-many', {
      'classify.yaml':
        'apiVersion: incident-router/v1\nclassify:\n  - name: a\n    severity: loud\n    when: { all: [{ fact: message, operator: matches, value: "(a+)+$" }] }\n',
      'time-windows.yaml':
        'apiVersion: incident-router/v1\ntime_windows:\n  w:\n    - cron: "0 2 * *"\n      duration: 2h\n      location: Mars/Olympus\n',
      'extra.yaml': 'apiVersion: incident-router/v1\nversion: "again"\n',
    });
    const r = await runCli(['validate', dir, '--sandbox']);
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => /^\s+\S+\.yaml:\d+:\d+ /.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(5);
    expect(r.stderr).toMatch(/classify\.yaml:4:15 .*severity/);
    expect(r.stderr).toMatch(/classify\.yaml:5:\d+ .*catastroph/);
    expect(r.stderr).toMatch(/time-windows\.yaml:\d+:\d+ .*5 fields/);
    expect(r.stderr).toMatch(/time-windows\.yaml:\d+:\d+ .*Mars\/Olympus/);
    expect(r.stderr).toMatch(/extra\.yaml:2:\d+ .*version/);
  });

  it('test runs the shipped cases and exits 0', async () => {
    const r = await runCli(['test', policyDir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/policy 2026\.11\.23-1: (\d+) passed, 0 failed/);
    expect(Number(/(\d+) passed/.exec(r.stdout)![1])).toBeGreaterThanOrEqual(25);
  });

  it('test exits 1 on a mismatch and says which field differs, including suppression and time windows', async () => {
    const dir = await brokenCopy('mismatch', {});
    await writeFile(
      join(dir, 'tests', 'zz-wrong.yaml'),
      [
        'cases:',
        '  - name: maintenance is not a suppression (wrong on purpose)',
        '    event: { timestamp: 2026-11-29T02:30:00Z, service: order-service, level: error, source: database, message: connection refused }',
        '    at: 2026-11-29T02:30:00Z',
        '    expect: { suppressed: false, route: critical-everywhere }',
      ].join('\n'),
    );
    const r = await runCli(['test', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      '✗ maintenance is not a suppression (wrong on purpose) (tests/zz-wrong.yaml:2:5)',
    );
    expect(r.stdout).toContain('suppressed: expected false, got true');
    expect(r.stdout).toContain('route: expected "critical-everywhere", got null');
    expect(r.stdout).toMatch(/\d+ passed, 1 failed/);
  });

  it('dry-run prints the full decision for an event file', async () => {
    const file = join(root, 'event.json');
    await writeFile(
      file,
      JSON.stringify({
        timestamp: '2026-11-24T03:00:00Z',
        service: 'payment-service',
        level: 'error',
        source: 'payment',
        message: 'payment gateway timeout after 30000ms',
      }),
    );
    const r = await runCli([
      'dry-run',
      '--event',
      file,
      '--at',
      '2026-11-24T03:00:00Z',
      '--policy',
      policyDir,
    ]);
    expect(r.code).toBe(0);
    const decision = JSON.parse(r.stdout);
    expect(decision).toMatchObject({
      severity: 'high',
      route: { name: 'payments-off-hours', providers: ['opsgenie', 'pagerduty'] },
      at: '2026-11-24T03:00:00.000Z',
    });
  });

  it('usage errors exit 2', async () => {
    expect((await runCli(['frobnicate'])).code).toBe(2);
    expect((await runCli(['dry-run'])).code).toBe(2);
    expect((await runCli(['serve', '--nope'])).code).toBe(2);
  });

  it('serve refuses bad configuration with one message per problem', async () => {
    const r = await runCli(['serve'], {
      PORT: 'eighty',
      LOG_LEVEL: 'chatty',
      NATS_URL: 'http://x',
      API_TOKEN: 'short',
      POLICY_DIR: policyDir,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('PORT="eighty": expected an integer');
    expect(r.stderr).toContain('LOG_LEVEL="chatty": expected one of');
    expect(r.stderr).toContain('NATS_URL: "http://x" is not a nats: or tls: or ws: or wss: URL');
    expect(r.stderr).toContain('API_TOKEN: use at least 16 characters');
  });

  it('serve exits non-zero at start-up with every policy problem', async () => {
    const dir = await brokenCopy('broken-start', {
      'paging.yaml':
        'apiVersion: incident-router/v1\nroutes:\n  - name: x\n    when: { all: [{ fact: team, operator: equal, value: sekurity }] }\n    deliver: { mode: all, providers: [pagerdooty] }\n',
    });
    const r = await runCli(['serve', '--sandbox'], {
      POLICY_DIR: dir,
      PORT: '0',
      DATA_DIR: join(root, 'data-broken'),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/paging\.yaml:4:\d+ .*sekurity/);
    expect(r.stderr).toMatch(/paging\.yaml:5:\d+ .*pagerdooty/);
    expect(r.stderr).toMatch(/no catch-all route/);
  });

  it('serve reloads on SIGHUP and shuts down cleanly on SIGTERM', async () => {
    const dir = await brokenCopy('sighup', {});
    const { child, url } = await startServe(['--sandbox'], {
      POLICY_DIR: dir,
      PORT: '0',
      DATA_DIR: join(root, 'data-sighup'),
    });
    try {
      const settings = join(dir, '00-settings.yaml');
      await writeFile(
        settings,
        (await readFile(settings, 'utf8')).replace(/version: .*/, 'version: "hup-2"'),
      );
      child.kill('SIGHUP');
      await waitFor(async () => (await get(`${url}/api/v1/policy`)).body.version === 'hup-2');
      expect((await get(`${url}/api/v1/policy`)).body.last_reload.trigger).toMatch(/signal|watch/);
    } finally {
      child.kill('SIGTERM');
      expect(await exited(child)).toBe(0);
    }
  });

  it('a SIGHUP or SIGTERM during the start waits for it: a reload then, or a graceful stop', async () => {
    /** Sends `signal` as soon as `serve` logs its policy loaded, before it listens. */
    const atPolicyLoaded = (signal: NodeJS.Signals) => {
      let sent = false;
      return (output: string, child: ChildProcess): void => {
        if (sent || !output.includes('"event":"policy_loaded"')) return;
        sent = true;
        child.kill(signal);
      };
    };
    const env = (name: string) => ({
      POLICY_DIR: policyDir,
      PORT: '0',
      DATA_DIR: join(root, `data-${name}`),
    });

    const hup = await startServe(['--sandbox'], env('hup-at-start'), CLI, atPolicyLoaded('SIGHUP'));
    try {
      await waitFor(
        async () => (await get(`${hup.url}/api/v1/policy`)).body.last_reload?.trigger === 'signal',
      );
      expect(hup.child.exitCode).toBeNull();
    } finally {
      hup.child.kill('SIGTERM');
      expect(await exited(hup.child)).toBe(0);
    }

    const term = await startServe(['--sandbox'], env('term-at-start'), CLI, atPolicyLoaded('SIGTERM'));
    expect(await exited(term.child)).toBe(0);
    expect(term.child.signalCode).toBeNull();
    // Said at once, then the start finishes and the sidecar stops as it would once running.
    expect(term.output()).toContain('SIGTERM: shutting down');
    expect(term.output()).toMatch(/incident-router listening[\s\S]*incident-router stopped/);
  });
});
