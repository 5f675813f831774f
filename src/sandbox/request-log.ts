// Every API request a simulator saw and what became of it, so a test or a human can check exactly what
// the sidecar sent and what it was told. Bounded: a demo left running must not grow without limit.
import type { IncomingHttpHeaders } from 'node:http';
import { maskSecret } from '../domain/secrets.js';
import type { SimRequest } from './http.js';
import { BoundedLog } from '../domain/bounded-log.js';
import { parseJson } from './json.js';

export type RequestOutcome = 'answered' | 'injected' | 'hung' | 'dropped' | 'refused';

export interface LoggedRequest {
  seq: number;
  at: string;
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  /** The parsed JSON body, or null when it was not JSON (see `rawBody`). */
  body: unknown;
  /** The first 2 KiB of a body that was not JSON. */
  rawBody?: string;
  action?: string;
  outcome: RequestOutcome;
  /** The status answered; null when the request was hung, dropped or refused. */
  status: number | null;
  response?: unknown;
  fault?: string;
  note?: string;
}

const DEFAULT_MAX_ENTRIES = 10_000;
const RAW_EXCERPT_CHARS = 2048;

export class RequestLog {
  private readonly entries: BoundedLog<LoggedRequest>;
  private seq = 0;

  constructor(maxEntries = DEFAULT_MAX_ENTRIES) {
    this.entries = new BoundedLog(maxEntries);
  }

  /** Opens an entry; the pipeline fills in the outcome as it happens. */
  start(req: Pick<SimRequest, 'method' | 'path' | 'query' | 'headers' | 'body'>, at: string): LoggedRequest {
    const parsed = parseJson(req.body);
    const entry: LoggedRequest = {
      seq: ++this.seq,
      at,
      method: req.method,
      path: req.path,
      query: req.query.toString(),
      headers: redactHeaders(req.headers),
      body: parsed.ok ? parsed.value : null,
      ...(parsed.ok || req.body.length === 0
        ? {}
        : { rawBody: req.body.toString('utf8', 0, RAW_EXCERPT_CHARS) }),
      outcome: 'answered',
      status: null,
    };
    this.entries.add(entry);
    return entry;
  }

  list(): LoggedRequest[] {
    return structuredClone(this.entries.list());
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}

/** Credentials are shown like everywhere else in incident-router: `****` and the last 4 characters. */
function redactHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    out[name] = name === 'authorization' ? redactAuthorization(text) : text;
  }
  return out;
}

function redactAuthorization(value: string): string {
  const space = value.indexOf(' ');
  return space < 0 ? maskSecret(value) : `${value.slice(0, space)} ${maskSecret(value.slice(space + 1))}`;
}
