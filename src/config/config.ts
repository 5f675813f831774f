// Environment → Config, once, at start (docs/configuration.md). Every problem is reported, one line
// each; nothing past this module reads process.env or applies defaults.
import { availableParallelism, hostname } from 'node:os';
import { formatDuration, parseDuration } from '../domain/duration.js';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { LOG_LEVELS, type LogLevelName } from '../telemetry/logger.js';
import { maskUserInfo, readNatsEndpoint, type NatsAuth } from './nats-auth.js';
import { tokenList } from './tokens.js';

export interface NatsConfig {
  /** NATS_URL without credentials (shown in health); `servers` is the list it names. */
  url: string;
  servers: string[];
  /** How the sidecar authenticates, and the TLS files it uses (docs/configuration.md). */
  auth: NatsAuth;
  subject: string;
  /** JetStream mode when set: durable pull consumer on this stream. */
  stream: string | null;
  durable: string;
  deadLetterSubject: string;
  /** Core mode: events queued beyond this are dropped and counted. */
  maxPending: number;
  /** Outcomes awaiting durability at once (backpressure: JetStream stops pulling beyond it). */
  maxInFlight: number;
  /** JetStream: deliveries before a message goes to the dead-letter subject. */
  maxDeliver: number;
  /** JetStream: how long the server waits for an ack before redelivering. */
  ackWaitMs: number;
  /** Core mode: share a backlog with a triage worker thread (src/ingest/nats/triage.ts). */
  triage: boolean;
}

/** Where incident state lives: one process's LevelDB, or NATS JetStream shared by a cluster. */
export type StateKind = 'leveldb' | 'jetstream';

export interface ClusterConfig {
  /** Prefix of the JetStream buckets and streams this cluster shares (several clusters, one server). */
  name: string;
  /** Replicas of each bucket and stream: 1, or 3 on a 3-node NATS cluster. */
  replicas: number;
  /** This replica's name in the membership list (default: host name and process id). */
  replica: string;
}

/**
 * The HTTP(S) proxy the provider requests go through (docs/configuration.md, "Outbound proxy"), from
 * the usual variables; null when none is set.
 */
export interface ProxyConfig {
  /** HTTP_PROXY (or http_proxy): for http:// provider URLs, and https:// ones when httpsProxy is unset. */
  httpProxy: string | null;
  /** HTTPS_PROXY (or https_proxy): for https:// provider URLs. */
  httpsProxy: string | null;
  /** NO_PROXY (or no_proxy): hosts reached directly, comma-separated (`host`, `.domain`, `host:port`, `*`). */
  noProxy: string | null;
}

export interface Config {
  port: number;
  host: string;
  policyDir: string;
  dataDir: string;
  nats: NatsConfig | null;
  /** Outbound proxy for provider requests, or null. */
  proxy: ProxyConfig | null;
  apiToken: string | null;
  pagerdutyWebhookSecret: string | null;
  opsgenieWebhookToken: string | null;
  logLevel: LogLevelName;
  /** Base URL of this sidecar as providers and people reach it (client_url, links). */
  publicUrl: string;
  /** Providers point at the built-in simulators. */
  sandbox: boolean;
  state: StateKind;
  /** JetStream state: the shared buckets and streams (null with LevelDB state). */
  cluster: ClusterConfig | null;
  /** How long resolved incidents, their timelines and delivered outbox entries are kept. */
  retentionMs: number;
  /** The recent-events ring that `diff --recorded` and POST /api/v1/policy/diff replay (docs/policy-diff.md). */
  recentEvents: RecentEventsConfig;
  /** The environment the policy on disk interpolates `${NAME}` from. */
  env: Readonly<Record<string, string | undefined>>;
  /**
   * Variables a candidate policy from a request may read (POLICY_CANDIDATE_ENV); every other
   * `${NAME}` in it becomes the placeholder `$NAME`, so no request can read the process environment.
   */
  candidateEnv: Readonly<Record<string, string>>;
  /** Values of variables whose names mark them as secrets: masked in every answer and log line. */
  secretValues: readonly string[];
}

export interface RecentEventsConfig {
  /** 0 turns the ring off. */
  maxEvents: number;
  maxBytes: number;
  /** 1 in this many of the events that neither page, resolve, record nor are suppressed is kept. */
  sampleEvery: number;
}

