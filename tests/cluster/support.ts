// Cluster-mode tests (issue 12): real sidecar processes in cluster mode on a 3-node nats-server
// cluster, provider simulators in the test process, and a workload whose expected outcome does not
// depend on which replica handles which event (phases: every replica finishes one before the next).
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SANDBOX_OPSGENIE_API_KEY,
  SANDBOX_PAGERDUTY_ROUTING_KEY,
  type Sandbox,
} from '../../src/sandbox/index.js';
import { get, noRateLimit, waitFor } from '../helpers/app.js';
import { exited, startServe } from '../helpers/cli.js';
import { dbFailure, dbRecovery } from '../helpers/db-lines.js';
import { copyShippedPolicy } from '../helpers/policy.js';
import { noStorm } from '../ingest/support.js';
import type { AuditEntry, Delivery, Incident } from '../../src/domain/incident.js';
import type { DeliveryHooks } from '../../src/deliver/attempts.js';
import { newDelivery } from '../../src/deliver/plan.js';
import type { ProviderRequest } from '../../src/providers/provider.js';
import type { ProviderRegistry } from '../../src/providers/registry.js';
import type { ProviderSpec } from '../../src/providers/spec.js';
import { OutboxWorker, type OutboxWorkerDeps } from '../../src/state/jetstream/outbox-worker.js';
import type { JetStreamState } from '../../src/state/jetstream/state.js';
import { systemClock } from '../../src/domain/clock.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { memoryBreakers, SETTINGS } from '../deliver/support.js';

export const NOW_ISO = '2026-11-24T15:00:00Z';

/** The timeline entry of an incident's open, as the incident core writes it (tests of the state backend). */
export function openedEntry(incidentId: string, details: Record<string, unknown>): Omit<AuditEntry, 'seq'> {
  return {
    incident_id: incidentId,
    at: '2026-11-23T10:00:00.000Z',
    type: 'opened',
    actor: 'incident-router',
    provider: null,
    source_event_id: null,
    policy_version: '2026.11.23-1',
    message: 'db-connection-failure → critical',
    details,
  };
}

/**
 * For tests of the outbox worker alone: one provider `pd` that answers 202 and records the id of
 * each incident it is sent, and the delivery hooks around it.
 */
export function recordingProvider(sent: string[]): { hooks: DeliveryHooks; registry: ProviderRegistry } {
  const hooks: DeliveryHooks = {
    request: async (d: Delivery, provider: string): Promise<ProviderRequest> => ({
      action: d.action,
      incident: { id: d.incident_id } as Incident,
      target: { url: provider, routing_key: 'key' },
      note: null,
      incidentUrl: '',
    }),
    delivered: async () => [],
    failed: async () => {},
  };
  const registry = {
    get: () => ({
      name: 'pd',
      type: 'webhook',
      target: () => ({ url: 'http://pd', routing_key: 'key' }),
      send: async (request: ProviderRequest) => {
        sent.push(request.incident.id);
        return { status: 202, ref: 'ref' };
      },
    }),
    has: (name: string) => name === 'pd',
    names: () => ['pd'],
    close: async () => {},
  } as unknown as ProviderRegistry;
  return { hooks, registry };
}

/** An outbox worker on `state` that sends to `recordingProvider(sent)`, configured and consuming. */
export function recordingWorker(
  state: JetStreamState,
  sent: string[],
  options: Pick<OutboxWorkerDeps, 'orphanAfterMs' | 'turnWaitMs'> = {},
): OutboxWorker {
  const { hooks, registry } = recordingProvider(sent);
  const metrics = new Metrics();
  const worker = new OutboxWorker({
    clock: systemClock,
    random: () => 1,
    breakers: memoryBreakers(metrics),
    hooks,
    logger: silentLogger(),
    metrics,
    state,
    ...options,
  });
  worker.configure(registry, { pd: { type: 'webhook', url: 'http://pd' } as ProviderSpec }, SETTINGS);
  return worker;
}

/** A pending trigger of `incident` to `recordingProvider`'s `pd`. */
export const pdTrigger = (incident: Incident): Delivery =>
  newDelivery(
    `d-${incident.id}`,
    incident,
    { action: 'trigger', route: 'r', mode: 'all', candidates: ['pd'], origin: null, note: null },
    Date.now(),
  );

export interface Replica {
  name: string;
  url: string;
  child: ChildProcess;
  output(): string;
}

export interface ClusterFixture {
  root: string;
  env(replica: string): Record<string, string>;
  dispose(): Promise<void>;
}

/** A policy directory (the shipped one, edited) and the environment every replica shares. */
export async function clusterFixture(
  sandbox: Sandbox,
  shared: Record<string, string>,
  edits: Record<string, (text: string) => string> = {},
): Promise<ClusterFixture> {
  const root = await mkdtemp(join(tmpdir(), 'ir-cluster-'));
  const policies = join(root, 'policies');
  await copyShippedPolicy(policies);
  const all: Record<string, (text: string) => string> = {
    '00-settings.yaml': noStorm,
    'providers.yaml': noRateLimit,
  };
  // A test's own edit of a file comes after the defaults' (its rate limit replaces the removed one).
  for (const [file, edit] of Object.entries(edits)) {
    const base = all[file];
    all[file] = base === undefined || file === 'providers.yaml' ? edit : (text) => edit(base(text));
  }
  for (const [file, edit] of Object.entries(all))
    await writeFile(join(policies, file), edit(await readFile(join(policies, file), 'utf8')));
  return {
    root,
    env: (replica) => ({
      PORT: '0',
      POLICY_DIR: policies,
      DATA_DIR: join(root, `data-${replica}`),
      LOG_LEVEL: 'info',
      STATE: 'jetstream',
      CLUSTER_REPLICAS: '3',
      REPLICA_NAME: replica,
      PAGERDUTY_ROUTING_KEY: SANDBOX_PAGERDUTY_ROUTING_KEY,
      PAGERDUTY_EVENTS_URL: sandbox.urls.pagerdutyEvents,
      OPSGENIE_API_KEY: SANDBOX_OPSGENIE_API_KEY,
      OPSGENIE_API_URL: sandbox.urls.opsgenie,
      PAGERDUTY_WEBHOOK_SECRET: 'cluster-test-pagerduty-secret',
      OPSGENIE_WEBHOOK_TOKEN: 'cluster-test-opsgenie-token',
      ...shared,
    }),
    dispose: () => rm(root, { recursive: true, force: true }),
  };
}

