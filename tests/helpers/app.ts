import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { SHIPPED_POLICY_DIR } from './policy.js';

export interface TestApp {
  app: App;
  url: string;
  policyDir: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** A real sidecar on a free port, with its own copy of the shipped policy and its own data dir. */
export async function startTestApp(
  env: Record<string, string> = {},
  options: { watchPolicy?: boolean } = {},
): Promise<TestApp> {
  const root = await mkdtemp(join(tmpdir(), 'ir-app-'));
  const policyDir = join(root, 'policies');
  const dataDir = join(root, 'data');
  await cp(SHIPPED_POLICY_DIR, policyDir, { recursive: true });
  const config = loadConfig(
    { PORT: '0', POLICY_DIR: policyDir, DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env },
    { sandbox: true },
  );
  const app = new App(config, { logger: silentLogger(), watchPolicy: options.watchPolicy ?? false });
  const { url } = await app.start();
  return {
    app,
    url,
    policyDir,
    dataDir,
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