/** The least length of each token of API_TOKEN or OPSGENIE_WEBHOOK_TOKEN when several are given (a rotation). */
const MIN_ROTATING_TOKEN = 16;

/** Documented settings, in the order `incident-router --help` lists them. */
export const ENV_VARS: readonly { name: string; default: string; help: string }[] = [
  { name: 'PORT', default: '8000', help: 'HTTP port (0 picks a free one)' },
  { name: 'HOST', default: '127.0.0.1', help: 'HTTP listen address' },
  { name: 'POLICY_DIR', default: 'policies', help: 'directory of *.yaml policy files' },
  {
    name: 'STATE',
    default: 'leveldb',
    help: 'leveldb (one sidecar) | jetstream (cluster mode; needs NATS_URL)',
  },
  { name: 'DATA_DIR', default: 'data', help: 'LevelDB directory (one sidecar per directory)' },
  {
    name: 'CLUSTER_NAME',
    default: 'incident-router',
    help: 'jetstream state: prefix of the shared buckets and streams',
  },
  {
    name: 'CLUSTER_REPLICAS',
    default: '1',
    help: 'jetstream state: replicas of each bucket and stream (1 or 3)',
  },
  {
    name: 'REPLICA_NAME',
    default: '(host name and pid)',
    help: 'jetstream state: this replica in /api/v1/health',
  },
  { name: 'RETENTION', default: '30d', help: 'how long resolved incidents are kept (e.g. 7d, 720h)' },
  { name: 'RECENT_EVENTS_MAX', default: '100000', help: 'events kept for `diff --recorded` (0: none)' },
  { name: 'RECENT_EVENTS_MAX_BYTES', default: '52428800', help: 'bytes kept for `diff --recorded` (50 MiB)' },
  {
    name: 'RECENT_EVENTS_SAMPLE',
    default: '10',
    help: 'keep 1 in N of the events that neither page, resolve, record nor are suppressed',
  },
  {
    name: 'NATS_URL',
    default: '(unset: no NATS)',
    help: 'e.g. nats://127.0.0.1:4222; several servers of a cluster comma-separated',
  },
  { name: 'NATS_USER', default: '(unset)', help: 'NATS user name, with NATS_PASSWORD' },
  { name: 'NATS_PASSWORD', default: '(unset)', help: 'NATS password, with NATS_USER' },
  { name: 'NATS_TOKEN', default: '(unset)', help: 'NATS authentication token' },
  { name: 'NATS_CREDS', default: '(unset)', help: 'NATS credentials file (user JWT and NKey seed)' },
  { name: 'NATS_NKEY', default: '(unset)', help: 'file holding a NATS user NKey seed' },
  { name: 'NATS_CA', default: '(unset: system CAs)', help: 'PEM file of the CA of the NATS servers (TLS)' },
  { name: 'NATS_CERT', default: '(unset)', help: 'PEM client certificate for NATS (TLS), with NATS_KEY' },
  { name: 'NATS_KEY', default: '(unset)', help: 'PEM private key of NATS_CERT' },
  { name: 'NATS_SUBJECT', default: 'logs.>', help: 'subject of incoming log events' },
  { name: 'NATS_STREAM', default: '(unset: core NATS)', help: 'JetStream stream; enables the no-loss mode' },
  { name: 'NATS_DURABLE', default: 'incident-router', help: 'durable consumer name in JetStream mode' },
  { name: 'NATS_DLQ_SUBJECT', default: 'incident-router.dlq', help: 'dead-letter subject' },
  { name: 'NATS_MAX_PENDING', default: '10000', help: 'core NATS: events queued before shedding noise' },
  { name: 'NATS_MAX_IN_FLIGHT', default: '2000', help: 'outcomes awaiting durability at once' },
  { name: 'NATS_MAX_DELIVER', default: '5', help: 'JetStream: deliveries before the dead-letter subject' },
  { name: 'NATS_ACK_WAIT_MS', default: '30000', help: 'JetStream: ack wait before redelivery' },
  {
    name: 'NATS_TRIAGE',
    default: 'auto',
    help: 'core NATS: judge backlogs on a worker thread (auto: with 2 or more CPUs) | on | off',
  },
  {
    name: 'HTTPS_PROXY',
    default: '(unset: direct)',
    help: 'proxy for requests to https:// providers (also https_proxy; HTTP_PROXY for http://)',
  },
  {
    name: 'NO_PROXY',
    default: '(unset)',
    help: 'hosts the providers are reached at directly (also no_proxy)',
  },
  {
    name: 'API_TOKEN',
    default: '(unset: open)',
    help: 'Bearer token required by mutating endpoints, comma-separated while rotating',
  },
  {
    name: 'PAGERDUTY_WEBHOOK_SECRET',
    default: '(unset: refused; sandbox: random)',
    help: 'PagerDuty V3 signing secret(s), comma-separated while rotating',
  },
  {
    name: 'OPSGENIE_WEBHOOK_TOKEN',
    default: '(unset: refused; sandbox: random)',
    help: 'shared token(s) OpsGenie sends in X-Webhook-Token, comma-separated while rotating',
  },
  {
    name: 'POLICY_CANDIDATE_ENV',
    default: '(unset: none)',
    help: 'comma-separated variables candidate policies (validate, dry-run) may read; others become $NAME',
  },
  { name: 'LOG_LEVEL', default: 'info', help: LOG_LEVELS.join(' | ') },
  { name: 'PUBLIC_URL', default: 'http://HOST:PORT', help: 'how people reach this sidecar (incident links)' },
];

