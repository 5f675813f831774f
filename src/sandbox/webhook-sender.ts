// Webhook delivery from a simulator back to the sidecar, with PagerDuty's documented behaviour: retry on
// timeouts, connection errors, 5xx and 429; any other 4xx is permanent and dropped; deliveries for one
// incident stay in order (docs/providers.md, "PagerDuty webhook delivery behaviour"). PagerDuty retries
// for up to 48 h; a simulator retries a few times with a short backoff so tests stay fast. OpsGenie
// documents no retry policy; its simulator uses the same one.
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../domain/clock.js';
import { HttpClient } from '../providers/http.js';
import { ProviderError } from '../providers/provider.js';
import { BoundedLog } from '../domain/bounded-log.js';

export interface WebhookRetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Wait before retry n: backoffMs × 2^(n-1). */
  backoffMs: number;
  /** PagerDuty expects a 2xx within 5 s (docs/providers.md, "PagerDuty webhook delivery behaviour"). */
  timeoutMs: number;
}

export const DEFAULT_WEBHOOK_RETRY: WebhookRetryPolicy = { attempts: 4, backoffMs: 100, timeoutMs: 5_000 };

export interface WebhookAttempt {
  at: string;
  /** null when no HTTP answer came (timeout, refused, reset). */
  status: number | null;
  error?: string;
  responseBody?: string;
}

export type WebhookOutcome = 'pending' | 'delivered' | 'dropped' | 'failed';

export interface WebhookDelivery {
  id: string;
  url: string;
  eventType: string;
  headers: Record<string, string>;
  body: string;
  attempts: WebhookAttempt[];
  /** delivered: 2xx · dropped: a permanent 4xx · failed: retries exhausted or the simulator stopped. */
  outcome: WebhookOutcome;
}

export interface OutgoingWebhook {
  id: string;
  url: string;
  eventType: string;
  headers: Record<string, string>;
  body: string;
  /** Deliveries with the same key go out one after another (one incident's events stay in order). */
  orderKey: string;
}

const RESPONSE_EXCERPT_CHARS = 1000;

/**
 * Requests in flight at most, over keep-alive connections. Unbounded, a burst of incidents had a
 * simulator open hundreds of connections to the sidecar at once (one per webhook in flight) and
 * spend its time connecting; a provider sends its webhooks over a bounded set of connections.
 */
const MAX_IN_FLIGHT = 32;

/** Deliveries kept for `deliveries()`: the newest, like the request log (a demo runs for days). */
const MAX_LOGGED = 10_000;

