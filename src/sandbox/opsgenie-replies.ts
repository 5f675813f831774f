// The OpsGenie Alert API's answers. Shapes: opsgenie-oas `SuccessResponse` {result, took, requestId},
// `ErrorResponse` {message, took, requestId} plus the `errors` map the live API adds on 422
// (docs/providers.md, "OpsGenie answers and errors"); headers X-Request-ID, X-Response-Time,
// X-RateLimit-State/-Reason/-Period-In-Sec (responses/common.yaml).
import { STATUS_CODES } from 'node:http';
import type { SimReply } from './http.js';

export interface ReplyMeta {
  requestId: string;
  /** Seconds, as the API reports `took`. */
  took: number;
}

function headers(meta: ReplyMeta): Record<string, string> {
  // X-Response-Time: the docs give no unit; the simulator repeats `took` (seconds).
  return { 'x-request-id': meta.requestId, 'x-response-time': String(meta.took) };
}

/** 202 "Request will be processed" (docs.opsgenie.com/docs/alert-api, oas SuccessResponse). */
export function accepted(meta: ReplyMeta): SimReply {
  return {
    status: 202,
    headers: { ...headers(meta), 'x-ratelimit-state': 'OK' },
    body: { result: 'Request will be processed', took: meta.took, requestId: meta.requestId },
  };
}

export function data(meta: ReplyMeta, payload: unknown): SimReply {
  return {
    status: 200,
    headers: { ...headers(meta), 'x-ratelimit-state': 'OK' },
    body: { data: payload, took: meta.took, requestId: meta.requestId },
  };
}

export function failure(
  meta: ReplyMeta,
  status: number,
  message: string,
  errors?: Record<string, string>,
): SimReply {
  return {
    status,
    headers: headers(meta),
    body: {
      message,
      ...(errors === undefined ? {} : { errors }),
      took: meta.took,
      requestId: meta.requestId,
    },
  };
}

/** 401 for a missing or wrong GenieKey (the body the live API sends; docs/response: "apiKey is invalid"). */
export function unauthorized(meta: ReplyMeta): SimReply {
  return failure(meta, 401, 'Could not authenticate');
}

/** 400 is for JSON syntax only (docs.opsgenie.com/docs/response). */
export function invalidJson(meta: ReplyMeta): SimReply {
  return failure(meta, 400, 'Invalid JSON body');
}

/** 422 with the per-field map, as observed live (docs/providers.md, "OpsGenie answers and errors"). */
export function unprocessable(meta: ReplyMeta, errors: Record<string, string>): SimReply {
  return failure(meta, 422, 'Request body is not processable. Please check the errors.', errors);
}

/** 429 with the rate-limit headers of responses/common.yaml. `THROTTLED` and the reason's value are
 *  [unverified]; the docs document no Retry-After, an injected 429 may add one. */
export function throttled(meta: ReplyMeta, retryAfterSec?: number): SimReply {
  const reply = failure(
    meta,
    429,
    'You are making too many requests! To avoid errors, we recommend you limit requests.',
  );
  reply.headers = {
    ...reply.headers,
    'x-ratelimit-state': 'THROTTLED',
    'x-ratelimit-reason': 'ALERT',
    'x-ratelimit-period-in-sec': '60',
    ...(retryAfterSec === undefined ? {} : { 'retry-after': String(retryAfterSec) }),
  };
  return reply;
}

export function injected(meta: ReplyMeta, status: number, retryAfterSec?: number): SimReply {
  if (status === 429) return throttled(meta, retryAfterSec);
  const reply = failure(meta, status, STATUS_CODES[status] ?? 'Error');
  if (retryAfterSec !== undefined) reply.headers = { ...reply.headers, 'retry-after': String(retryAfterSec) };
  return reply;
}
