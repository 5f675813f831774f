// Inbound provider webhooks (docs/http-api.md, "Webhooks"): PagerDuty V3, signed; OpsGenie, with a
// shared token header. Credentials are checked before anything else and on the exact bytes received;
// nothing changes on a refusal. A path may name the provider instance (`/pagerduty/<instance>`) when a
// policy has several of one type (src/webhooks/match.ts).
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Clock } from '../../domain/clock.js';
import { AppError } from '../../errors.js';
import type { Outbox } from '../../deliver/outbox.js';
import type { Incidents } from '../../incidents/incidents.js';
import type { StateBackend } from '../../state/backend.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Metrics } from '../../telemetry/metrics.js';
import type { ReadResult, WebhookProvider } from '../../webhooks/inbound.js';
import { WebhookInbox } from '../../webhooks/inbox.js';
import type { ProviderTypes } from '../../webhooks/match.js';
import { readOpsGenieWebhook } from '../../webhooks/opsgenie.js';
import { readPagerDutyWebhook } from '../../webhooks/pagerduty.js';
import { SIGNATURE_PROBLEMS, verifyPagerDutySignature } from '../../webhooks/signature.js';
import { WebhookTelemetry } from '../../webhooks/telemetry.js';
import type { UnmatchedWebhooks } from '../../webhooks/unmatched.js';
import { parseJson, readRawBody } from '../body.js';
import { answer, equalsAny } from '../middleware.js';

export interface WebhooksRouterDeps {
  incidents: Pick<Incidents, 'get' | 'applyProviderEvent'>;
  state: Pick<StateBackend, 'findByRef' | 'seenWebhook' | 'markWebhook'>;
  /** Where the sync deliveries a webhook's change made go. */
  outbox: Outbox;
  /** Provider instances of the active policy, name → type (read on every webhook: reloads apply). */
  providers(): ProviderTypes;
  /** PagerDuty signing secrets in force (several during a rotation); empty: every PagerDuty webhook is refused. */
  pagerdutySecrets: readonly string[];
  /** OPSGENIE_WEBHOOK_TOKEN's tokens in force (several during a rotation); empty: every OpsGenie webhook is refused. */
  opsgenieTokens: readonly string[];
  /** Webhooks that matched no incident, kept for the health view. */
  unmatched: UnmatchedWebhooks;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
}

// PagerDuty guarantees delivery up to 55 KB and drops anything over 256 KB (docs/providers.md,
// "PagerDuty webhook delivery behaviour"); OpsGenie truncates descriptions and details to 1000 chars
// (callbacks docs): 256 KB fits both.
export const WEBHOOK_BODY_LIMIT = 256 * 1024;

export function webhooksRouter(deps: WebhooksRouterDeps): Router {
  const telemetry = new WebhookTelemetry(deps.logger, deps.metrics);
  const inbox = new WebhookInbox({ ...deps, telemetry });
  const router = new Router({ prefix: '/api/v1/webhooks' });

  /** Authenticated bytes, or a refusal counted and logged (401, 413); nothing has changed yet. */
  const authenticate = async (ctx: Context, provider: WebhookProvider): Promise<Buffer> => {
    try {
      return provider === 'pagerduty'
        ? await authenticatePagerDuty(ctx, deps)
        : await authenticateOpsGenie(ctx, deps);
    } catch (err) {
      if (err instanceof Refused) {
        telemetry.unauthorized(provider, ctx.path, err.why);
        throw new AppError('unauthorized', `webhook refused: ${err.why}`);
      }
      if (err instanceof AppError && err.code === 'payload_too_large')
        telemetry.rejected(provider, ctx.path, 'too_large', err.message);
      throw err;
    }
  };

  const read = (ctx: Context, provider: WebhookProvider, raw: Buffer): ReadResult => {
    let body: unknown;
    try {
      body = parseJson(raw);
    } catch (err) {
      if (err instanceof AppError) telemetry.rejected(provider, ctx.path, 'invalid', err.message);
      throw err;
    }
    return provider === 'pagerduty' ? readPagerDutyWebhook(body) : readOpsGenieWebhook(body);
  };

  const receive = async (ctx: Context, provider: WebhookProvider): Promise<void> => {
    const raw = await authenticate(ctx, provider);
    const instance = typeof ctx.params['instance'] === 'string' ? ctx.params['instance'] : null;
    if (instance !== null && !inbox.knowsInstance(provider, instance)) {
      const why = `the policy has no ${provider} provider instance "${instance}"`;
      telemetry.rejected(provider, ctx.path, 'not_found', why);
      throw new AppError('not_found', why);
    }
    const result = read(ctx, provider, raw);
    if (result.kind === 'invalid') {
      telemetry.rejected(provider, ctx.path, 'invalid', result.message);
      throw new AppError('validation_failed', result.message);
    }
    if (result.kind === 'ignored') {
      const fields = { event_type: result.eventType, reason: result.reason };
      telemetry.handled(
        provider,
        'ignored',
        fields,
        `${provider} webhook ${result.eventType} ignored: ${result.reason}`,
      );
      ctx.status = 200;
      answer(ctx, { result: 'ignored', reason: result.reason });
      return;
    }
    try {
      const received = await inbox.receive(result.event, instance);
      ctx.status = received.status;
      answer(ctx, received.body);
    } catch (err) {
      telemetry.failed(provider, ctx.path, err);
      throw err;
    }
  };

  router.post('/pagerduty', (ctx) => receive(ctx, 'pagerduty'));
  router.post('/pagerduty/:instance', (ctx) => receive(ctx, 'pagerduty'));
  router.post('/opsgenie', (ctx) => receive(ctx, 'opsgenie'));
  router.post('/opsgenie/:instance', (ctx) => receive(ctx, 'opsgenie'));
  router.get('/unmatched', (ctx) => {
    answer(ctx, { total: deps.unmatched.total, recent: deps.unmatched.list() });
  });
  return router;
}

/** Credentials that do not pass; `why` is for the log and the client and never holds a secret. */
class Refused extends Error {
  constructor(readonly why: string) {
    super(why);
  }
}

/** The signature header before reading, then HMAC over the exact bytes received. */
async function authenticatePagerDuty(ctx: Context, deps: WebhooksRouterDeps): Promise<Buffer> {
  if (deps.pagerdutySecrets.length === 0)
    throw new Refused('PAGERDUTY_WEBHOOK_SECRET is not configured, so every PagerDuty webhook is refused');
  const header = ctx.get('x-pagerduty-signature');
  if (header === '') throw new Refused(SIGNATURE_PROBLEMS.missing);
  const raw = await readRawBody(ctx, WEBHOOK_BODY_LIMIT);
  const check = verifyPagerDutySignature(header, raw, deps.pagerdutySecrets);
  if (!check.ok) throw new Refused(SIGNATURE_PROBLEMS[check.reason]);
  return raw;
}

/**
 * The shared token (OpsGenie signs nothing: docs/providers.md, "OpsGenie webhooks") before the body is
 * even read.
 */
async function authenticateOpsGenie(ctx: Context, deps: WebhooksRouterDeps): Promise<Buffer> {
  const tokens = deps.opsgenieTokens;
  if (tokens.length === 0)
    throw new Refused('OPSGENIE_WEBHOOK_TOKEN is not configured, so every OpsGenie webhook is refused');
  const given = ctx.get('x-webhook-token');
  if (given === '') throw new Refused('no X-Webhook-Token header');
  if (!equalsAny(given, tokens)) throw new Refused('X-Webhook-Token does not match OPSGENIE_WEBHOOK_TOKEN');
  return readRawBody(ctx, WEBHOOK_BODY_LIMIT);
}
