// A sidecar for benchmarks: built code, a private copy of the shipped policy (optionally edited),
// a fresh data directory, in-process simulators.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '../dist/app.js';
import { loadConfig } from '../dist/config/config.js';
import { silentLogger } from '../dist/telemetry/logger.js';

/**
 * `edits`: policy file name → text transformation; `files`: policy files to add; `root`: a directory
 * prepared beforehand (its `data` already populated), removed on stop all the same.
 */
export async function startBenchApp({ sandbox, edits = {}, env = {}, files = {}, root: given }) {
  const root = given ?? (await mkdtemp(join(tmpdir(), 'ir-bench-')));
  await cp(new URL('../policies', import.meta.url).pathname, join(root, 'policies'), { recursive: true });
  for (const [name, edit] of Object.entries(edits)) {
    const file = join(root, 'policies', name);
    await writeFile(file, edit(await readFile(file, 'utf8')));
  }
  for (const [name, text] of Object.entries(files)) await writeFile(join(root, 'policies', name), text);
  const config = loadConfig(
    {
      PORT: '0',
      POLICY_DIR: join(root, 'policies'),
      DATA_DIR: join(root, 'data'),
      LOG_LEVEL: 'silent',
      ...env,
    },
    { sandbox: true },
  );
  const app = new App(config, { logger: silentLogger(), watchPolicy: false, sandbox });
  const { url } = await app.start();
  return {
    app,
    url,
    root,
    stop: async () => {
      await app.stop(1000);
      await rm(root, { recursive: true, force: true });
    },
  };
}

/**
 * Throughput runs open thousands of distinct incidents on purpose: no storm folding, no
 * client-side rate limit (the shipped policy keeps PagerDuty's documented 120 events/min per key,
 * which would make any throughput figure read 2 alerts/s), and no database maintenance window (the
 * benchmarks' paging events are database errors, which the shipped policy records without paging
 * on Sundays 02:00–04:00 UTC: a run then measured nothing delivered).
 */
export const THROUGHPUT_EDITS = {
  '00-settings.yaml': (s) => s.replace(/max_new_incidents: \d+/, 'max_new_incidents: 100000000'),
  'providers.yaml': (s) => s.replace(/\n\s*rate_limit: \{[^}]*\}/g, ''),
  'paging.yaml': (s) => s.replace(/\n {2}- name: db-maintenance\n(?: {4}.*\n)+/, '\n'),
};
