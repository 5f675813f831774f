import { timingSafeEqual, createHash, randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import { tokenList } from '../config/tokens.js';
import { AppError, ERROR_CATALOGUE, type ErrorCode } from '../errors.js';
import { Stream } from 'node:stream';
import type { Logger, SecretScrubber } from '../telemetry/logger.js';

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
      if (appError.code === 'busy') ctx.set('Retry-After', '5');
      answer(ctx, appError.toBody());
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

/** What Koa's `ctx.type = 'application/json'` sets. */
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Sets a JSON answer, as text. Given an object, Koa 3's body setter first tests it against the fetch
 * globals (`ReadableStream`, `Blob`, `Response`), and the first test loads Node's own copy of undici:
 * about 30 ms of the first answer after a start, and a few MB (docs/performance.md, "Restart and
 * footprint"). The type is set as the header itself: Koa's `ctx.type` looks the charset up in
 * mime-db, which the build loads on its first use (the bundle's mime-types), so the first answer
 * after a start, a readiness probe's, would load it. `scrubAnswers` scrubs it as any text.
 */
export function answer(ctx: Context, value: object): void {
  ctx.set('Content-Type', JSON_TYPE);
  ctx.body = JSON.stringify(value);
}

/**
 * Every answer passes through the secret scrubber, errors included: a policy value (a title, an
 * error naming a team) can carry an interpolated secret, and this is the one place all of them
 * leave through. Routes answer JSON as text (`answer`); an object set as the body all the same is
 * serialised here the same way. Buffers and streams pass as they are.
 */
export function scrubAnswers(scrubber: SecretScrubber) {
  return async (ctx: Context, next: Next): Promise<void> => {
    await next();
    const body: unknown = ctx.body;
    if (body !== null && typeof body === 'object' && !Buffer.isBuffer(body) && !(body instanceof Stream))
      answer(ctx, body);
    const text: unknown = ctx.body;
    if (typeof text === 'string' && scrubber.holdsSecret(text)) ctx.body = scrubber.scrub(text);
  };
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

/**
 * Whether `given` equals one of `secrets`. Each is compared, matched or not, so timing does not say
 * which one matched (or how many there are to try).
 */
export function equalsAny(given: string, secrets: readonly string[]): boolean {
  return secrets.reduce((found, secret) => secretsEqual(given, secret) || found, false);
}

/** Constant-time comparison of two secrets of any length (hashing first equalises lengths). */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Mutating endpoints, and those that evaluate a submitted policy, require `Authorization: Bearer
 * $API_TOKEN` when a token is configured (docs/http-api.md, "Authentication").
 */
export function requireToken(token: string | null) {
  return async (ctx: Context, next: Next): Promise<void> => {
    checkToken(ctx, token);
    await next();
  };
}

/** Throws 401 unless the request carries the token (or none is configured). */
export function checkToken(ctx: Context, token: string | null): void {
  if (token === null) return;
  // The scheme is case-insensitive (RFC 9110 §11.1).
  const given = /^bearer +(.+)$/i.exec(ctx.get('authorization'))?.[1] ?? '';
  // Several tokens while one is rotated (docs/configuration.md, "Credentials").
  if (equalsAny(given, tokenList(token))) return;
  ctx.set('WWW-Authenticate', 'Bearer realm="incident-router"');
  throw new AppError('unauthorized', 'send Authorization: Bearer <API_TOKEN>');
}
