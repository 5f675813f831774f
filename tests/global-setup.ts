// Run once around the whole suite (vitest.config.ts, `globalSetup`). Its teardown stops the
// nats-servers the test workers started and left behind: vitest ends its forked workers with a
// signal, so a worker's own `exit` handler (tests/helpers/app.ts, nats-server.ts) never runs and a
// server shared by a test file would outlive the run. Only orphans (parent gone) whose JetStream
// directory is one of the tests' (`ir-nats-…`, `ir-natsc-…`) are stopped: a run beside this one
// keeps its servers.
import { readdirSync, readFileSync, rmSync } from 'node:fs';

const TEST_STORE = /-sd\0(\/[^\0]*\/ir-natsc?-[^\0]*)/;

function orphanTestServers(): { pid: number; storeDir: string }[] {
  const found: { pid: number; storeDir: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmdline.includes('nats-server')) continue;
      const store = TEST_STORE.exec(cmdline);
      // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so read after ')'.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (store?.[1] !== undefined && ppid === 1) found.push({ pid, storeDir: store[1] });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

export function setup(): () => void {
  return () => {
    for (const { pid, storeDir } of orphanTestServers()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      rmSync(storeDir, { recursive: true, force: true });
    }
  };
}
