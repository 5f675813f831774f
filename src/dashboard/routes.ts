// The dashboard (docs/dashboard.md): `GET /` answers the page built into dist/web by
// `npm run build` (scripts/build-web.mjs), `GET /assets/*` its script and stylesheet. The page is
// the same for every path it shows (`/?incident=<id>`, `/?view=…`); it reads everything else from
// the API. A strict Content-Security-Policy allows nothing but this origin's own script, styles and
// connections, so text from log events can never run as code even if it reached the page as HTML.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import Router from '@koa/router';
import { projectFile } from '../project-files.js';

// From src/dashboard (tests) and dist/ alike: the built page is in dist/web.
const WEB_DIR = projectFile('dist/web/');

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

interface File {
  body: Buffer;
  etag: string;
}

export function dashboardRouter(webDir: URL = WEB_DIR): Router {
  const router = new Router();
  const cache = new Map<string, Promise<File | null>>();
  const load = (name: string): Promise<File | null> => {
    let file = cache.get(name);
    if (file === undefined) {
      file = readFile(new URL(name, webDir)).then(
        (body) => ({ body, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"` }),
        () => null,
      );
      cache.set(name, file);
    }
    return file;
  };

  router.get('/', async (ctx) => {
    const page = await load('index.html');
    if (page === null) {
      cache.delete('index.html'); // a build may come later
      ctx.status = 503;
      ctx.type = 'text/plain';
      ctx.body = 'The dashboard is not built: run `npm run build` (it writes dist/web).\n';
      return;
    }
    ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = page.body;
  });

  router.get('/assets/:name', async (ctx) => {
    const name = ctx.params['name'] ?? '';
    const type = ASSETS[name];
    const file = type === undefined ? null : await load(`assets/${name}`);
    if (file === null || type === undefined) {
      ctx.status = 404;
      ctx.type = 'text/plain';
      ctx.body = 'not found\n';
      return;
    }
    // Names are not hashed: the browser asks again each time and gets 304 while the build is the same.
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('ETag', file.etag);
    if (ctx.get('If-None-Match') === file.etag) {
      ctx.status = 304;
      return;
    }
    ctx.type = type;
    ctx.body = file.body;
  });
  return router;
}
