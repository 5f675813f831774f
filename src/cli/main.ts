// incident-router's command line (docs/configuration.md, "Command line"): serve | validate | test | dry-run |
// oncall | silence.
// Loaded by src/main.ts once the compile cache is on.
import { App, VERSION } from '../app.js';
import { ENV_VARS, loadConfig } from '../config/config.js';
import { ConfigError, PolicyError, StoreError } from '../errors.js';
import { parseArgs, rejectUnknownFlags, stringFlag, UsageError } from './args.js';
import { HeapAtRest, tuneHeap } from './heap.js';
import { dryRunCommand, testCommand, validateCommand } from './policy-commands.js';
import { SourceError } from '../diff/source-error.js';

function help(): string {
  const width = Math.max(...ENV_VARS.map((v) => v.name.length));
  return `incident-router ${VERSION}: decides from log events whether and how loudly to page, and delivers it.

Usage:
  incident-router serve [--sandbox]          run the sidecar (--sandbox: built-in provider simulators, no accounts)
  incident-router validate [dir] [--sandbox] check a policy directory (default $POLICY_DIR or policies)
  incident-router test [dir]                 run the policy's test cases in <dir>/tests; exit 1 on any mismatch
  incident-router dry-run --event file.json [--at time] [--policy dir]
                                             print the full decision for one event or alert; sends nothing
  incident-router oncall <schedule> [--at time] [--policy dir]
                                             who is on call on a schedule now (or at --at), and until when
  incident-router silence add <fact=value|fact=~regex>... --comment why [--duration 1h | --end time]
                          [--start time] [--author name] [--force]
  incident-router silence list [--state active|pending|expired] [--quiet]
  incident-router silence expire <id>... [--comment why] [--author name]
                                             silences on a running sidecar (--url or INCIDENT_ROUTER_URL,
                                             --token or INCIDENT_ROUTER_TOKEN / API_TOKEN)
  incident-router diff <old-dir> <new-dir> (--events file.ndjson | --stream NAME [--since 24h]
                         [--nats-url url] | --recorded (--url http://sidecar | --data-dir dir))
                         [--format table|markdown|json] [--examples 3] [--jobs auto|N]
                                             which events each policy decides differently, each at its
                                             own timestamp; exit 0 none, 1 some, 2 invalid policy or source

Environment:
${ENV_VARS.map((v) => `  ${v.name.padEnd(width)}  ${v.help} (default: ${v.default})`).join('\n')}
  plus any variable the policy interpolates with \${NAME} or \${NAME:-default}.
`;
}

/** The whole graceful shutdown, of which deliveries in flight get 5 s (docs/runtime.md). */
const SHUTDOWN_DEADLINE_MS = 20_000;

