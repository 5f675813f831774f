// The data directory before LevelDB opens it: created when missing, a directory, and writable.
// Each refusal is a StoreError that names the directory and the reason, at once.
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StoreError, errorMessage } from '../errors.js';

const REASONS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'part of the path is a file, not a directory',
  ENOENT:
    'the file system takes no new entries here (a virtual one such as /proc, or a broken symbolic link?)',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the path is too long',
};

export async function prepareDataDir(dir: string): Promise<void> {
  await attempt(dir, 'cannot create it', () => makeDirs(dir));
  const isDirectory = await attempt(dir, 'cannot read it', async () => (await stat(dir)).isDirectory());
  if (!isDirectory) throw refusal(dir, 'it is a file, not a directory');
  await attempt(dir, 'cannot write files in it', () => probeWrite(dir));
}

/**
 * `mkdir -p` one level at a time. Node's own `mkdir(dir, { recursive: true })` never settles when a
 * parent exists but the child still answers ENOENT, as everywhere under /proc: it retries the
 * parent (EEXIST) and the child (ENOENT) forever, a libuv thread at 100% CPU. Here a child that
 * still answers ENOENT once its parent exists is final.
 */
async function makeDirs(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (err) {
    const parent = dirname(dir);
    if (codeOf(err) === 'EEXIST') return;
    if (codeOf(err) !== 'ENOENT' || parent === dir) throw err;
    await makeDirs(parent);
    await mkdir(dir).catch((again: unknown) => {
      if (codeOf(again) !== 'EEXIST') throw again;
    });
  }
}

/** LevelDB would find out too, but as an IO error in words of its own, or none: say it plainly first. */
async function probeWrite(dir: string): Promise<void> {
  const probe = join(dir, `.write-probe-${process.pid}`);
  await writeFile(probe, '');
  await rm(probe, { force: true });
}

async function attempt<T>(dir: string, doing: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (err) {
    throw refusal(dir, `${doing}: ${reasonOf(err)}`, err);
  }
}

function refusal(dir: string, reason: string, cause?: unknown): StoreError {
  return new StoreError(`cannot open data directory ${dir}: ${reason}`, { cause });
}

function reasonOf(err: unknown): string {
  const code = codeOf(err);
  const reason = code === undefined ? undefined : REASONS[code];
  return reason === undefined ? errorMessage(err) : `${reason} (${code})`;
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
