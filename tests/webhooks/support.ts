// The sidecar for webhook tests: the real app (src/app.ts, LevelDB in a temp dir, providers pointed
// at in-process simulators) with the given webhook credentials, plus handles on its parts. The
// simulators' webhooks point at it unless a test posts its own.
import type { DeliveryEngine } from '../../src/deliver/engine.js';
import { alertToInput } from '../../src/domain/log-event.js';
import type { LifecycleBus, LifecycleEvent } from '../../src/incidents/lifecycle.js';
import type { ApplyResult, Incidents } from '../../src/incidents/incidents.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { signV1 } from '../../src/sandbox/index.js';
import type { StateBackend } from '../../src/state/backend.js';
import type { Metrics } from '../../src/telemetry/metrics.js';
import type { UnmatchedWebhooks } from '../../src/webhooks/unmatched.js';
import { expect } from 'vitest';
import type { Incident } from '../../src/domain/incident.js';
import { startTestApp, waitFor } from '../helpers/app.js';

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
  state: StateBackend;
  incidents: Incidents;
  engine: DeliveryEngine;
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
  /**
   * Opens a paged incident and waits until both providers hold it and all around it has settled:
   * deliveries recorded, the simulators' own webhooks for our triggers received.
   */
  openEverywhere(alert: { title: string; service_name: string }): Promise<Incident>;
  webhookCount(provider: string, result: string): Promise<number>;
  stop(): Promise<void>;
}

export async function startHarness(sandbox: Sandbox, options: HarnessOptions = {}): Promise<Harness> {
  const secrets = options.pagerdutySecrets ?? [PD_SECRET];
  const token = options.opsgenieToken === undefined ? OG_TOKEN : options.opsgenieToken;
  const env: Record<string, string> = {};
  if (secrets.length > 0) env['PAGERDUTY_WEBHOOK_SECRET'] = secrets.join(',');
  if (token !== null) env['OPSGENIE_WEBHOOK_TOKEN'] = token;
  // The sandbox makes up credentials that are left unset; "not configured" is a production setup.
  const production = secrets.length === 0 || token === null;
  const t = await startTestApp(env, { sandbox, captureLogs: true, production });
  const { app } = t;
  if (!(options.wireSimulators ?? true)) {
    sandbox.pagerduty.configureWebhook(null);
    sandbox.opsgenie.configureWebhook(null);
  }
  const parts = app.parts;
  const alert: Harness['alert'] = async (a) => {
    const now = app.clock.now();
    const input = alertToInput(
      {
        title: a.title,
        service_name: a.service_name,
        severity: (a.severity ?? 'critical') as 'critical',
        source: a.source ?? 'webhook-test',
      },
      new Date(now),
    );
    return parts.pipeline.process(input);
  };
  const events: LifecycleEvent[] = [];
  parts.lifecycle.subscribe({ incident: (e) => events.push(e) });
  return {
    url: t.url,
    state: parts.state,
    incidents: parts.incidents,
    engine: parts.engine,
    lifecycle: parts.lifecycle,
    metrics: app.metrics,
    unmatched: parts.unmatched,
    events,
    logs: t.logs,
    alert,
    openEverywhere: async (a) => {
      const applied = await alert(a);
      expect(applied.outcome).toBe('paged');
      const id = applied.incident!.id;
      const incident = await waitFor(async () => {
        const i = await parts.incidents.get(id);
        return i && i.holds['pagerduty']?.state === 'open' && i.holds['opsgenie']?.state === 'open'
          ? i
          : null;
      });
      await Promise.all([sandbox.pagerduty.webhooksIdle(), sandbox.opsgenie.webhooksIdle()]);
      await parts.engine.idle();
      await parts.state.idle(); // the delivery records are written
      return incident;
    },
    webhookCount: async (provider, result) => {
      const metric = await app.metrics.webhooks.get();
      return (
        metric.values.find((v) => v.labels.provider === provider && v.labels.result === result)?.value ?? 0
      );
    },
    stop: async () => {
      sandbox.pagerduty.configureWebhook(null);
      sandbox.opsgenie.configureWebhook(null);
      await t.stop();
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

/** A PagerDuty V3 envelope for an incident (docs/providers.md, "PagerDuty webhook events"). */
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
  alert: {
    alias: string | null;
    alertId?: string;
    createdAtMs?: number;
    updatedAtMs?: number;
    username?: string;
    note?: string;
  },
): string {
  return JSON.stringify({
    source: { name: 'web', type: 'web' },
    alert: {
      alertId: alert.alertId ?? 'og-alert-1',
      alias: alert.alias,
      message: 'test',
      username: alert.username ?? 'olga@example.com',
      updatedAt: (alert.updatedAtMs ?? Date.now()) * 1_000_000,
      ...(alert.createdAtMs === undefined ? {} : { createdAt: alert.createdAtMs }),
      ...(alert.note === undefined ? {} : { note: alert.note }),
    },
    action,
    integrationId: 'int-1',
    integrationName: 'incident-router',
  });
}