async function serve(sandbox: boolean): Promise<number> {
  tuneHeap();
  const config = loadConfig(process.env, { sandbox });
  const app = new App(config);
  const heap = new HeapAtRest(app.logger, {
    shed: () => app.shed(),
    collected: () => app.metrics.heapCollectionsAtRest.inc(),
  });
  // The signals are ours before the start begins: the sidecar says it listens before its start has
  // finished (the first coverage check runs after the first probe is answered), and a SIGHUP or
  // SIGTERM in between had Node's default action, which ends the process. One that comes during
  // the start now waits for it: a reload then, or a graceful stop (within the same deadline).
  const started = app.start();
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    heap.stop();
    app.logger.info({ event: 'shutdown', signal }, `${signal}: shutting down`);
    // An orchestrator kills after its own grace period anyway (Kubernetes: 30 s); past ours, say
    // which step did not finish and go. Nothing is lost: pending work stays in the state store.
    setTimeout(() => {
      app.logger.error(
        { event: 'shutdown_overrun', step: app.stopping, after_ms: SHUTDOWN_DEADLINE_MS },
        `shutdown did not finish in ${SHUTDOWN_DEADLINE_MS / 1000} s (at: ${app.stopping}); exiting`,
      );
      app.logger.flush();
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    started.then(
      () =>
        app.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            app.logger.error({ event: 'shutdown_failed', err }, 'shutdown failed');
            process.exit(1);
          },
        ),
      () => undefined, // a failed start: `main` reports it and exits 1
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => {
    if (!stopping)
      void started.then(
        () => app.policies.reload('signal'),
        () => undefined,
      );
  });
  process.on('unhandledRejection', (err) =>
    app.logger.error({ event: 'unhandled_rejection', err }, 'unhandled rejection'),
  );
  await started;
  if (!stopping) heap.start();
  return new Promise<number>(() => undefined); // runs until a signal
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const policyDir = (dir: string | undefined): string => dir ?? process.env['POLICY_DIR'] ?? 'policies';
  switch (command) {
    case 'serve': {
      const args = parseArgs(rest, []);
      rejectUnknownFlags(args, ['sandbox']);
      return serve(args.flags.has('sandbox'));
    }
    case 'validate': {
      const args = parseArgs(rest, []);
      rejectUnknownFlags(args, ['sandbox']);
      return validateCommand(policyDir(args.positionals[0]), process.env, args.flags.has('sandbox'));
    }
    case 'test': {
      const args = parseArgs(rest, []);
      rejectUnknownFlags(args, []);
      return testCommand(policyDir(args.positionals[0]), process.env);
    }
    case 'dry-run': {
      const args = parseArgs(rest, ['event', 'at', 'policy']);
      rejectUnknownFlags(args, ['event', 'at', 'policy']);
      const file = stringFlag(args, 'event');
      if (file === undefined) throw new UsageError('dry-run needs --event file.json');
      return dryRunCommand({
        dir: policyDir(stringFlag(args, 'policy')),
        file,
        at: stringFlag(args, 'at'),
        env: process.env,
      });
    }
    case 'oncall': {
      const args = parseArgs(rest, ['at', 'policy']);
      rejectUnknownFlags(args, ['at', 'policy']);
      const [schedule, ...extra] = args.positionals;
      if (schedule === undefined || extra.length > 0)
        throw new UsageError('oncall needs exactly one schedule name');
      return (await import('./oncall-command.js')).oncallCommand({
        dir: policyDir(stringFlag(args, 'policy')),
        schedule,
        at: stringFlag(args, 'at'),
        env: process.env,
      });
    }
    case 'silence':
      return (await import('./silence-command.js')).silenceCommand(rest, process.env);
    case 'diff': {
      const valued = [
        'events',
        'stream',
        'since',
        'nats-url',
        'url',
        'data-dir',
        'format',
        'examples',
        'jobs',
      ];
      const args = parseArgs(rest, valued);
      rejectUnknownFlags(args, [...valued, 'recorded']);
      const [oldDir, newDir, ...extra] = args.positionals;
      if (oldDir === undefined || newDir === undefined || extra.length > 0)
        throw new UsageError('diff needs two policy directories: <old-dir> <new-dir>');
      const opt = (name: string): string | undefined => stringFlag(args, name);
      return (await import('./diff-command.js')).diffCommand({
        oldDir,
        newDir,
        events: opt('events'),
        stream: opt('stream'),
        since: opt('since'),
        natsUrl: opt('nats-url'),
        recorded: args.flags.has('recorded'),
        url: opt('url'),
        dataDir: opt('data-dir'),
        format: opt('format') ?? 'table',
        examples: opt('examples'),
        jobs: opt('jobs'),
        env: process.env,
      });
    }
    case '--version':
    case 'version':
      console.log(VERSION);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(help());
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // diff: an unreadable source exits 2, like an invalid policy (docs/policy-diff.md, "Exit codes").
    if (err instanceof SourceError) {
      console.error(`incident-router: ${err.message}`);
      process.exit(2);
    }
    if (err instanceof UsageError) {
      console.error(`incident-router: ${err.message}\nRun "incident-router --help" for usage.`);
      process.exit(2);
    }
    // What an operator must fix (config, policy, data directory): the message alone says it.
    if (err instanceof ConfigError || err instanceof PolicyError || err instanceof StoreError) {
      console.error(`incident-router: ${err.message}`);
      process.exit(1);
    }
    console.error('incident-router: fatal:', err);
    process.exit(1);
  },
);
