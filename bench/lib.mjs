// Shared benchmark helpers: timing, repetition, a table printer, a sleep, a process's RSS and a free port. Every
// target is a ratio to a ceiling measured in the same run on the same machine, never an absolute time.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Run `fn` `runs` times (after one warm-up) and return the median of its own measurements. */
export async function repeat(runs, fn) {
  await fn();
  const results = [];
  for (let i = 0; i < runs; i++) {
    globalThis.gc?.();
    results.push(await fn());
  }
  return median(results);
}

export function table(title, rows) {
  const headers = Object.keys(rows[0]);
  const widths = headers.map((h) => Math.max(h.length, ...rows.map((r) => String(r[h]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n### ${title}\n`);
  console.log(line(headers));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const r of rows) console.log(line(headers.map((h) => r[h])));
}

export const fmt = (n) => Math.round(n).toLocaleString('en-US');
export const pass = (ok) => (ok ? 'yes' : '**NO**');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** VmRSS of a process in MB, or NaN once it is gone. */
export function rssMb(pid) {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? NaN : Number(kb) / 1024;
  } catch {
    return NaN;
  }
}

/** A TCP port free on loopback now (for a child process to listen on). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
