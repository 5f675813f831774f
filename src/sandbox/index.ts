// Provider simulators: PagerDuty Events API v2, OpsGenie Alert API v2 and a generic webhook receiver on
// loopback, for the tests and for `incident-router serve --sandbox` (a newcomer sees pages arrive with no
// accounts). The public surface is this list.
import { PagerDutySimulator, type PagerDutySimulatorOptions } from './pagerduty-simulator.js';
import { OpsGenieSimulator, type OpsGenieSimulatorOptions } from './opsgenie-simulator.js';
import { WebhookReceiver, type WebhookReceiverOptions } from './webhook-receiver.js';

export {
  PagerDutySimulator,
  type PagerDutySimulatorOptions,
  type PagerDutyUiResult,
} from './pagerduty-simulator.js';
export type {
  PagerDutyIncident,
  PagerDutyIncidentStatus,
  PagerDutyUiAction,
  DroppedEvent,
} from './pagerduty-incidents.js';
export type { PagerDutyWebhookTarget } from './pagerduty-notifier.js';
export type { PagerDutyWebhookEventType } from './pagerduty-webhook.js';
export {
  OpsGenieSimulator,
  type OpsGenieSimulatorOptions,
  type OpsGenieUiResult,
} from './opsgenie-simulator.js';
export type { OpsGenieAlert, OpsGenieAlertStatus, OpsGenieAction, ActionOptions } from './opsgenie-alerts.js';
export type { AlertRequestStatus } from './opsgenie-requests.js';
export type { OpsGenieWebhookTarget } from './opsgenie-webhook.js';
export {
  WebhookReceiver,
  SIGNATURE_HEADER,
  type WebhookReceiverOptions,
  type ReceivedWebhook,
} from './webhook-receiver.js';
export { Simulator, type ListenOptions } from './simulator.js';
export { FaultInjector, type FaultSpec, type FaultScope, type ActiveFault } from './faults.js';
export type { DownOptions, DownMode } from './http.js';
export type { LoggedRequest, RequestOutcome } from './request-log.js';
export type {
  WebhookDelivery,
  WebhookAttempt,
  WebhookOutcome,
  WebhookRetryPolicy,
} from './webhook-sender.js';
export { SimulatorError, type SimulatorErrorCode } from './errors.js';
export { hmacSha256Hex, signV1, verifyV1 } from './signature.js';

/** A routing key the PagerDuty simulator accepts (32 alphanumerics), for sandbox mode. */
export const SANDBOX_PAGERDUTY_ROUTING_KEY = 'sandbox0routing0key0000000000001';
/** A GenieKey for sandbox mode. `startSandbox` accepts any key unless given `opsgenie.apiKey`. */
export const SANDBOX_OPSGENIE_API_KEY = 'sandbox-opsgenie-api-key';

export interface SandboxOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 or absent: a free port. */
  ports?: { pagerduty?: number; opsgenie?: number; webhook?: number };
  pagerduty?: Omit<PagerDutySimulatorOptions, 'port' | 'host'>;
  opsgenie?: Omit<OpsGenieSimulatorOptions, 'port' | 'host'>;
  webhook?: Omit<WebhookReceiverOptions, 'port' | 'host'>;
}

export interface SandboxUrls {
  /** The PagerDuty provider `url`: `<base>/v2/enqueue`. */
  pagerdutyEvents: string;
  pagerduty: string;
  /** The OpsGenie provider `url` (base). */
  opsgenie: string;
  /** The webhook provider `url`. */
  webhook: string;
}

export interface Sandbox {
  pagerduty: PagerDutySimulator;
  opsgenie: OpsGenieSimulator;
  webhook: WebhookReceiver;
  urls: SandboxUrls;
  /** Stops all three; no socket left behind. */
  stop(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const host = options.host;
  const started = await Promise.allSettled([
    PagerDutySimulator.start({ ...options.pagerduty, host, port: options.ports?.pagerduty ?? 0 }),
    OpsGenieSimulator.start({ ...options.opsgenie, host, port: options.ports?.opsgenie ?? 0 }),
    WebhookReceiver.start({ ...options.webhook, host, port: options.ports?.webhook ?? 0 }),
  ]);
  const [pd, og, wh] = started;
  if (pd.status !== 'fulfilled' || og.status !== 'fulfilled' || wh.status !== 'fulfilled') {
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    throw new Error('sandbox: a simulator failed to start', { cause: failure?.reason });
  }
  const [pagerduty, opsgenie, webhook] = [pd.value, og.value, wh.value];
  return {
    pagerduty,
    opsgenie,
    webhook,
    urls: {
      pagerdutyEvents: pagerduty.eventsUrl,
      pagerduty: pagerduty.url,
      opsgenie: opsgenie.url,
      webhook: webhook.url,
    },
    stop: async () => {
      await Promise.all([pagerduty.stop(), opsgenie.stop(), webhook.stop()]);
    },
  };
}
