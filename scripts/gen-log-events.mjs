#!/usr/bin/env node
// Deterministic generator of realistic log events (docs/nats.md, "Input: log events"), for tests and
// benchmarks. Adapted from the team's shared generator so that the project stays self-contained.
//
// As a module:  import { generateEvents } from './gen-log-events.mjs'  → array of JSON lines
// As a CLI:     gen-log-events.mjs [--count N] [--seed S] [--alerting PCT] [--start ISO] [--rate EV_PER_S]
//               [--storm SERVICE:COUNT] [--invalid PCT]
// About PCT% of events (default 3) carry error/fatal patterns that a sensible policy pages on; the
// rest is everyday info/debug/warn noise. --invalid PCT mixes in malformed lines.

export const SERVICES = [
  'payment-service',
  'user-auth',
  'api-gateway',
  'order-service',
  'recommendation',
  'notification-service',
  'search',
  'inventory-service',
];

export function* eventLines(options = {}) {
  const count = options.count ?? 1000;
  const alertingPct = options.alerting ?? 3;
  const invalidPct = options.invalid ?? 0;
  const ratePerS = options.rate ?? 1000;
  let t = Date.parse(options.start ?? '2026-11-23T08:00:00Z');
  let seed = (options.seed ?? 42) >>> 0;
  const rand = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let x = seed;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
  const hosts = (s) => `${s}-${int(1, 6)}.prod.internal`;
  const noise = [
    ['info', 'http', () => `GET /api/v1/orders/${int(1000, 99999)} 200 in ${int(2, 180)}ms`],
    ['info', 'http', () => `POST /api/v1/checkout 201 in ${int(20, 400)}ms`],
    ['debug', 'cache', () => `cache hit for key user:${int(1, 50000)}:profile`],
    ['info', 'cache', () => `cache miss rate increased by ${int(1, 6)}% over the last 5m`],
    ['info', 'scheduler', () => `job reindex-${int(1, 40)} finished in ${int(1, 90)}s`],
    ['warn', 'http', () => `slow request GET /api/v1/search took ${int(800, 2500)}ms`],
    ['warn', 'database', () => `query took ${int(500, 3000)}ms: SELECT * FROM orders WHERE customer_id = $1`],
    ['info', 'deploy', () => `deployment ${int(100, 999)} rolled out to ${int(1, 6)}/6 pods`],
    ['warn', 'tls', () => `certificate for api.example.com expires in ${int(20, 60)} days`],
    ['debug', 'queue', () => `consumer lag ${int(0, 40)} messages on topic orders`],
  ];
  const alerting = [
    [
      'error',
      'database',
      () => `database connection pool exhausted (max=${pick([20, 50, 100])}, waiting=${int(10, 400)})`,
    ],
    ['error', 'database', () => `connection refused to postgres at 10.0.${int(0, 9)}.${int(2, 250)}:5432`],
    ['fatal', 'database', () => `replica lag ${int(60, 900)}s exceeds failover threshold`],
    [
      'error',
      'payment',
      () => `payment gateway timeout after ${pick([10000, 30000])}ms for order ${int(100000, 999999)}`,
    ],
    [
      'error',
      'auth',
      () =>
        `JWT signature verification failed for user ${int(1, 90000)} from ${int(1, 223)}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`,
    ],
    [
      'critical',
      'auth',
      () =>
        `brute force login attempts detected: ${int(200, 5000)} failures in 60s from 203.0.113.${int(1, 254)}`,
    ],
    ['error', 'http', () => `upstream 503 from inventory-service after ${int(3, 5)} retries`],
    ['fatal', 'runtime', () => `container OOMKilled (limit ${pick([512, 1024, 2048])}Mi), restarting`],
    ['error', 'disk', () => `disk usage at ${int(95, 99)}% on /var/lib/postgresql`],
    ['warn', 'tls', () => `certificate for api.example.com expires in ${int(1, 3)} days`],
  ];
  const recoveries = [['info', 'database', () => 'database connection pool recovered']];
  const event = () => {
    const r = rand() * 100;
    const [level, source, msg] =
      r < alertingPct ? pick(alerting) : r < alertingPct + 0.2 ? pick(recoveries) : pick(noise);
    const service = pick(SERVICES);
    const ev = {
      timestamp: new Date(t).toISOString(),
      service,
      level,
      source,
      message: msg(),
      host: hosts(service),
      trace_id: rand().toString(16).slice(2, 18),
    };
    if (rand() < 0.3)
      ev.attributes = {
        region: pick(['us-east-1', 'eu-west-1', 'ap-south-1']),
        pod: `${service}-${int(1000, 9999)}`,
      };
    return ev;
  };
  const invalid = () =>
    pick([
      () =>
        '{"timestamp": "2026-11-23T08:00:00Z", "service": "payment-service", "level": "error", "message": ',
      () => JSON.stringify({ timestamp: 'yesterday', service: 'x', level: 'error', message: 'bad time' }),
      () => JSON.stringify({ service: 'payment-service', level: 'error', message: 'no timestamp' }),
      () =>
        JSON.stringify({
          timestamp: new Date(t).toISOString(),
          service: 42,
          level: 'error',
          message: 'service is a number',
        }),
      () =>
        JSON.stringify({
          timestamp: new Date(t).toISOString(),
          service: 'user-auth',
          level: 'loud',
          message: 'unknown level',
        }),
      () =>
        JSON.stringify({
          timestamp: new Date(t).toISOString(),
          service: 'user-auth',
          level: 'error',
          message: 'x'.repeat(70000),
        }),
      () =>
        '{"__proto__": {"polluted": true}, "timestamp": "2026-11-23T08:00:00Z", "service": "a", "level": "error", "message": "m"}',
      () => JSON.stringify([1, 2, 3]),
      () => '',
    ])();
  for (let i = 0; i < count; i++) {
    t += Math.max(1, Math.round(1000 / ratePerS));
    yield invalidPct && rand() * 100 < invalidPct ? invalid() : JSON.stringify(event());
  }
  if (options.storm) {
    const [stormService, stormCount] = options.storm.split(':');
    for (let i = 0; i < Number(stormCount); i++) {
      t += 1;
      yield JSON.stringify({
        timestamp: new Date(t).toISOString(),
        service: stormService,
        level: 'error',
        source: 'database',
        message: 'database connection pool exhausted (max=50, waiting=312)',
        host: `${stormService}-1.prod.internal`,
      });
    }
  }
}

export function generateEvents(options = {}) {
  return [...eventLines(options)];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = Object.fromEntries(
    process.argv.slice(2).reduce((acc, a, i, all) => {
      if (a.startsWith('--'))
        acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : 'true']);
      return acc;
    }, []),
  );
  const num = (k) => (args[k] === undefined ? undefined : Number(args[k]));
  const out = [];
  for (const line of eventLines({
    count: num('count'),
    seed: num('seed'),
    alerting: num('alerting'),
    invalid: num('invalid'),
    rate: num('rate'),
    start: args.start,
    storm: args.storm,
  })) {
    out.push(line);
    if (out.length >= 10000) {
      process.stdout.write(out.join('\n') + '\n');
      out.length = 0;
    }
  }
  if (out.length) process.stdout.write(out.join('\n') + '\n');
}