export async function startReplica(fixture: ClusterFixture, name: string): Promise<Replica> {
  const started = await startServe([], fixture.env(name));
  return { name, ...started };
}

export async function stopReplica(replica: Replica, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (replica.child.exitCode === null) {
    replica.child.kill(signal);
    await exited(replica.child);
  }
  // What it logged, for a person looking into a failure (.tmp is not committed).
  await mkdir('.tmp/cluster', { recursive: true });
  await writeFile(`.tmp/cluster/replica-${replica.name}-${Date.now()}.log`, replica.output());
}

export const SERVICES = Array.from({ length: 200 }, (_, i) => `svc-${String(i).padStart(3, '0')}`);

const line = (service: string, level: string, message: string, source = 'database'): string =>
  JSON.stringify({ timestamp: NOW_ISO, service, level, source, message });

export const failing = (service: string, at = NOW_ISO): string => JSON.stringify(dbFailure(at, service));
export const recovered = (service: string, at = NOW_ISO): string => JSON.stringify(dbRecovery(at, service));
/** A line that changes nothing (a cache miss at info): most of any real stream. */
export const noise = (i: number): string =>
  line(`web-${i % 50}`, 'info', `cache miss rate increased by ${i % 7}%`, 'cache');

/**
 * 20,000 events in four phases over 200 services: everyone fails (40 repeats each, interleaved),
 * the even half recovers, everyone fails again (the even half opens a second incident, the odd half
 * repeats), everyone recovers; noise throughout. Expected: 300 incidents, all resolved.
 */
export function phases(): string[][] {
  let n = 0;
  const withNoise = (lines: string[], count: number): string[] => {
    const out: string[] = [];
    const every = Math.max(1, Math.floor(lines.length / Math.max(1, count)));
    lines.forEach((l, i) => {
      out.push(l);
      if (i % every === 0 && count-- > 0) out.push(noise(n++));
    });
    while (count-- > 0) out.push(noise(n++));
    return out;
  };
  // Each phase a second after the one before, as logs go: a line of an earlier phase that JetStream
  // redelivers late (after a SIGKILL or a NATS node's) is then older than the later phase's lines,
  // and neither reopens nor resolves what they decided (docs/nats.md, "Ordering and backpressure").
  const at = (phase: number): string => new Date(Date.parse(NOW_ISO) + phase * 1_000).toISOString();
  const burst = (phase: number): string[] =>
    Array.from({ length: 40 }, () => SERVICES.map((s) => failing(s, at(phase)))).flat();
  return [
    withNoise(burst(0), 1_800),
    withNoise(
      SERVICES.filter((_, i) => i % 2 === 0).map((s) => recovered(s, at(1))),
      50,
    ),
    withNoise(burst(2), 1_800),
    withNoise(
      SERVICES.map((s) => recovered(s, at(3))),
      50,
    ),
  ];
}

export interface Listed {
  id: string;
  fingerprint: string;
  provider_key: string;
  state: string;
  holds: Record<string, { state: string }>;
}

/** Every incident a replica lists (the API pages by 500). */
export async function allIncidents(url: string, query = ''): Promise<Listed[]> {
  const out: Listed[] = [];
  let before: string | null = null;
  do {
    const page = (await get(`${url}/api/v1/incidents?limit=500${query}${before ? `&before=${before}` : ''}`))
      .body as {
      incidents: Listed[];
      next: string | null;
    };
    out.push(...page.incidents);
    before = page.next;
  } while (before !== null);
  return out;
}

/** Until every replica shows `n` incidents in `state` (the shared state has settled for all). */
export async function settled(
  replicas: Replica[],
  state: string,
  n: number,
  timeoutMs = 120_000,
): Promise<void> {
  let seen: unknown[] = [];
  try {
    await waitFor(
      async () => {
        seen = await Promise.all(
          replicas.map(async (r) => (await get(`${r.url}/api/v1/health`)).body.incidents),
        );
        return seen.every((counts) => (counts as Record<string, number>)[state] === n);
      },
      timeoutMs,
      250,
    );
  } catch (err) {
    throw new Error(
      `replicas did not all reach ${state}=${n}: ${JSON.stringify(seen)}\n${replicas.map(complaints).join('\n')}`,
      { cause: err },
    );
  }
}

/** A replica's last warnings and errors (our logs name the level), for a failure's message. */
function complaints(replica: Replica): string {
  const lines = replica
    .output()
    .split('\n')
    .filter((line) => /"level":"(warn|error|fatal)"/.test(line));
  return `replica ${replica.name}: ${lines.length} warnings or errors; the last ones:\n${lines.slice(-12).join('\n')}`;
}

/** Until the cluster has nothing left to send. */
export async function drained(replica: Replica, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    async () => (await get(`${replica.url}/api/v1/health`)).body.deliveries_pending === 0,
    timeoutMs,
    250,
  );
}
