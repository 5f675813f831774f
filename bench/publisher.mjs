// A separate process that publishes log events, so publishing never shares the measured process's
// event loop. Usage:
//   publisher.mjs <url> <subject> <kind> <count> [--rate N] [--seed N] [--alerting PCT] [--jetstream]
// --rate paces both modes (events/s); without it, publishing goes as fast as it can.
// kinds: gen (the generator's realistic mix), storm (one identical critical line), unique (each
// event a new critical incident of its own service), paging (each event a new incident of its own
// service that the shipped policy sends to both providers: a database connection refused), flood
// (the gen mix with every --every'th line (default 200) replaced by a marked pair member: a
// connection refused on its own service `flood-<k>`, which pages, and --every × 50 lines later that
// service's `connection pool recovered`, which resolves it; the bench counts both by their
// lifecycle events).
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { eventLines } from '../scripts/gen-log-events.mjs';

const [url, subject, kind, countText, ...rest] = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = rest.indexOf(`--${name}`);
  return i === -1 ? fallback : rest[i + 1];
};
const count = Number(countText);
const rate = Number(flag('rate', '0'));
const useJs = rest.includes('--jetstream');

function lines() {
  if (kind === 'gen')
    return [
      ...eventLines({ count, alerting: Number(flag('alerting', '3')), seed: Number(flag('seed', '1')) }),
    ];
  if (kind === 'storm') {
    const line = JSON.stringify({
      timestamp: '2026-11-24T15:00:00Z',
      service: 'order-service',
      level: 'error',
      source: 'database',
      message: 'database connection pool exhausted (max=50, waiting=312)',
    });
    return Array(count).fill(line);
  }
  if (kind === 'unique') {
    return Array.from({ length: count }, (_, i) =>
      JSON.stringify({
        timestamp: '2026-11-24T15:00:00Z',
        service: `svc-${i}`,
        level: 'critical',
        source: 'runtime',
        message: `worker ${i} crashed`,
      }),
    );
  }
  if (kind === 'paging') {
    return Array.from({ length: count }, (_, i) =>
      JSON.stringify({
        timestamp: '2026-11-24T15:00:00Z',
        service: `db-client-${i}`,
        level: 'error',
        source: 'database',
        message: 'connection refused to postgres',
      }),
    );
  }
  if (kind === 'flood') {
    const every = Number(flag('every', '200'));
    const gap = every * 50;
    const all = [
      ...eventLines({ count, alerting: Number(flag('alerting', '3')), seed: Number(flag('seed', '1')) }),
    ];
    const marked = (k, message, level) =>
      JSON.stringify({
        timestamp: '2026-11-24T15:00:00Z',
        service: `flood-${k}`,
        level,
        source: 'database',
        message,
      });
    let k = 0;
    // Failures at every'th line, each one's recovery `gap` lines later (offset by half a step so
    // the two never land on the same line); the last failures may have no room for theirs.
    for (let i = every - 1; i < count; i += every, k++) {
      all[i] = marked(k, 'connection refused to postgres', 'error');
      const r = i + gap + Math.floor(every / 2);
      if (r < count) all[r] = marked(k, 'database connection pool recovered', 'info');
    }
    return all;
  }
  throw new Error(`unknown kind ${kind}`);
}

const all = lines();
const nc = await connect({ servers: url });
process.stdout.write('ready\n');
await new Promise((resolve) => process.stdin.once('data', resolve)); // go
process.stdin.destroy(); // an open stdin would keep this process alive
const t0 = performance.now();
/** Wait until event `i` is due at --rate. Called every 100 events only: no await per event in a flood. */
async function pace(i) {
  const wait = t0 + ((i + 1) * 1000) / rate - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
if (useJs) {
  const js = jetstream(nc);
  const window = [];
  for (let i = 0; i < all.length; i++) {
    window.push(js.publish(subject, all[i]));
    if (window.length >= 256) await Promise.all(window.splice(0));
    if (rate > 0 && i % 100 === 99) await pace(i);
  }
  await Promise.all(window);
} else {
  for (let i = 0; i < all.length; i++) {
    nc.publish(subject, all[i]);
    if (rate > 0 && i % 100 === 99) await pace(i);
    if (i % 2000 === 1999) await nc.flush();
  }
  await nc.flush();
}
process.stdout.write(`published ${all.length} in ${Math.round(performance.now() - t0)} ms\n`);
await nc.close();
