// Liveness, readiness and Prometheus metrics.
import Router from '@koa/router';
import type { Metrics } from '../../telemetry/metrics.js';
import { answer } from '../middleware.js';

export interface ReadinessCheck {
  name: string;
  ready(): boolean;
}

export function systemRouter(deps: { metrics: Metrics; readiness: readonly ReadinessCheck[] }): Router {
  const router = new Router();
  // Liveness: the event loop answers. Nothing else, or a slow dependency would get us restarted.
  router.get('/livez', (ctx) => {
    answer(ctx, { status: 'ok' });
  });
  router.get('/readyz', (ctx) => {
    const checks = Object.fromEntries(deps.readiness.map((c) => [c.name, c.ready()]));
    const ready = Object.values(checks).every(Boolean);
    ctx.status = ready ? 200 : 503;
    answer(ctx, { status: ready ? 'ready' : 'not_ready', checks });
  });
  router.get('/metrics', async (ctx) => {
    ctx.set('Content-Type', deps.metrics.registry.contentType); // as answer() does: no mime-db lookup
    ctx.body = await deps.metrics.registry.metrics();
  });
  return router;
}
