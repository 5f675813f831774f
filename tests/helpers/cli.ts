import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The CLI from source (through tsx), so tests never depend on a stale build. */
export const CLI = ['--import', 'tsx', fileURLToPath(new URL('../../src/main.ts', import.meta.url))];
/** The built executable (dist/main.js and the server bundle it loads): what `npm start` runs. */
export const BUILT_CLI = [fileURLToPath(new URL('../../dist/main.js', import.meta.url))];

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI ${args.join(' ')} timed out:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Start `serve` as a child process; resolves once it logs that it listens. `onOutput` sees the
 * output so far each time more comes (to act on a line the start logs before it listens).
 */
export function startServe(
  args: string[],
  env: Record<string, string>,
  cli: readonly string[] = CLI,
  onOutput?: (output: string, child: ChildProcess) => void,
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...cli, 'serve', ...args], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'info', ...env },
    });
    let output = '';
    const onData = (d: Buffer): void => {
      output += d.toString();
      onOutput?.(output, child);
      const m = /incident-router listening on (http:\/\/[^"\s]+)/.exec(output);
      if (m) resolve({ child, url: m[1] as string, output: () => output });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}:\n${output}`)));
    // Longer than cluster mode's own minute of trying to open its buckets, so a start that gives up
    // reports its own error (and its logged retries) rather than this time-out.
    setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 90_000).unref();
  });
}

/**
 * Resolves once `child` has exited. A process ended by a signal has a null `exitCode` and its
 * `signalCode` set: one that is already gone must not wait for an `exit` event it has had.
 */
export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.on('exit', (code) => resolve(code));
  });
}
