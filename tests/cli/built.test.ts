// The built executable, as `npm start` and the Docker image run it: dist/main.js loading the
// server bundle (docs/architecture.md, "Build"). Every other test runs the sources; this one shows
// that the bundle starts, finds the project's own files from its deeper directory (package.json for
// the version, dist/web for the dashboard), loads LevelDB's native binding, delivers an alert to
// the simulators and stops cleanly. `npm test` builds first.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SANDBOX_OPSGENIE_API_KEY,
  SANDBOX_PAGERDUTY_ROUTING_KEY,
  type Sandbox,
} from '../../src/sandbox/index.js';
import { get, post, waitFor } from '../helpers/app.js';
import { BUILT_CLI, ROOT, exited, startServe } from '../helpers/cli.js';
import { copyShippedPolicy } from '../helpers/policy.js';
import { keysAtProviders, useSimulators } from '../helpers/sandbox.js';

let sandbox: Sandbox;
useSimulators((s) => (sandbox = s));
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ir-built-'));
  await copyShippedPolicy(join(root, 'policies'));
});
afterAll(async () => rm(root, { recursive: true, force: true }));

describe('the built executable', () => {
  it('is built', () => {
    for (const file of ['dist/main.js', 'dist/bundle/cli.js', 'dist/web/index.html'])
      expect(existsSync(join(ROOT, file)), `${file} is missing: run npm run build`).toBe(true);
  });

  it('serves, delivers an alert and stops', { timeout: 60_000 }, async () => {
    const { child, url } = await startServe(
      [],
      {
        PORT: '0',
        POLICY_DIR: join(root, 'policies'),
        DATA_DIR: join(root, 'data'),
        PAGERDUTY_ROUTING_KEY: SANDBOX_PAGERDUTY_ROUTING_KEY,
        PAGERDUTY_EVENTS_URL: sandbox.urls.pagerdutyEvents,
        OPSGENIE_API_KEY: SANDBOX_OPSGENIE_API_KEY,
        OPSGENIE_API_URL: sandbox.urls.opsgenie,
      },
      BUILT_CLI,
    );
    try {
      const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
      expect((await get(`${url}/api/v1/health`)).body.version).toBe(version);

      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await page.text()).toContain('/assets/app.js');

      const { status } = await post(`${url}/api/v1/alerts`, {
        title: 'Database Connection Failed',
        source: 'database',
        severity: 'critical',
        service_name: 'payment-service',
      });
      expect(status).toBe(202);
      await waitFor(async () => {
        const keys = keysAtProviders(sandbox);
        return keys.pagerduty.length + keys.opsgenie.length > 0;
      });
      await waitFor(async () => (await get(`${url}/api/v1/health`)).body.deliveries_pending === 0);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited(child)).toBe(0);
  });

  // What a start loads (docs/performance.md, "Restart and footprint"): the files cli.js imports
  // statically and the package files esbuild put in them, as its metafile (dist/bundle/meta.json)
  // records them; the minified files no longer name them.
  it('loads for a start one luxon, no undici, as ASCII, node:http through require, the MIME database on first use', () => {
    const dir = join(ROOT, 'dist/bundle');
    const text = (file: string): string => readFileSync(join(dir, file), 'utf8');
    const meta = JSON.parse(text('meta.json')) as {
      outputs: Record<string, { imports: { path: string; kind: string }[]; inputs: Record<string, unknown> }>;
    };
    const atStart = new Set<string>();
    const visit = (file: string): void => {
      if (atStart.has(file)) return;
      atStart.add(file);
      for (const { path, kind } of meta.outputs[file]!.imports)
        if (kind === 'import-statement' && path.startsWith('dist/bundle/')) visit(path);
    };
    visit('dist/bundle/cli.js');
    expect(atStart.size).toBeGreaterThan(1);
    const files = [...atStart];
    const inputs = (pattern: RegExp): string[] => [
      ...new Set(
        files.flatMap((file) => Object.keys(meta.outputs[file]!.inputs).filter((i) => pattern.test(i))),
      ),
    ];
    expect(inputs(/node_modules\/luxon\//)).toHaveLength(1);
    expect(inputs(/node_modules\/(?:[\w@.-]+\/)*mime-db\/db\.json$/)).toEqual([
      'node_modules/mime-db/db.json',
    ]);
    expect(inputs(/node_modules\/undici\//)).toEqual([]);
    const imports = files.flatMap((file) => meta.outputs[file]!.imports);
    expect(imports.filter((i) => i.kind === 'import-statement' && /^(?:node:)?http$/.test(i.path))).toEqual(
      [],
    );
    expect(
      imports.filter((i) => i.kind === 'import-statement' && i.path === 'node:fs').length,
    ).toBeGreaterThan(0);
    const loaded = files.map((file) => text(file.slice('dist/bundle/'.length))).join('\n');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.js')))
      expect(/[\u0080-\uffff]/.test(text(file)), `${file} holds a non-ASCII character`).toBe(false);
    // mime-types (and with it mime-db's tables) is loaded on its first use: every caller goes
    // through the build's stand-in, whose `load` is the one place the real module is required.
    const real = /var (\w+)=__commonJS\(\{"node_modules\/mime-types\/index\.js"/.exec(loaded)?.[1];
    expect(real).toBeDefined();
    const calls = [...loaded.matchAll(new RegExp(`(.{7})\\b${real}\\(\\)`, 'g'))].map((m) => m[1]);
    expect(calls).toEqual(['real??=']);
  });

  // prom-client's Pushgateway (https, so tls) and cluster aggregator are loaded on first use, and
  // no answer a start gives (a readiness probe, an event, the metrics) uses them.
  it('serves without loading https or tls', { timeout: 60_000 }, async () => {
    const preload = join(root, 'module-list.cjs');
    const list = join(root, 'module-list.txt');
    await writeFile(
      preload,
      `process.on('SIGUSR2', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));`,
    );
    const { child, url } = await startServe(
      [],
      {
        PORT: '0',
        POLICY_DIR: join(root, 'policies'),
        DATA_DIR: join(root, 'data-modules'),
        PAGERDUTY_ROUTING_KEY: SANDBOX_PAGERDUTY_ROUTING_KEY,
        PAGERDUTY_EVENTS_URL: sandbox.urls.pagerdutyEvents,
        OPSGENIE_API_KEY: SANDBOX_OPSGENIE_API_KEY,
        OPSGENIE_API_URL: sandbox.urls.opsgenie,
      },
      ['--require', preload, ...BUILT_CLI],
    );
    try {
      expect((await get(`${url}/readyz`)).status).toBe(200);
      const event = {
        service: 'search',
        level: 'info',
        message: 'GET / 200',
        timestamp: new Date().toISOString(),
      };
      expect((await post(`${url}/api/v1/events`, [event])).status).toBe(202);
      expect((await fetch(`${url}/metrics`)).status).toBe(200);
      child.kill('SIGUSR2');
      await waitFor(async () => existsSync(list));
      const builtIns = readFileSync(list, 'utf8').split('\n');
      expect(builtIns).toContain('NativeModule http');
      expect(builtIns).not.toContain('NativeModule https');
      expect(builtIns).not.toContain('NativeModule tls');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited(child)).toBe(0);
  });
});
