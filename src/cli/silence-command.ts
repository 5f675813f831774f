// `silence add|list|expire` against a running sidecar (docs/http-api.md, "Silences"; the command
// line in the style of Alertmanager's `amtool silence`). The sidecar's URL and token come from
// flags or the environment: --url / INCIDENT_ROUTER_URL, --token / INCIDENT_ROUTER_TOKEN or API_TOKEN.
import { parseArgs, rejectUnknownFlags, stringFlag, UsageError, type ParsedArgs } from './args.js';

type Env = Readonly<Record<string, string | undefined>>;

const DEFAULT_URL = 'http://127.0.0.1:8000';
const CONNECTION = ['url', 'token'];

interface ShownSilence {
  id: string;
  state: string;
  matchers: { fact: string; op: string; value: string; path?: string }[];
  starts_at: string;
  ends_at: string;
  created_by: string;
  comment: string;
}

export async function silenceCommand(argv: readonly string[], env: Env): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'add': {
      const args = parseArgs(rest, [...CONNECTION, 'comment', 'author', 'duration', 'start', 'end']);
      rejectUnknownFlags(args, [...CONNECTION, 'comment', 'author', 'duration', 'start', 'end', 'force']);
      return add(args, env);
    }
    case 'list':
    case 'query': {
      const args = parseArgs(rest, [...CONNECTION, 'state']);
      rejectUnknownFlags(args, [...CONNECTION, 'state', 'quiet']);
      return list(args, env);
    }
    case 'expire': {
      const args = parseArgs(rest, [...CONNECTION, 'comment', 'author']);
      rejectUnknownFlags(args, [...CONNECTION, 'comment', 'author']);
      if (args.positionals.length === 0) throw new UsageError('silence expire needs one or more silence ids');
      return expire(args, env);
    }
    default:
      throw new UsageError('silence needs add, list or expire');
  }
}

/** `service=api`, `message=~"pool (exhausted|refused)"`, `attributes.region=eu-west-1`. */
export function parseMatcher(text: string): ShownSilence['matchers'][number] {
  const m = /^([A-Za-z_][A-Za-z0-9_.$-]*?)(=~|=)(.*)$/s.exec(text);
  if (m === null) throw new UsageError(`matcher "${text}": write fact=value or fact=~regex`);
  const [, name, op, value] = m as unknown as [string, string, string, string];
  const dot = name.indexOf('.');
  const fact = dot === -1 ? name : name.slice(0, dot);
  return {
    fact,
    op: op === '=~' ? 'matches' : 'equal',
    value,
    ...(dot === -1 ? {} : { path: name.slice(dot + 1) }),
  };
}

async function add(args: ParsedArgs, env: Env): Promise<number> {
  if (args.positionals.length === 0)
    throw new UsageError('silence add needs at least one matcher, e.g. service=api');
  const comment = stringFlag(args, 'comment');
  if (comment === undefined) throw new UsageError('silence add needs --comment (why it is silenced)');
  const end = stringFlag(args, 'end');
  const start = stringFlag(args, 'start');
  const body = {
    matchers: args.positionals.map(parseMatcher),
    created_by: stringFlag(args, 'author') ?? env['USER'] ?? 'cli',
    comment,
    ...(start === undefined ? {} : { starts_at: start }),
    ...(end === undefined ? { duration: stringFlag(args, 'duration') ?? '1h' } : { ends_at: end }),
    ...(args.flags.has('force') ? { force: true } : {}),
  };
  const answer = await call(args, env, 'POST', '/api/v1/silences', body);
  if (answer === null) return 1;
  console.log((answer as ShownSilence).id);
  return 0;
}

async function list(args: ParsedArgs, env: Env): Promise<number> {
  const state = stringFlag(args, 'state');
  const query = state === undefined ? '' : `?state=${encodeURIComponent(state)}`;
  const answer = (await call(args, env, 'GET', `/api/v1/silences${query}`)) as {
    silences: ShownSilence[];
  } | null;
  if (answer === null) return 1;
  if (args.flags.has('quiet')) {
    for (const s of answer.silences) console.log(s.id);
    return 0;
  }
  const rows = answer.silences.map((s) => [
    s.id,
    s.state,
    s.matchers.map(showMatcher).join(' '),
    s.starts_at,
    s.ends_at,
    s.created_by,
    s.comment,
  ]);
  printTable(['ID', 'State', 'Matchers', 'Starts At', 'Ends At', 'Created By', 'Comment'], rows);
  return 0;
}

async function expire(args: ParsedArgs, env: Env): Promise<number> {
  const by = stringFlag(args, 'author') ?? env['USER'] ?? 'cli';
  const comment = stringFlag(args, 'comment') ?? 'expired from the command line';
  let failed = 0;
  for (const id of args.positionals) {
    const query = `?by=${encodeURIComponent(by)}&comment=${encodeURIComponent(comment)}`;
    const answer = await call(args, env, 'DELETE', `/api/v1/silences/${encodeURIComponent(id)}${query}`);
    if (answer === null) failed++;
  }
  return failed === 0 ? 0 : 1;
}

function showMatcher(m: ShownSilence['matchers'][number]): string {
  const name = m.path === undefined ? m.fact : `${m.fact}.${m.path}`;
  return `${name}${m.op === 'matches' ? '=~' : '='}${JSON.stringify(m.value)}`;
}

function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  console.log(line(head));
  for (const r of rows) console.log(line(r));
}

/** One request; prints the sidecar's error and answers null when it refused. */
async function call(
  args: ParsedArgs,
  env: Env,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const base = (stringFlag(args, 'url') ?? env['INCIDENT_ROUTER_URL'] ?? DEFAULT_URL).replace(/\/+$/, '');
  const token = stringFlag(args, 'token') ?? env['INCIDENT_ROUTER_TOKEN'] ?? env['API_TOKEN'];
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    console.error(`cannot reach ${base}: ${(err as Error).message} (set --url or INCIDENT_ROUTER_URL)`);
    return null;
  }
  const text = await res.text();
  const parsed = text === '' ? null : (JSON.parse(text) as { error?: { message: string } });
  if (res.ok) return parsed;
  console.error(`${method} ${path}: ${res.status} ${parsed?.error?.message ?? text}`);
  return null;
}