type Env = Readonly<Record<string, string | undefined>>;

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  text(name: string, fallback: string): string {
    const v = this.env[name];
    return v === undefined || v === '' ? fallback : v;
  }

  optional(name: string): string | null {
    const v = this.env[name];
    return v === undefined || v === '' ? null : v;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      this.problems.push(`${name}=${JSON.stringify(raw)}: expected an integer from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.text(name, fallback);
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problems.push(`${name}=${JSON.stringify(raw)}: expected one of ${allowed.join(', ')}`);
      return fallback;
    }
    return raw as T;
  }

  url(name: string, protocols: readonly string[]): string | null {
    const raw = this.optional(name);
    if (raw === null) return null;
    try {
      const u = new URL(raw);
      if (!protocols.includes(u.protocol)) {
        this.problems.push(`${name}=${JSON.stringify(raw)}: expected a ${protocols.join(' or ')} URL`);
        return null;
      }
      return raw;
    } catch {
      this.problems.push(`${name}=${JSON.stringify(raw)}: not a URL`);
      return null;
    }
  }

  /** A comma-separated list of URLs (a NATS cluster's servers). */
  urls(name: string, protocols: readonly string[]): string[] {
    const raw = this.optional(name);
    if (raw === null) return [];
    const out: string[] = [];
    for (const part of raw
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '')) {
      try {
        const u = new URL(part);
        if (protocols.includes(u.protocol)) out.push(part);
        else
          this.problems.push(
            `${name}: ${JSON.stringify(maskUserInfo(part))} is not a ${protocols.join(' or ')} URL`,
          );
      } catch {
        this.problems.push(`${name}: ${JSON.stringify(maskUserInfo(part))} is not a URL`);
      }
    }
    return out;
  }

  subject(name: string, fallback: string, wildcards: boolean): string {
    const raw = this.text(name, fallback);
    const token = wildcards ? /^([^.\s*>]+|\*)(\.([^.\s*>]+|\*))*(\.>)?$|^>$/ : /^[^.\s*>]+(\.[^.\s*>]+)*$/;
    if (!token.test(raw)) this.problems.push(`${name}=${JSON.stringify(raw)}: not a valid NATS subject`);
    return raw;
  }

  /**
   * A token compared byte for byte with what a client sends. HTTP trims header values, so one
   * with leading or trailing whitespace (a Kubernetes secret's trailing newline) could never match.
   */
  token(name: string, minLength: number): string | null {
    const raw = this.env[name];
    if (raw === undefined || raw === '') return null;
    if (raw.trim() === '') this.problems.push(`${name}: is only whitespace`);
    else if (raw.trim() !== raw)
      this.problems.push(
        `${name}: has leading or trailing whitespace (often a newline left by a secret file); remove it, since HTTP trims header values and it could never match`,
      );
    else if (raw.length < minLength) this.problems.push(`${name}: use at least ${minLength} characters`);
    return raw;
  }

  duration(name: string, fallback: string, minMs: number): number {
    const raw = this.text(name, fallback);
    const ms = parseDuration(raw);
    if (ms === null || ms < minMs) {
      this.problems.push(
        `${name}=${JSON.stringify(raw)}: expected a duration of at least ${formatDuration(minMs)} such as 30d or 720h`,
      );
      return parseDuration(fallback) as number;
    }
    return ms;
  }

  names(name: string): string[] {
    const raw = this.optional(name);
    if (raw === null) return [];
    const names = raw
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n !== '');
    for (const n of names)
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(n))
        this.problems.push(`${name}: ${JSON.stringify(n)} is not a variable name`);
    return names;
  }

  name(name: string, fallback: string): string {
    const raw = this.text(name, fallback);
    if (!/^[A-Za-z0-9_-]+$/.test(raw))
      this.problems.push(`${name}=${JSON.stringify(raw)}: use letters, digits, _ and -`);
    return raw;
  }
}

export interface ConfigOverrides {
  sandbox?: boolean;
  policyDir?: string;
}

/** Build the configuration from the environment, or throw ConfigError listing every problem. */
export function loadConfig(env: Env, overrides: ConfigOverrides = {}, cwd = process.cwd()): Config {
  const r = new Reader(env);
  const port = r.integer('PORT', 8000, 0, 65535);
  const host = r.text('HOST', '127.0.0.1');
  const endpoint = readNatsEndpoint(
    env,
    r.urls('NATS_URL', ['nats:', 'tls:', 'ws:', 'wss:']),
    r.problems,
    cwd,
  );
  const natsServers = endpoint.servers;
  const natsUrl = natsServers.length === 0 ? null : natsServers.join(',');
  const subject = r.subject('NATS_SUBJECT', 'logs.>', true);
  const streamRaw = r.optional('NATS_STREAM');
  const stream = streamRaw === null ? null : r.name('NATS_STREAM', streamRaw);
  const durable = r.name('NATS_DURABLE', 'incident-router');
  const deadLetterSubject = r.subject('NATS_DLQ_SUBJECT', 'incident-router.dlq', false);
  const maxPending = r.integer('NATS_MAX_PENDING', 10_000, 1, 10_000_000);
  const maxInFlight = r.integer('NATS_MAX_IN_FLIGHT', 2_000, 1, 100_000);
  const maxDeliver = r.integer('NATS_MAX_DELIVER', 5, 1, 1_000);
  const ackWaitMs = r.integer('NATS_ACK_WAIT_MS', 30_000, 500, 3_600_000);
  const triage = r.oneOf('NATS_TRIAGE', ['auto', 'on', 'off'] as const, 'auto');
  if (stream !== null && natsUrl === null && r.optional('NATS_URL') === null) {
    r.problems.push('NATS_STREAM is set but NATS_URL is not: JetStream mode needs a NATS server');
  }
  const proxy = readProxy(r, env);
  const apiToken = r.token('API_TOKEN', 16);
  const opsgenieWebhookToken = r.token('OPSGENIE_WEBHOOK_TOKEN', 1);
  // Several tokens (a rotation) are comma-separated; each must be a real secret of its own, so a
  // one-token value that happens to hold a comma fails here rather than accept each half.
  for (const [name, value] of [
    ['API_TOKEN', apiToken],
    ['OPSGENIE_WEBHOOK_TOKEN', opsgenieWebhookToken],
  ] as const) {
    const tokens = tokenList(value);
    if (tokens.length > 1 && tokens.some((t) => t.length < MIN_ROTATING_TOKEN))
      r.problems.push(
        `${name}: several tokens (comma-separated, while rotating) must each have at least ${MIN_ROTATING_TOKEN} characters`,
      );
  }
  const pagerdutyWebhookSecret = r.optional('PAGERDUTY_WEBHOOK_SECRET');
  if (pagerdutyWebhookSecret !== null && pagerdutyWebhookSecret.trim() === '')
    r.problems.push('PAGERDUTY_WEBHOOK_SECRET: is only whitespace');
  const candidateNames = r.names('POLICY_CANDIDATE_ENV');
  const state = r.oneOf('STATE', ['leveldb', 'jetstream'] as const, 'leveldb');
  if (state === 'jetstream' && r.optional('NATS_URL') === null)
    r.problems.push('STATE=jetstream needs NATS_URL: cluster mode keeps its state in NATS JetStream');
  const cluster: ClusterConfig = {
    name: r.name('CLUSTER_NAME', 'incident-router'),
    replicas: r.integer('CLUSTER_REPLICAS', 1, 1, 5),
    replica: r.name('REPLICA_NAME', `${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}-${process.pid}`),
  };
  const retentionMs = r.duration('RETENTION', '30d', 3_600_000);
  const recentEvents: RecentEventsConfig = {
    maxEvents: r.integer('RECENT_EVENTS_MAX', 100_000, 0, 10_000_000),
    maxBytes: r.integer('RECENT_EVENTS_MAX_BYTES', 50 * 1024 * 1024, 1024, 4 * 1024 * 1024 * 1024),
    sampleEvery: r.integer('RECENT_EVENTS_SAMPLE', 10, 1, 1_000_000),
  };
  const logLevel = r.oneOf('LOG_LEVEL', LOG_LEVELS, 'info');
  const publicUrl =
    r.url('PUBLIC_URL', ['http:', 'https:']) ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  const absolute = (p: string): string => (isAbsolute(p) ? p : resolve(cwd, p));
  return {
    port,
    host,
    policyDir: absolute(overrides.policyDir ?? r.text('POLICY_DIR', 'policies')),
    dataDir: absolute(r.text('DATA_DIR', 'data')),
    nats:
      natsUrl === null
        ? null
        : {
            url: natsUrl,
            servers: natsServers,
            auth: endpoint.auth,
            subject,
            stream,
            durable,
            deadLetterSubject,
            maxPending,
            maxInFlight,
            maxDeliver,
            ackWaitMs,
            triage: triage === 'on' || (triage === 'auto' && availableParallelism() >= 2),
          },
    proxy: proxy.config,
    apiToken,
    pagerdutyWebhookSecret,
    opsgenieWebhookToken,
    logLevel,
    publicUrl: publicUrl.replace(/\/+$/, ''),
    sandbox: overrides.sandbox ?? false,
    state,
    cluster: state === 'jetstream' ? cluster : null,
    retentionMs,
    recentEvents,
    env,
    candidateEnv: Object.fromEntries(
      candidateNames.flatMap((n) => (env[n] === undefined ? [] : [[n, env[n]]])),
    ),
    secretValues: [...secretValuesOf(env), ...endpoint.urlSecrets, ...proxy.secrets],
  };
}

/**
 * The proxy variables, lower case first as curl and undici read them. A proxy URL's password (the
 * proxy's own credentials) is a secret.
 */
function readProxy(r: Reader, env: Env): { config: ProxyConfig | null; secrets: string[] } {
  const secrets: string[] = [];
  const proxyUrl = (lower: string, upper: string): string | null => {
    const name = r.optional(lower) !== null ? lower : upper;
    const raw = r.optional(name);
    if (raw === null) return null;
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      r.problems.push(`${name}=${JSON.stringify(maskUserInfo(raw))}: not a URL`);
      return null;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      r.problems.push(`${name}=${JSON.stringify(maskUserInfo(raw))}: expected an http: or https: proxy URL`);
      return null;
    }
    if (u.password !== '') secrets.push(decodeURIComponent(u.password), u.password);
    return raw;
  };
  const httpProxy = proxyUrl('http_proxy', 'HTTP_PROXY');
  const httpsProxy = proxyUrl('https_proxy', 'HTTPS_PROXY');
  const noProxy = env['no_proxy'] || env['NO_PROXY'] || null;
  const config = httpProxy === null && httpsProxy === null ? null : { httpProxy, httpsProxy, noProxy };
  return { config, secrets: [...new Set(secrets)] };
}

// Names that say "this is a credential": API keys, tokens, secrets, passwords.
const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH|PRIVATE|SIGNATURE|COOKIE|SESSION/i;

/** The values of every variable named like a credential, whether or not a policy reads it. */
export function secretValuesOf(env: Env): string[] {
  return Object.entries(env).flatMap(([name, value]) =>
    SECRET_NAME.test(name) && value !== undefined && value !== '' ? [value] : [],
  );
}
