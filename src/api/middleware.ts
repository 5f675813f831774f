import { timingSafeEqual, createHash, randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import { AppError, ERROR_CATALOGUE, type ErrorCode } from '../errors.js';
import type { Logger } from '../telemetry/logger.js';

const CODE_BY_STATUS = new Map<number, ErrorCode>(
  Object.entries(ERROR_CATALOGUE).map(([code, { status }]) => [status, code as ErrorCode]),
);

/** Every error leaves as `{"error": {"code", "message", "details"?}}`; internal messages only reach the log. */
export function errorHandler(logger: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
      if (ctx.body === undefined && ctx.status === 404)
        throw new AppError('not_found', `no route for ${ctx.method} ${ctx.path}`);
      if (ctx.body === undefined && ctx.status === 405) {
        throw new AppError(
          'method_not_allowed',
          `${ctx.method} is not allowed on ${ctx.path} (allowed: ${ctx.response.get('Allow')})`,
        );
      }
    } catch (err) {
      const appError = toAppError(err);
      if (appError.status >= 500) {
        logger.error(
          {
            event: 'request_failed',
            err,
            method: ctx.method,
            path: ctx.path,
            request_id: ctx.state['requestId'],
          },
          'request failed',
        );
      }
      ctx.status = appError.status;
      ctx.body = appError.toBody();
    }
  };
}

function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  // Koa's own ctx.throw / http-errors: keep the status, map it onto the catalogue.
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = CODE_BY_STATUS.get(status) ?? 'bad_request';
    const expose = (err as { expose?: boolean }).expose === true;
    return new AppError(code, expose ? (err as Error).message : undefined, { cause: err });
  }
  return new AppError('internal', (err as Error)?.message ?? String(err), { cause: err, expose: false });
}

export function requestId() {
  return async (ctx: Context, next: Next): Promise<void> => {
    const incoming = ctx.get('x-request-id');
    const id = /^[A-Za-z0-9._-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    ctx.state['requestId'] = id;
    ctx.set('X-Request-Id', id);
    await next();
  };
}

/** Constant-time comparison of two secrets of any length (hashing first equalises lengths). */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Mutating endpoints require `Authorization: Bearer $API_TOKEN` when a token is configured (SPEC §5). */
export function requireToken(token: string | null) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (token !== null) {
      const header = ctx.get('authorization');
      const given = header.startsWith('Bearer ') ? header.slice(7) : '';
      if (!secretsEqual(given, token)) {
        ctx.set('WWW-Authenticate', 'Bearer realm="incident-router"');
        throw new AppError('unauthorized', 'send Authorization: Bearer <API_TOKEN>');
      }
    }
    await next();
  };
}
