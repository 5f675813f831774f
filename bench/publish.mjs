// Drive bench/publisher.mjs: start it, wait until it is ready, then go.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export async function publisher(args) {
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('./publisher.mjs', import.meta.url)), ...args],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await new Promise((resolve, reject) => {
    const check = setInterval(() => {
      if (out.includes('ready')) {
        clearInterval(check);
        resolve();
      }
    }, 10);
    child.once('exit', (c) => reject(new Error(`publisher exited ${c}: ${out}`)));
  });
  const done = new Promise((resolve) => child.once('exit', () => resolve(out)));
  return {
    go: () => child.stdin.end('go\n'),
    done,
  };
}
