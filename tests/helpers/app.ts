import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import type { Clock } from '../../src/domain/clock.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { NatsServer } from './nats-server.js';
import { copyShippedPolicy } from './policy.js';

/**
 * The state backend the integration tests run against: LevelDB (default), or NATS JetStream when
 * TEST_STATE=jetstream (vitest.config.ts runs them both ways). In JetStream mode each app gets its
 * own buckets (a fresh CLUSTER_NAME) on a nats-server shared by the test file.
 */
export const TEST_STATE: 'leveldb' | 'jetstream' =
  process.env['TEST_STATE'] === 'jetstream' ? 'jetstream' : 'leveldb';

let stateServer: Promise<NatsServer> | null = null;

/** The environment that selects the test state backend (for `serve` processes too). */
export async function stateEnv(env: Record<string, string> = {}): Promise<Record<string, string>> {
  if (TEST_STATE === 'leveldb') return {};
  stateServer ??= NatsServer.start().then((server) => {
    process.once('exit', () => server.kill());
    return server;
  });
  const url = env['NATS_URL'] ?? (await stateServer).url;
  return { STATE: 'jetstream', NATS_URL: url, CLUSTER_NAME: `t${Math.random().toString(36).slice(2, 10)}` };
}

export interface TestApp {
  app: App;
  url: string;
  policyDir: string;
  dataDir: string;
  /** Everything the app logged (when started with captureLogs). */
  logs(): string;
  stop(): Promise<void>;
}

export interface TestAppOptions {
  watchPolicy?: boolean;
  /** Use these simulators (tests inject faults into them); otherwise the app starts its own. */
  sandbox?: Sandbox;
  /** Edit the copied policy's settings file, e.g. to shorten the breaker cool-down. */
  editSettings?: (text: string) => string;
  /** Edit other policy files: file name → text transformation. */
  edits?: Record<string, (text: string) => string>;
  /** Add policy files: file name → text. */
  files?: Record<string, string>;
  /** Keep every log line (at debug level) for assertions. */
  captureLogs?: boolean;
  clock?: Clock;
  httpTimeouts?: { headersMs: number; requestMs: number };
  /**
   * Run as in production (no --sandbox), with the shipped policy's providers pointed at `sandbox`
   * through its environment variables: what is unset stays unset.
   */
  production?: boolean;
  /**
   * Keep the shipped policy's database maintenance window (left out by default: see
   * `noMaintenanceWindow`), for tests that ask about it at a given time.
   */
  maintenanceWindow?: boolean;
}

/** No client-side rate limit (PagerDuty's 120/min would hold back tests that open many incidents). */
export const noRateLimit = (s: string): string => s.replace(/\n\s*rate_limit: \{[^}]*\}/g, '');

/** Shorter timings for tests: breaker cool-down 2 s. */
export const fastBreaker = (text: string): string => text.replace(/cooldown: \S+ \}/, 'cooldown: 2s }');

/** A real sidecar on a free port, with its own copy of the shipped policy and its own data dir. */
export async function startTestApp(
  env: Record<string, string> = {},
  options: TestAppOptions = {},
): Promise<TestApp> {
  const root = await mkdtemp(join(tmpdir(), 'ir-app-'));
  try {
    return await startIn(root, env, options);
  } catch (err) {
    // A start the test expects to fail (a bad policy or configuration) leaves no directory behind.
    await rm(root, { recursive: true, force: true });
    throw err;
  }
}

async function startIn(root: string, env: Record<string, string>, options: TestAppOptions): Promise<TestApp> {
  const policyDir = join(root, 'policies');
  const dataDir = join(root, 'data');
  await copyShippedPolicy(policyDir, { maintenanceWindow: options.maintenanceWindow ?? false });
  const edits = {
    ...options.edits,
    ...(options.editSettings ? { '00-settings.yaml': options.editSettings } : {}),
  };
  for (const [name, edit] of Object.entries(edits)) {
    const file = join(policyDir, name);
    await writeFile(file, edit(await readFile(file, 'utf8')));
  }
  for (const [name, text] of Object.entries(options.files ?? {}))
    await writeFile(join(policyDir, name), text);
  const logLevel = options.captureLogs ? 'debug' : 'silent';
  const production = options.production ?? false;
  if (production && !options.sandbox) throw new Error('production mode needs simulators to point at');
  const providers =
    production && options.sandbox
      ? {
          PAGERDUTY_ROUTING_KEY: 'R0123456789abcdef0123456789abcdef'.slice(0, 32),
          PAGERDUTY_EVENTS_URL: options.sandbox.urls.pagerdutyEvents,
          OPSGENIE_API_KEY: 'test-opsgenie-api-key',
          OPSGENIE_API_URL: options.sandbox.urls.opsgenie,
        }
      : {};
  const config = loadConfig(
    {
      PORT: '0',
      POLICY_DIR: policyDir,
      DATA_DIR: dataDir,
      LOG_LEVEL: logLevel,
      ...providers,
      ...(await stateEnv(env)),
      ...env,
    },
    { sandbox: !production },
  );
  let captured = '';
  const app = new App(config, {
    ...(options.captureLogs
      ? {
          logDestination: new Writable({
            write: (chunk, _enc, done) => ((captured += String(chunk)), done()),
          }),
        }
      : { logger: silentLogger() }),
    watchPolicy: options.watchPolicy ?? false,
    ...(options.sandbox ? { sandbox: options.sandbox } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.httpTimeouts ? { httpTimeouts: options.httpTimeouts } : {}),
  });
  const { url } = await app.start();
  return {
    app,
    url,
    policyDir,
    dataDir,
    logs: () => captured,
    stop: async () => {
      await app.stop(500);
      await rm(root, { recursive: true, force: true });
    },
  };
}

export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return {
    status: res.status,
    body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
  };
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * The Prometheus exposition without the `replica` label that cluster mode adds to every metric,
 * so one assertion reads the same against either state backend.
 */
export async function exposition(url: string): Promise<string> {
  const text = (await get(`${url}/metrics`)).body as string;
  return text
    .replace(/\{replica="[^"]*"\}/g, '')
    .replace(/,replica="[^"]*"/g, '')
    .replace(/\{replica="[^"]*",/g, '{');
}
