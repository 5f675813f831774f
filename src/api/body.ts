// Request bodies, read as raw bytes with a limit. One reader for every route: JSON routes parse
// the bytes; webhook routes verify signatures on the exact bytes before parsing (a body parser
// that re-serialises would break the HMAC: docs/providers.md, "PagerDuty webhook signatures").
import type { Context } from 'koa';
import { MAX_JSON_DEPTH, textNestsDeeperThan } from '../domain/json-shape.js';
import { AppError } from '../errors.js';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** Room for an array of events around each event's own limit, which reports what nests too deep. */
export const MAX_BODY_DEPTH = 2 * MAX_JSON_DEPTH;

// The same rule as NATS payloads: bytes that are not UTF-8 are refused, not patched with U+FFFD.
const utf8 = new TextDecoder('utf-8', { fatal: true });

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

/** The body as text: refused when it is not UTF-8 (RFC 8259 §8.1). */
export function bodyText(raw: Buffer): string {
  try {
    return utf8.decode(raw);
  } catch {
    throw new AppError('invalid_json', 'the request body is not valid UTF-8');
  }
}

export function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) throw new AppError('invalid_json', 'the request body is empty; send a JSON document');
  const text = bodyText(raw);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new AppError('invalid_json', `the request body is not valid JSON: ${(err as Error).message}`);
  }
  if (textNestsDeeperThan(text, MAX_BODY_DEPTH))
    throw new AppError('invalid_json', `the request body nests deeper than ${MAX_BODY_DEPTH} levels`);
  return value;
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
