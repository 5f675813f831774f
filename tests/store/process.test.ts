// The store against other processes: the LevelDB lock, and a crash in the middle of writing.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Level } from 'level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { Store } from '../../src/store/store.js';
import { freshDir } from './fixtures.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LOCK_MESSAGE =
  /^data directory .+ is in use by another incident-router \(LevelDB lock held\); one sidecar per DATA_DIR$/;

let dir: string;
let remove: () => Promise<void>;
let child: ChildProcess | null = null;

beforeEach(async () => {
  ({ dir, remove } = await freshDir());
});

afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  child = null;
  await remove();
});

/** Resolves with the child's output once `until` matches it. */
function waitForOutput(proc: ChildProcess, until: (out: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (until(out)) resolve(out);
    });
    proc.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    proc.once('exit', (code) => reject(new Error(`child exited (${code}) early: ${out}\n${err}`)));
  });
}

describe('store - the LevelDB lock', () => {
  it('refuses a second open of the same directory in the same process', async () => {
    const store = await Store.open(dir);
    try {
      const second = Store.open(dir);
      await expect(second).rejects.toThrow(StoreError);
      await expect(second).rejects.toThrow(LOCK_MESSAGE);
    } finally {
      await store.close();
    }
    // Closing releases the lock.
    await (await Store.open(dir)).close();
  });

  it('refuses a directory another process holds', async () => {
    const script = `const { Level } = await import('level'); const db = new Level(process.argv[1]); await db.open(); console.log('ready'); setInterval(() => {}, 1000);`;
    child = spawn(process.execPath, ['--input-type=module', '-e', script, dir], { cwd: ROOT });
    await waitForOutput(child, (out) => out.includes('ready'));
    const err = await Store.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(LOCK_MESSAGE);
    expect((err as Error).message).toContain(dir);
  });

  it('names the directory and the cause for other failures', async () => {
    await writeFile(join(dir, 'file'), 'not a directory');
    const target = join(dir, 'file', 'data');
    const err = await Store.open(target).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(/^cannot open data directory .+\/file\/data: .*ENOTDIR/);
  });

  it('refuses a directory written with another schema version', async () => {
    await (await Store.open(dir)).close();
    const db = new Level<string, unknown>(dir, { valueEncoding: 'json' });
    await db.sublevel<string, unknown>('meta', { valueEncoding: 'json' }).put('schema_version', 2);
    await db.close();
    await expect(Store.open(dir)).rejects.toThrow(
      /holds store schema version 2; this incident-router reads version 1/,
    );
  });
});

describe('store - crash while writing', () => {
  it('keeps each batch whole: after SIGKILL every incident has all its deliveries and audit entries', async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'tests/store/crash-writer.ts', dir], { cwd: ROOT });
    const out = await waitForOutput(child, (o) => o.split('\n').length > 200);
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const reported = Math.max(...out.trim().split('\n').map(Number));

    const store = await Store.open(dir);
    try {
      const incidents = await store.listIncidents({ limit: 1_000_000 });
      // Everything the child saw committed survived; at most the batches in flight are missing.
      expect(incidents.length).toBeGreaterThan(reported);
      const pending = await store.loadPendingDeliveries();
      expect(pending).toHaveLength(incidents.length * 3);
      for (const inc of incidents) {
        expect(await store.listDeliveries(inc.id)).toHaveLength(3);
        expect((await store.timeline(inc.id)).map((a) => a.seq)).toEqual([1, 2]);
        expect(await store.openIncidentId(inc.fingerprint)).toBe(inc.id);
      }
      expect(await store.countIncidentsByState()).toEqual({
        triggered: incidents.length,
        acknowledged: 0,
        resolved: 0,
      });
    } finally {
      await store.close();
    }
  });
});
