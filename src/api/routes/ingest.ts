// HTTP ingest (docs/http-api.md, "Ingest"): the brief's alert shape and log events, through the same
// pipeline as NATS.
import Router from '@koa/router';
import type { Clock } from '../../domain/clock.js';
import { alertToInput, eventToInput, type PipelineInput } from '../../domain/log-event.js';
import { AppError } from '../../errors.js';
import { validateAlert, validateEvent } from '../../ingest/validate.js';
import type { Pipeline, PipelineResult } from '../../pipeline.js';
import type { Metrics } from '../../telemetry/metrics.js';
import { readJson } from '../body.js';
import { answer, requireToken } from '../middleware.js';

const MAX_BATCH = 1_000;
const BATCH_LIMIT_BYTES = 8 * 1024 * 1024;

export function ingestRouter(deps: {
  pipeline: Pipeline;
  clock: Clock;
  metrics: Metrics;
  apiToken: string | null;
}): Router {
  const router = new Router({ prefix: '/api/v1' });
  const auth = requireToken(deps.apiToken);

  router.post('/alerts', auth, async (ctx) => {
    const body = await readJson(ctx);
    deps.metrics.eventsReceived.inc({ source: 'alerts' });
    const v = validateAlert(body);
    if (!v.ok) {
      deps.metrics.eventsInvalid.inc({ source: 'alerts' });
      throw new AppError('validation_failed', 'the alert is invalid', { details: { errors: v.errors } });
    }
    const result = await deps.pipeline.process(alertToInput(v.value, new Date(deps.clock.now())));
    ctx.status = 202;
    answer(ctx, alertAnswer(result));
  });

  router.post('/events', auth, async (ctx) => {
    const body = await readJson(ctx, BATCH_LIMIT_BYTES);
    const items = Array.isArray(body) ? body : [body];
    if (items.length > MAX_BATCH)
      throw new AppError(
        'validation_failed',
        `at most ${MAX_BATCH} events per request (got ${items.length})`,
      );
    deps.metrics.eventsReceived.inc({ source: 'http' }, items.length);
    const rejected: { index: number; errors: string[] }[] = [];
    const inputs: PipelineInput[] = [];
    for (let index = 0; index < items.length; index++) {
      const v = validateEvent(items[index]);
      if (v.ok) inputs.push(eventToInput(v.value));
      else {
        deps.metrics.eventsInvalid.inc({ source: 'http' });
        rejected.push({ index, errors: v.errors });
      }
    }
    // One batch, in order: new incidents share fsyncs, repeats answer from memory (docs/http-api.md).
    const outcomes: Record<string, number> = {};
    for (const outcome of await deps.pipeline.processAll(inputs))
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    // Nothing accepted is an error like any other (docs/http-api.md): the reasons go in details.
    if (rejected.length === items.length)
      throw new AppError('validation_failed', `no event was accepted (${rejected.length} invalid)`, {
        details: { accepted: 0, rejected },
      });
    ctx.status = 202;
    answer(ctx, { accepted: items.length - rejected.length, rejected, outcomes });
  });

  return router;
}

function alertAnswer(result: PipelineResult) {
  const d = result.decision;
  return {
    correlation_id: result.incident?.correlation_id ?? null,
    incident_id: result.incident?.id ?? null,
    outcome: result.outcome,
    severity: d.severity,
    paged: d.paged,
    suppressed_by: d.suppressed_by,
    route: d.route,
    routes: d.routes,
    fingerprint: d.fingerprint,
    deliveries: result.deliveries.map((x) => ({
      id: x.id,
      action: x.action,
      route: x.route,
      mode: x.mode,
      providers: x.candidates,
      status: x.status,
    })),
    policy: d.policy,
  };
}
