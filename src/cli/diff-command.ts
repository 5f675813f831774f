// `incident-router diff <old-dir> <new-dir>` (docs/policy-diff.md): which events would now be decided
// differently. A thin shell over src/diff: load both policies, open the source, print the report.
// Exit 0: nothing changed; 1: outcomes changed; 2: an invalid policy or source (CI gates on it).
import { access } from 'node:fs/promises';
import type { NatsConnection } from '@nats-io/transport-node';
import { parseDuration } from '../domain/duration.js';
import { diffEvents, type SourceItem } from '../diff/diff.js';
import {
  compileInputOf,
  diffFileInWorkers,
  fileSize,
  workersFor,
  type PortableSide,
} from '../diff/parallel.js';
import { formatReport, FORMATS, type Format } from '../diff/format.js';
import { ruleLocations } from '../diff/locations.js';
import { eventsOfLines, readNdjsonFile } from '../diff/ndjson.js';
import { SourceError } from '../diff/source-error.js';
import { readStream } from '../diff/stream.js';
import { readRecentFromDataDir } from '../diff/recent/leveldb-ring.js';
import { loadOrReport } from './policy-commands.js';
import { UsageError } from './args.js';
import { readNatsEndpoint } from '../config/nats-auth.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface DiffCommandOptions {
  oldDir: string;
  newDir: string;
  events?: string;
  stream?: string;
  since?: string;
  natsUrl?: string;
  recorded: boolean;
  url?: string;
  dataDir?: string;
  format: string;
  examples?: string;
  /** Worker threads for an --events file: `auto` (one per core for a large file) or a number. */
  jobs?: string;
  env: Env;
}

export async function diffCommand(options: DiffCommandOptions): Promise<number> {
  const format = parseFormat(options.format);
  const examples = options.examples === undefined ? 3 : Number(options.examples);
  if (!Number.isInteger(examples) || examples < 0) throw new UsageError('--examples needs a whole number');
  const jobs = parseJobs(options.jobs);
  const open = chooseSource(options); // usage errors before the policies load
  const [prev, next] = [await side(options.oldDir, options.env), await side(options.newDir, options.env)];
  if (prev === null || next === null) return 2;
  const source = await open();
  try {
    const workers = options.events === undefined ? 0 : workersFor(await fileSize(options.events), jobs);
    const diffOptions = { examplesPerGroup: examples };
    const report =
      workers > 0
        ? await diffFileInWorkers(options.events as string, prev, next, { ...diffOptions, workers })
        : await diffEvents(source.items, prev, next, diffOptions);
    console.log(formatReport(report, format));
    for (const p of report.problems) if (format !== 'table') console.error(`skipped ${p.ref}: ${p.message}`);
    return report.changed === 0 ? 0 : 1;
  } catch (err) {
    if (err instanceof SourceError) throw err;
    throw new SourceError(`cannot read the events: ${(err as Error).message}`);
  } finally {
    await source.close();
  }
}

function parseFormat(value: string): Format {
  if (!(FORMATS as readonly string[]).includes(value))
    throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
  return value as Format;
}

function parseJobs(value: string | undefined): number | 'auto' {
  if (value === undefined || value === 'auto') return 'auto';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError('--jobs needs auto or a whole number of at least 1');
  return n;
}

async function side(dir: string, env: Env): Promise<PortableSide | null> {
  // Nothing is sent, so provider keys may be unset, as for `test`.
  const active = await loadOrReport(dir, env, true);
  if (active === null) return null;
  const { compiled, loaded } = active;
  return { policy: compiled, locations: ruleLocations(loaded), input: compileInputOf(loaded) };
}

interface OpenSource {
  items: AsyncIterable<SourceItem>;
  close(): Promise<void>;
}

function chooseSource(o: DiffCommandOptions): () => Promise<OpenSource> {
  const chosen = [o.events !== undefined, o.stream !== undefined, o.recorded].filter(Boolean).length;
  if (chosen !== 1)
    throw new UsageError('diff needs exactly one of --events file, --stream NAME, --recorded');
  if (o.events !== undefined) {
    const file = o.events;
    return async () => {
      await access(file).catch(() => {
        throw new SourceError(`--events ${file}: no such readable file`);
      });
      return { items: readNdjsonFile(file), close: async () => undefined };
    };
  }
  if (o.stream !== undefined) {
    const stream = o.stream;
    const sinceMs = Date.now() - sinceOf(o.since ?? '24h');
    const urls = (o.natsUrl ?? o.env['NATS_URL'] ?? 'nats://127.0.0.1:4222').split(',').map((u) => u.trim());
    const problems: string[] = [];
    // As `serve` connects (docs/configuration.md, "NATS authentication and TLS").
    const urlName = o.natsUrl === undefined ? 'NATS_URL' : '--nats-url';
    const { servers, auth } = readNatsEndpoint(o.env, urls, problems, process.cwd(), urlName);
    if (problems.length > 0) throw new UsageError(problems.join('\n'));
    return async () => {
      const { connect } = await import('../nats/connect.js');
      let nc: NatsConnection;
      try {
        nc = await connect({ servers, name: 'incident-router diff' }, auth);
      } catch (err) {
        throw new SourceError(`cannot connect to NATS at ${servers.join(',')}: ${(err as Error).message}`);
      }
      return { items: readStream(nc, { stream, sinceMs }), close: () => nc.close() };
    };
  }
  if ((o.url === undefined) === (o.dataDir === undefined))
    throw new UsageError('--recorded needs --url http://sidecar (running) or --data-dir DIR (stopped)');
  if (o.url !== undefined) {
    const url = new URL('/api/v1/recent-events', o.url);
    const token = o.env['API_TOKEN'];
    return async () => ({ items: fetchRecent(url, token), close: async () => undefined });
  }
  const dir = o.dataDir as string;
  return async () => readRecentFromDataDir(dir);
}

function sinceOf(text: string): number {
  const ms = parseDuration(text);
  if (ms === null || ms <= 0) throw new UsageError(`--since ${text}: expected a duration such as 24h or 90m`);
  return ms;
}

/** The running sidecar's ring (GET /api/v1/recent-events, NDJSON), streamed. */
async function* fetchRecent(url: URL, token: string | undefined): AsyncGenerator<SourceItem> {
  let res: Response;
  try {
    res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  } catch (err) {
    throw new SourceError(`GET ${url.href}: ${(err as Error).message}`);
  }
  if (!res.ok || res.body === null) throw new SourceError(`GET ${url.href}: HTTP ${res.status}`);
  yield* eventsOfLines(linesOf(res.body), 'recent');
}

async function* linesOf(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    rest += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf('\n')) !== -1) {
      yield rest.slice(0, nl);
      rest = rest.slice(nl + 1);
    }
  }
  if (rest !== '') yield rest;
}
