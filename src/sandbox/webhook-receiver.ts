// A generic webhook endpoint: the target of incident-router's `webhook` provider (chat or e-mail
// gateways) and a handy catcher for the provider simulators' own webhooks in tests. Records every POST;
// with a secret, checks `X-Incident-Router-Signature: v1=<hex HMAC-SHA256(secret, raw body)>` and answers
// 401 on a mismatch, like any receiver that verifies.
import type { IncomingHttpHeaders } from 'node:http';
import { BoundedLog } from '../domain/bounded-log.js';
import type { SimReply, SimRequest } from './http.js';
import { parseJson } from './json.js';
import { route, type Route } from './routes.js';
import { verifyV1 } from './signature.js';
import { ok, Simulator, type ListenOptions } from './simulator.js';

export const SIGNATURE_HEADER = 'x-incident-router-signature';

export interface WebhookReceiverOptions extends ListenOptions {
  /** When set, POSTs must carry a valid signature. */
  secret?: string;
}

export interface ReceivedWebhook {
  seq: number;
  at: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The exact body as received (UTF-8), for signature checks. */
  rawBody: string;
  /** The parsed body, or null when it was not JSON. */
  body: unknown;
  /** null when no secret is configured. */
  signatureValid: boolean | null;
}

const MAX_BODY_BYTES = 1024 * 1024;

/** Webhooks kept for `received()`: the newest, like the simulators' request logs. */
const MAX_KEPT = 10_000;

export class WebhookReceiver extends Simulator {
  private readonly got = new BoundedLog<ReceivedWebhook>(MAX_KEPT);
  private seq = 0;

  private constructor(private readonly options: WebhookReceiverOptions) {
    super('webhook', options, MAX_BODY_BYTES);
  }

  static async start(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(options);
    await receiver.listen(options.port ?? 0);
    return receiver;
  }

  /** Accepted POSTs, the newest 10,000, oldest first (rejected ones are in `requests()`). */
  received(): ReceivedWebhook[] {
    return structuredClone(this.got.list());
  }

  /** Waits until at least `count` webhooks arrived (polling; for tests), or rejects after `timeoutMs`. */
  async waitFor(count: number, timeoutMs = 2_000): Promise<ReceivedWebhook[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.got.total < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} webhooks, got ${this.got.total}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.received();
  }

  protected serveApi(req: SimRequest): SimReply {
    if (req.method !== 'POST')
      return { status: 405, headers: { allow: 'POST' }, body: { error: 'method not allowed' } };
    if (req.tooLarge) return { status: 413, body: { error: 'body too large' } };
    const signatureValid = this.verify(req);
    if (signatureValid === false) return { status: 401, body: { error: 'invalid signature' } };
    const parsed = parseJson(req.body);
    this.got.add({
      seq: ++this.seq,
      at: new Date(this.clock.now()).toISOString(),
      path: req.path,
      headers: req.headers,
      rawBody: req.body.toString('utf8'),
      body: parsed.ok ? parsed.value : null,
      signatureValid,
    });
    return { status: 200, body: { received: true } };
  }

  private verify(req: SimRequest): boolean | null {
    if (this.options.secret === undefined) return null;
    const header = req.headers[SIGNATURE_HEADER];
    return verifyV1(typeof header === 'string' ? header : undefined, req.body, [this.options.secret]);
  }

  protected actionOf(): string | undefined {
    return undefined;
  }

  protected faultReply(status: number, retryAfterSec: number | undefined): SimReply {
    return {
      status,
      ...(retryAfterSec === undefined ? {} : { headers: { 'retry-after': String(retryAfterSec) } }),
      body: { error: `injected fault (HTTP ${status})` },
    };
  }

  protected resetState(): void {
    this.got.clear();
  }

  protected controlRoutes(): Route[] {
    return [route('GET', '/__sim/received', () => ok({ received: this.received() }))];
  }
}
