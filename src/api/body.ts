// Request bodies, read as raw bytes with a limit. One reader for every route: JSON routes parse
// the bytes; webhook routes verify signatures on the exact bytes before parsing (a body parser
// that re-serialises would break the HMAC: LIBRARIES.md §4).
import type { Context } from 'koa';
import { AppError } from '../errors.js';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export async function readRawBody(ctx: Context, limitBytes = DEFAULT_BODY_LIMIT): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limitBytes)
    throw new AppError('payload_too_large', `body of ${declared} bytes exceeds ${limitBytes}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) throw new AppError('payload_too_large', `body exceeds ${limitBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) throw new AppError('invalid_json', 'the request body is empty; send a JSON document');
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new AppError('invalid_json', `the request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** The body of a JSON route. Requires a JSON content type so that a form post cannot reach it by accident. */
export async function readJson(ctx: Context, limitBytes = DEFAULT_BODY_LIMIT): Promise<unknown> {
  if (!ctx.is('application/json', 'application/*+json')) {
    throw new AppError(
      'unsupported_media_type',
      `send Content-Type: application/json (got ${ctx.get('content-type') || 'none'})`,
    );
  }
  return parseJson(await readRawBody(ctx, limitBytes));
}
