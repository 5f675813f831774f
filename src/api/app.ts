// The Koa application: one middleware chain, one router per resource. Tests drive
// `createApi(...).callback()` or a real listening server; nothing here knows about NATS.
import Koa from 'koa';
import type Router from '@koa/router';
import type { Logger, SecretScrubber } from '../telemetry/logger.js';
import { errorHandler, requestId, scrubAnswers } from './middleware.js';

export function createApi(deps: {
  logger: Logger;
  scrubber: SecretScrubber;
  routers: readonly Router[];
}): Koa {
  const app = new Koa({ proxy: false });
  app.silent = true; // errorHandler logs what matters; Koa's default handler would print stacks
  app.use(requestId());
  app.use(scrubAnswers(deps.scrubber));
  app.use(errorHandler(deps.logger));
  app.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Content-Type-Options', 'nosniff');
    await next();
  });
  for (const router of deps.routers) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  app.on('error', (err: Error & { code?: string }) => {
    // A client that goes away mid-stream (SSE, slow uploads) is not an error of ours.
    if (err.code === 'ERR_STREAM_PREMATURE_CLOSE' || err.code === 'ECONNRESET') return;
    deps.logger.warn({ event: 'http_error', err }, 'http error');
  });
  return app;
}
