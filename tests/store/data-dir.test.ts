// A data directory that cannot be created or written fails the start at once, with a StoreError
// naming the directory and the reason: never a silent spin (/proc), never a LevelDB IO error.
import { spawn } from 'node:child_process';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { Store } from '../../src/store/store.js';
import { CLI, ROOT, type CliResult } from '../helpers/cli.js';
import { freshDir } from './fixtures.js';

const isLinux = process.platform === 'linux';
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;
// The process's own id keeps parallel runs apart; none of these can ever be created.
const UNDER_PROC = `/proc/incident-router-test-${process.pid}`;

let dir: string;
let remove: () => Promise<void>;

beforeEach(async () => {
  ({ dir, remove } = await freshDir());
});
afterEach(async () => {
  await chmod(dir, 0o700).catch(() => undefined);
  await remove();
});

/** Store.open's refusal, or a note that it did not come within a second. */
async function refusalOf(target: string): Promise<unknown> {
  const opening = Store.open(target).then(
    async (store) => {
      await store.close();
      return new Error(`opened ${target}`);
    },
    (err: unknown) => err,
  );
  const late = new Promise((resolve) => setTimeout(resolve, 1_000, new Error('no answer within 1 s'))).then(
    (err) => err,
  );
  return Promise.race([opening, late]);
}

function expectRefusal(err: unknown, target: string, reason: RegExp): void {
  expect(err).toBeInstanceOf(StoreError);
  const message = (err as Error).message;
  expect(message.startsWith(`cannot open data directory ${target}: `)).toBe(true);
  expect(message.slice(`cannot open data directory ${target}: `.length)).toMatch(reason);
}

describe('store - a data directory that cannot be used fails within a second', () => {
  it.skipIf(!isLinux)('a directory under /proc, which answers ENOENT to every mkdir', async () => {
    const err = await refusalOf(UNDER_PROC);
    expectRefusal(err, UNDER_PROC, /^cannot create it: .*\/proc.* \(ENOENT\)$/);
  });

  it.skipIf(!isLinux)('several missing levels under /proc', async () => {
    const target = `${UNDER_PROC}/nested/data`;
    expectRefusal(await refusalOf(target), target, /^cannot create it: .* \(ENOENT\)$/);
  });

  it.skipIf(!isLinux)('an existing /proc directory that takes no files', async () => {
    expectRefusal(await refusalOf('/proc/self'), '/proc/self', /^cannot write files in it: .* \(ENOENT\)$/);
  });

  it.skipIf(!isLinux)('a directory under /sys', async () => {
    const target = `/sys/incident-router-test-${process.pid}`;
    expectRefusal(await refusalOf(target), target, /^cannot create it: .* \((EPERM|EACCES)\)$/);
  });

  it('a file instead of a directory', async () => {
    const target = join(dir, 'data');
    await writeFile(target, 'not a directory');
    expectRefusal(await refusalOf(target), target, /^it is a file, not a directory$/);
  });

  it('a directory below a file', async () => {
    await writeFile(join(dir, 'file'), 'not a directory');
    const target = join(dir, 'file', 'data');
    expectRefusal(await refusalOf(target), target, /^cannot create it: .* \(ENOTDIR\)$/);
  });

  // Root writes through permission bits; the CLI test below runs as nobody to cover it.
  it.skipIf(isRoot)('a read-only directory', async () => {
    await chmod(dir, 0o555);
    expectRefusal(await refusalOf(dir), dir, /^cannot write files in it: permission denied \(EACCES\)$/);
  });
});

/** `serve --sandbox` from source, as `uid` when given; killed after `timeoutMs`. */
function serve(env: Record<string, string>, uid?: number, timeoutMs = 20_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, 'serve', '--sandbox'], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', PORT: '0', ...env },
      ...(uid === undefined ? {} : { uid, gid: uid }),
    });
    let [stdout, stderr] = ['', ''];
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not exit within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('serve - exits non-zero with one line naming the directory', () => {
  it.skipIf(!isLinux)('DATA_DIR under /proc', async () => {
    const result = await serve({ DATA_DIR: UNDER_PROC });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(
      new RegExp(`^incident-router: cannot open data directory ${UNDER_PROC}: cannot create it: [^\\n]+$`),
    );
  });

  it('DATA_DIR in a read-only directory', async () => {
    // As root, run the sidecar as nobody, with a temporary directory of its own for tsx.
    const scratch = await mkdtemp(join(tmpdir(), 'ir-nobody-'));
    try {
      if (isRoot) await chown(scratch, NOBODY, NOBODY);
      await chmod(dir, 0o555);
      const target = join(dir, 'data');
      const result = await serve({ DATA_DIR: target, TMPDIR: scratch }, isRoot ? NOBODY : undefined);
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toBe(
        `incident-router: cannot open data directory ${target}: cannot create it: permission denied (EACCES)`,
      );
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
