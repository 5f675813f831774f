// A sidecar for webhook tests without src/app.ts: the real store (LevelDB in a temp dir), incident
// service, dispatcher and providers pointed at in-process simulators, and a Koa app with the
// incidents and webhooks routers on a free port. The simulators' webhooks point at it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createApi } from '../../src/api/app.js';
import { incidentsRouter } from '../../src/api/routes/incidents.js';
import { webhooksRouter } from '../../src/api/routes/webhooks.js';
import { systemClock } from '../../src/domain/clock.js';
import { alertToInput } from '../../src/domain/log-event.js';
import { Breakers } from '../../src/deliver/breakers.js';
import { Dispatcher } from '../../src/deliver/dispatcher.js';
import { ProviderRuntime } from '../../src/deliver/provider-runtime.js';
import { DeliveryRecorder } from '../../src/incidents/delivery-hooks.js';
import { LifecycleBus, type LifecycleEvent } from '../../src/incidents/lifecycle.js';
import { IncidentService, type ApplyResult } from '../../src/incidents/service.js';
import { decide } from '../../src/policy/decide.js';
import { PolicyManager } from '../../src/policy/manager.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { signV1 } from '../../src/sandbox/index.js';
import { pointAtSandbox } from '../../src/sandbox/wire.js';
import { IdGenerator, Store } from '../../src/store/index.js';
import { createLogger, SecretScrubber } from '../../src/telemetry/logger.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { UnmatchedWebhooks } from '../../src/webhooks/unmatched.js';
import { SHIPPED_POLICY_DIR } from '../helpers/policy.js';

export const PD_SECRET = 'test-pagerduty-signing-secret+/=0123456789';
export const OG_TOKEN = 'test-opsgenie-webhook-token-0123456789';

export interface HarnessOptions {
  /** PagerDuty secrets in force; default [PD_SECRET]. */
  pagerdutySecrets?: string[];
  /** default OG_TOKEN; null: not configured. */
  opsgenieToken?: string | null;
  /** Point the simulators' webhooks at this sidecar (default true). */
  wireSimulators?: boolean;
}

export interface Harness {
  url: string;
  store: Store;
  incidents: IncidentService;
  dispatcher: Dispatcher;
  lifecycle: LifecycleBus;
  metrics: Metrics;
  unmatched: UnmatchedWebhooks;
  /** Every lifecycle event published since start. */
  events: LifecycleEvent[];
  logs(): string;
  /** Opens an incident through decide → incidents.apply, as the pipeline does. */
  alert(alert: {
    title: string;
    service_name: string;
    severity?: string;
    source?: string;
  }): Promise<ApplyResult>;
  webhookCount(provider: string, result: string): Promise<number>;
  stop(): Promise<void>;
}

