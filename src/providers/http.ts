// The HTTP plumbing every provider shares: one keep-alive undici Agent per provider instance, a JSON POST
// that always consumes or cancels the response body (or the socket never returns to the pool), and the
// mapping of transport failures and HTTP statuses to the closed set of failure reasons.
// Undici's Agent and request() from their own files: its index also loads fetch, WebSocket, the
// cache and mock layers, about 50 ms of a start that a sidecar never uses. And those two load with
// the first request, not at start: 20-40 ms and about 10 MB that a start does not need to be ready
// (docs/performance.md, "Restart and footprint"). Types in ./undici-parts.d.ts.
import type { Readable } from 'node:stream';
import type Agent from 'undici/lib/dispatcher/agent.js';
import type { EnvHttpProxyAgent } from 'undici';
import type { ProxyConfig } from '../config/config.js';
import type request from 'undici/lib/api/api-request.js';
import { ProviderError, type FailureReason } from './provider.js';
import { truncateText } from './truncate.js';

export interface HttpClientOptions {
  /** The proxy to go through (docs/configuration.md, "Outbound proxy"); null or absent: direct. */
  proxy?: ProxyConfig | null;
  /** Sockets per origin. */
  connections?: number;
  connectTimeoutMs?: number;
  /** Backstops only: the caller's AbortSignal carries the real per-attempt timeout. */
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as text, cut at MAX_RESPONSE_BYTES (we only need error texts and a small JSON). */
  text: string;
  /** The parsed body, or null when it is not JSON. */
  json: unknown;
}

const DEFAULTS: Required<HttpClientOptions> = {
  proxy: null,
  connections: 16,
  connectTimeoutMs: 2_000,
  headersTimeoutMs: 30_000,
  bodyTimeoutMs: 30_000,
  keepAliveTimeoutMs: 10_000,
};

/** Vendors answer with small JSON; anything past this is not worth reading. */
const MAX_RESPONSE_BYTES = 64 * 1024;

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);
const CONFIG_CODES = new Set(['ERR_INVALID_URL', 'UND_ERR_INVALID_ARG', 'ERR_INVALID_ARG_TYPE']);

interface Undici {
  Agent: typeof Agent;
  request: typeof request;
}

interface Connected {
  agent: Agent | EnvHttpProxyAgent;
  request: typeof request;
}

let undici: Promise<Undici> | null = null;

function loadUndici(): Promise<Undici> {
  undici ??= Promise.all([
    import('undici/lib/dispatcher/agent.js'),
    import('undici/lib/api/api-request.js'),
  ]).then(([agent, api]) => ({ Agent: agent.default, request: api.default }));
  return undici;
}

export class HttpClient {
  private readonly options: Required<HttpClientOptions>;
  /** Made by the first request (see the top of this file); `ready` once it exists. */
  private connecting: Promise<Connected> | null = null;
  private ready: Connected | null = null;

  constructor(
    private readonly provider: string,
    options: HttpClientOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  private connect(): Promise<Connected> {
    const o = this.options;
    this.connecting ??= loadUndici().then(async ({ Agent, request }) => {
      const pool = {
        connections: o.connections,
        keepAliveTimeout: o.keepAliveTimeoutMs,
        keepAliveMaxTimeout: 60_000,
        headersTimeout: o.headersTimeoutMs,
        bodyTimeout: o.bodyTimeoutMs,
        connect: { timeout: o.connectTimeoutMs },
      };
      if (o.proxy === null) return (this.ready = { agent: new Agent(pool), request });
      // undici's own choice of proxy per request URL and NO_PROXY, as Node's fetch makes it with
      // NODE_USE_ENV_PROXY; given the values explicitly ('' for unset: it must not read the
      // environment itself, which src/config alone reads). From undici's index: its proxy agent
      // tunnels with the dispatchers' `connect`, which the index adds to them.
      const { EnvHttpProxyAgent } = await import('undici');
      const agent = new EnvHttpProxyAgent({
        ...pool,
        httpProxy: o.proxy.httpProxy ?? '',
        httpsProxy: o.proxy.httpsProxy ?? '',
        noProxy: o.proxy.noProxy ?? '',
      });
      return (this.ready = { agent, request });
    });
    return this.connecting;
  }

  /**
   * POSTs `body` (JSON text, sent byte for byte so signatures hold). Answers any HTTP status; throws
   * ProviderError only for what never got an answer: `timeout` (the signal fired, or a transport
   * timeout) or `network` (refused, reset, DNS, socket closed), or `client_error` for a malformed URL.
   */
  async postJson(
    url: string,
    body: string,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<HttpAnswer> {
    if (signal.aborted) throw this.transportError(signal.reason, signal);
    try {
      const target = new URL(url);
      const { agent, request } = this.ready ?? (await this.connect());
      const res = await request.call(agent, {
        origin: target.origin,
        path: target.pathname + target.search,
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'user-agent': 'incident-router',
          ...headers,
        },
        signal,
      });
      const text = await readCapped(res.body);
      return { status: res.statusCode, headers: res.headers, text, json: parseJson(text) };
    } catch (err) {
      throw this.transportError(err, signal);
    }
  }

  async close(): Promise<void> {
    if (this.connecting !== null) await (await this.connecting).agent.destroy();
  }

  private transportError(err: unknown, signal: AbortSignal): ProviderError {
    if (err instanceof ProviderError) return err;
    const code = errorCode(err);
    const detail = describeError(err);
    if (signal.aborted || TIMEOUT_CODES.has(code))
      return new ProviderError(this.provider, 'timeout', `${this.provider}: request timed out (${detail})`, {
        retryable: true,
        cause: err,
      });
    if (CONFIG_CODES.has(code))
      return new ProviderError(
        this.provider,
        'client_error',
        `${this.provider}: invalid request (${detail})`,
        {
          retryable: false,
          cause: err,
        },
      );
    return new ProviderError(this.provider, 'network', `${this.provider}: network error (${detail})`, {
      retryable: true,
      cause: err,
    });
  }
}

/**
 * Reads at most MAX_RESPONSE_BYTES, then destroys the stream: the body is always done with. Events,
 * not `for await`: the async iterator was about 1.5 KB of garbage per delivery.
 */
function readCapped(body: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => resolve(Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8'));
    body.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_RESPONSE_BYTES) {
        body.destroy();
        done();
      }
    });
    body.once('end', done);
    body.once('error', reject);
  });
}

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function errorCode(err: unknown): string {
  if (typeof err !== 'object' || err === null) return '';
  const { code, cause } = err as { code?: unknown; cause?: unknown };
  if (typeof code === 'string') return code;
  return cause === undefined ? '' : errorCode(cause);
}