export class WebhookSender {
  private readonly log = new BoundedLog<WebhookDelivery>(MAX_LOGGED);
  /**
   * The sidecar's own HTTP client (undici's request over a keep-alive Agent, never a proxy): `fetch`
   * with its web streams cost a simulator about a third of its CPU in a burst of webhooks.
   */
  private http = newClient();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopper = stopSignal();
  /** One controller per request in flight, so `stop` can abort them (no listener per request). */
  private readonly requests = new Set<AbortController>();
  private sending = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly policy: WebhookRetryPolicy,
    private readonly clock: Clock,
  ) {}

  /** Queues a delivery; resolves with its record once it is delivered, dropped or given up. */
  send(webhook: OutgoingWebhook): Promise<WebhookDelivery> {
    const { id, url, eventType, headers, body } = webhook;
    const delivery: WebhookDelivery = { id, url, eventType, headers, body, attempts: [], outcome: 'pending' };
    this.log.add(delivery);
    const previous = this.queues.get(webhook.orderKey) ?? Promise.resolve();
    const done = previous.then(() => this.deliver(url, delivery)).then(() => delivery);
    this.queues.set(webhook.orderKey, done);
    this.inFlight.add(done);
    void done
      .finally(() => {
        this.inFlight.delete(done);
        if (this.queues.get(webhook.orderKey) === done) this.queues.delete(webhook.orderKey);
      })
      .catch(() => undefined);
    return done;
  }

  deliveries(): WebhookDelivery[] {
    return structuredClone(this.log.list());
  }

  /** Resolves when every queued delivery has finished. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  reset(): void {
    this.log.clear();
  }

  /** Abandons pending deliveries (they end as `failed`). */
  stop(): void {
    for (const request of this.requests) request.abort();
    this.stopper.abort();
    this.stopper = stopSignal();
    const http = this.http;
    this.http = newClient();
    void http.close().catch(() => undefined);
  }

  private async deliver(url: string, delivery: WebhookDelivery): Promise<void> {
    const signal = this.stopper.signal;
    for (let n = 1; n <= this.policy.attempts && !signal.aborted; n++) {
      if (n > 1 && !(await this.backoff(n, signal))) break;
      const attempt = await this.attempt(url, delivery);
      delivery.attempts.push(attempt);
      if (attempt.status !== null && attempt.status >= 200 && attempt.status < 300) {
        delivery.outcome = 'delivered';
        return;
      }
      if (attempt.status !== null && !isRetryable(attempt.status)) {
        delivery.outcome = 'dropped';
        return;
      }
    }
    delivery.outcome = 'failed';
  }

  private async attempt(url: string, delivery: WebhookDelivery): Promise<WebhookAttempt> {
    await this.slot();
    try {
      return await this.post(url, delivery);
    } finally {
      this.release();
    }
  }

  private slot(): Promise<void> {
    if (this.sending < MAX_IN_FLIGHT) {
      this.sending++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** The slot goes to the next waiting attempt, if any. */
  private release(): void {
    const next = this.waiting.shift();
    if (next === undefined) this.sending--;
    else next();
  }

  private async post(url: string, delivery: WebhookDelivery): Promise<WebhookAttempt> {
    const at = new Date(this.clock.now()).toISOString();
    if (this.stopper.signal.aborted) return { at, status: null, error: 'the simulator stopped' };
    // Not AbortSignal.any([stop, timeout]): on Node 20 each call leaves a listener on the
    // long-lived stop signal, and a busy simulator slowed down as they piled up.
    const request = new AbortController();
    const timer = setTimeout(
      () => request.abort(new DOMException('timed out', 'TimeoutError')),
      this.policy.timeoutMs,
    );
    this.requests.add(request);
    try {
      const answer = await this.http.postJson(url, delivery.body, delivery.headers, request.signal);
      return { at, status: answer.status, responseBody: answer.text.slice(0, RESPONSE_EXCERPT_CHARS) };
    } catch (err) {
      return { at, status: null, error: describeError(err, request.signal) };
    } finally {
      clearTimeout(timer);
      this.requests.delete(request);
    }
  }

  private async backoff(attempt: number, signal: AbortSignal): Promise<boolean> {
    try {
      await sleep(this.policy.backoffMs * 2 ** (attempt - 2), undefined, { signal });
      return true;
    } catch {
      return false;
    }
  }
}

/** Every delivery waiting out a backoff listens on it: hundreds at once are normal, not a leak. */
function stopSignal(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

/**
 * PagerDuty retries 5xx and 429; any other non-2xx is permanent (docs/providers.md,
 * "PagerDuty webhooks").
 */
function isRetryable(status: number): boolean {
  return status === 429 || status >= 500;
}

function newClient(): HttpClient {
  return new HttpClient('webhook', { connections: MAX_IN_FLIGHT });
}

/** What an attempt that got no answer shows: `timeout`, `aborted`, or the socket's error code. */
function describeError(err: unknown, signal: AbortSignal): string {
  if (signal.aborted)
    return (signal.reason as Error | undefined)?.name === 'TimeoutError' ? 'timeout' : 'aborted';
  const cause = err instanceof ProviderError ? err.cause : err;
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  return cause instanceof Error ? cause.message : String(cause);
}