export async function startHarness(sandbox: Sandbox, options: HarnessOptions = {}): Promise<Harness> {
  const clock = systemClock;
  const dir = await mkdtemp(join(tmpdir(), 'ir-webhooks-'));
  let captured = '';
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({ write: (chunk, _enc, done) => ((captured += String(chunk)), done()) }),
  });
  const metrics = new Metrics();
  const policies = new PolicyManager({
    dir: SHIPPED_POLICY_DIR,
    env: {},
    sandbox: true,
    clock,
    logger,
    metrics,
    scrubber: new SecretScrubber(),
  });
  const policy = await policies.start();
  const store = await Store.open(join(dir, 'data'), { clock });
  const lifecycle = new LifecycleBus();
  const events: LifecycleEvent[] = [];
  lifecycle.subscribe({ incident: (e) => events.push(e) });
  const breakers = new Breakers({ store, clock, logger, metrics }, policy.compiled.settings.delivery.breaker);
  await breakers.restore(Object.keys(policy.compiled.providers));
  const incidents = new IncidentService({
    store,
    ids: new IdGenerator(clock),
    clock,
    lifecycle,
    logger,
    metrics,
    policy: () => policies.current().compiled,
  });
  const recorder: DeliveryRecorder = new DeliveryRecorder({
    incidents,
    providers: () => providers.current(),
    clock,
    lifecycle,
    logger,
    policyVersion: () => policies.current().compiled.stamp.version,
    incidentUrl: (id) => `http://incident-router.test/?incident=${id}`,
  });
  const dispatcher = new Dispatcher({
    clock,
    random: Math.random,
    breakers,
    hooks: recorder,
    logger,
    metrics,
  });
  incidents.attach(dispatcher);
  const providers: ProviderRuntime = new ProviderRuntime({
    dispatcher,
    breakers,
    rewrite: pointAtSandbox(sandbox),
  });
  providers.apply(policy.compiled);
  await incidents.start();
  const unmatched = new UnmatchedWebhooks();
  const api = createApi({
    logger,
    routers: [
      incidentsRouter({ incidents, store, apiToken: null }),
      webhooksRouter({
        incidents,
        store,
        providers: () => policies.current().compiled.providers,
        pagerdutySecrets: options.pagerdutySecrets ?? [PD_SECRET],
        opsgenieToken: options.opsgenieToken === undefined ? OG_TOKEN : options.opsgenieToken,
        unmatched,
        clock,
        logger,
        metrics,
      }),
    ],
  });
  const server: Server = createServer(api.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  if (options.wireSimulators ?? true) {
    sandbox.pagerduty.configureWebhook({ url: `${url}/api/v1/webhooks/pagerduty`, secret: PD_SECRET });
    sandbox.opsgenie.configureWebhook({ url: `${url}/api/v1/webhooks/opsgenie`, token: OG_TOKEN });
  }
  return {
    url,
    store,
    incidents,
    dispatcher,
    lifecycle,
    metrics,
    unmatched,
    events,
    logs: () => captured,
    alert: async (a) => {
      const input = alertToInput(
        {
          title: a.title,
          service_name: a.service_name,
          severity: (a.severity ?? 'critical') as 'critical',
          source: a.source ?? 'webhook-test',
        },
        new Date(clock.now()),
      );
      const now = clock.now();
      const decision = await decide(input, policies.current().compiled, now, incidents.open);
      return incidents.apply(decision, input, now);
    },
    webhookCount: async (provider, result) => {
      const metric = await metrics.webhooks.get();
      return (
        metric.values.find((v) => v.labels.provider === provider && v.labels.result === result)?.value ?? 0
      );
    },
    stop: async () => {
      sandbox.pagerduty.configureWebhook(null);
      sandbox.opsgenie.configureWebhook(null);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await dispatcher.stop(500);
      await incidents.flush();
      await incidents.serial.idle();
      await providers.close();
      await store.close();
      policies.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A PagerDuty V3 webhook as PagerDuty signs and sends it. */
export async function postPagerDuty(
  url: string,
  body: string,
  options: { secret?: string | null; signature?: string; webhookId?: string; path?: string } = {},
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const signature =
    options.signature ?? (options.secret === null ? undefined : signV1(body, [options.secret ?? PD_SECRET]));
  if (signature !== undefined) headers['x-pagerduty-signature'] = signature;
  if (options.webhookId !== undefined) headers['x-webhook-id'] = options.webhookId;
  return send(`${url}${options.path ?? '/api/v1/webhooks/pagerduty'}`, headers, body);
}

export async function postOpsGenie(
  url: string,
  body: string,
  options: { token?: string | null; path?: string } = {},
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const token = options.token === undefined ? OG_TOKEN : options.token;
  if (token !== null) headers['x-webhook-token'] = token;
  return send(`${url}${options.path ?? '/api/v1/webhooks/opsgenie'}`, headers, body);
}

async function send(url: string, headers: Record<string, string>, body: string) {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A PagerDuty V3 envelope for an incident (developer-docs webhooks/01-Overview.md). */
export function pagerDutyEvent(
  eventType: string,
  incident: { id: string; incident_key: string | null; status?: string },
  options: { occurredAt?: string; agent?: string; id?: string; data?: Record<string, unknown> } = {},
): string {
  return JSON.stringify({
    event: {
      id: options.id ?? `evt-${Math.random().toString(36).slice(2)}`,
      event_type: eventType,
      resource_type: 'incident',
      occurred_at: options.occurredAt ?? new Date().toISOString(),
      agent: {
        id: 'PUSER01',
        type: 'user_reference',
        summary: options.agent ?? 'Pat Responder',
        self: '',
        html_url: '',
      },
      client: { name: 'PagerDuty' },
      data: options.data ?? {
        id: incident.id,
        type: 'incident',
        incident_key: incident.incident_key,
        status: incident.status ?? 'triggered',
      },
    },
  });
}

/** An OpsGenie outgoing webhook body (docs.opsgenie.com/docs/callbacks). */
export function opsGenieEvent(
  action: string,
  alert: { alias: string | null; alertId?: string; updatedAtMs?: number; username?: string; note?: string },
): string {
  return JSON.stringify({
    source: { name: 'web', type: 'web' },
    alert: {
      alertId: alert.alertId ?? 'og-alert-1',
      alias: alert.alias,
      message: 'test',
      username: alert.username ?? 'olga@example.com',
      updatedAt: (alert.updatedAtMs ?? Date.now()) * 1_000_000,
      ...(alert.note === undefined ? {} : { note: alert.note }),
    },
    action,
    integrationId: 'int-1',
    integrationName: 'incident-router',
  });
}
