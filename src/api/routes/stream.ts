// The live stream (docs/http-api.md, "GET /api/v1/stream"): Server-Sent Events from the stream hub.
// Open like GET /api/v1/incidents, whose data it carries (docs/http-api.md, "Authentication and what
// is open"); a browser's EventSource cannot send an Authorization header anyway.
import Router from '@koa/router';
import type { StreamHub } from '../../stream/index.js';

export function streamRouter(deps: { hub: Pick<StreamHub, 'connect' | 'disconnect'> }): Router {
  const router = new Router();
  router.get('/api/v1/stream', (ctx) => {
    const { req, res } = ctx;
    // Koa stays out of this response: it is written as it goes and ends when either side closes.
    ctx.respond = false;
    ctx.status = 200;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'X-Request-Id': String(ctx.state['requestId']),
      // Nginx would buffer the stream otherwise; a closed stream closes its connection (shutdown).
      'X-Accel-Buffering': 'no',
      Connection: 'close',
    });
    if (ctx.method === 'HEAD') {
      res.end();
      return;
    }
    req.socket.setNoDelay(true);
    req.socket.setKeepAlive(true, 30_000);
    const client = deps.hub.connect(res, ctx.get('last-event-id') || undefined);
    if (client === null) {
      res.end();
      return;
    }
    res.on('close', () => deps.hub.disconnect(client));
  });
  return router;
}