/** Transport error text names host and port at most (undici and Node never echo bodies or headers). */
function describeError(err: unknown): string {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  return code === '' || message.includes(code) ? message : `${code}: ${message}`;
}

/** What an HTTP status means for delivery: the reason, and whether another attempt can succeed. */
export function statusFailure(status: number): { reason: FailureReason; retryable: boolean } {
  if (status === 401 || status === 402 || status === 403) return { reason: 'auth_error', retryable: false };
  if (status === 408) return { reason: 'timeout', retryable: true };
  if (status === 429) return { reason: 'rate_limited', retryable: true };
  if (status >= 500) return { reason: 'server_error', retryable: true };
  // 400, 404, 409, 413, 422, other 4xx, and unexpected 1xx/3xx (redirects are not followed: a
  // misconfigured URL): the same request will not succeed later.
  return { reason: 'client_error', retryable: false };
}

/** `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3); null when absent or unreadable. */
export function parseRetryAfterMs(value: string | string[] | undefined, nowMs: number): number | null {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (text === undefined || text === '') return null;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

/** A header's single value. */
export function header(answer: HttpAnswer, name: string): string | undefined {
  const value = answer.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Replaces every secret in `text` (vendors may echo what we sent): secrets never reach a message. */
export function scrub(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret !== undefined && secret !== '') out = out.split(secret).join('[redacted]');
  }
  return out;
}

/** Vendor text in a message is bounded: enough to diagnose, never a whole echoed payload. */
const MAX_VENDOR_TEXT = 500;

export interface FailureDetail {
  /** What the vendor said (its error text); scrubbed and bounded here. */
  vendorText: string;
  /** Every credential of the request: none may appear in the message. */
  secrets: readonly (string | undefined)[];
  retryAfterMs?: number | null;
  /** A hint for the operator, e.g. a likely misconfiguration. */
  hint?: string;
}

/** The ProviderError for a non-2xx answer: `<provider>: HTTP <status> (<reason>): <vendor text>`. */
export function httpFailure(provider: string, answer: HttpAnswer, detail: FailureDetail): ProviderError {
  const { reason, retryable } = statusFailure(answer.status);
  const said = truncateText(scrub(detail.vendorText, detail.secrets).trim(), MAX_VENDOR_TEXT);
  const hint = detail.hint === undefined ? '' : ` (${detail.hint})`;
  const message = `${provider}: HTTP ${answer.status} (${reason})${said === '' ? '' : `: ${said}`}${hint}`;
  return new ProviderError(provider, reason, message, {
    retryable,
    status: answer.status,
    retryAfterMs: retryable ? (detail.retryAfterMs ?? null) : null,
  });
}

/** Whatever escaped a provider's own handling, as a ProviderError: `send` throws nothing else. */
export function asProviderError(provider: string, err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  // A bug or an unserialisable incident: the same request would fail the same way again.
  const what = err instanceof Error ? err.name : typeof err;
  return new ProviderError(provider, 'client_error', `${provider}: could not build the request (${what})`, {
    retryable: false,
    cause: err,
  });
}

/** A top-level field of a parsed JSON answer, or undefined. */
export function jsonField(json: unknown, name: string): unknown {
  return typeof json === 'object' && json !== null ? (json as Record<string, unknown>)[name] : undefined;
}
