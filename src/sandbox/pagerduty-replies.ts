// The Events API v2's answers. Shapes from api-schema reference/events-v2/openapiv3.json
// (`components.responses.Success` and `Error` = {status, message, errors[]}); strings as the spec examples
// and observed responses show them (docs/providers.md, "PagerDuty answers").
import { STATUS_CODES } from 'node:http';
import type { SimReply } from './http.js';

/** 202 `{"status":"success","message":"Event processed","dedup_key":"…"}` (spec `Success` example). */
export function accepted(dedupKey: string): SimReply {
  return { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: dedupKey } };
}

/** 400 with the validation messages, as observed live (e.g. envato/pagerduty#70). */
export function invalidEvent(errors: string[]): SimReply {
  return { status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors } };
}

/** 400 for a body that is not a JSON object (the spec's own `Error` example). */
export function unrecognizedObject(): SimReply {
  return {
    status: 400,
    body: {
      status: 'Unrecognized object',
      message: 'Event object format is unrecognized',
      errors: ['JSON parse error'],
    },
  };
}

/** Over 512 KB (docs/providers.md, "PagerDuty limits"). The status and wording are not documented: 413 is the
 *  HTTP meaning and keeps the request out of the sidecar's retry path, as a 400 would. */
export function tooLarge(): SimReply {
  return {
    status: 413,
    body: {
      status: 'Payload too large',
      message: 'Event object is too large',
      errors: ['Events API payloads are limited to 512 KB'],
    },
  };
}

/**
 * "429 - Request Limit Exceeded" (docs/providers.md, "PagerDuty rate limits"); the body is not
 * documented, so it follows the spec's `Error` component. No Retry-After is documented; an injected 429
 * may add one.
 */
export function throttled(retryAfterSec?: number): SimReply {
  return {
    status: 429,
    ...(retryAfterSec === undefined ? {} : { headers: { 'retry-after': String(retryAfterSec) } }),
    body: {
      status: 'Request Limit Exceeded',
      message: 'Request Limit Exceeded',
      errors: ['Too many events for this routing key; retry with back-off'],
    },
  };
}

/** Any other injected status, in the spec's `Error` shape (the spec declares `5XX: $ref Error`). */
export function injected(status: number, retryAfterSec?: number): SimReply {
  if (status === 429) return throttled(retryAfterSec);
  return {
    status,
    ...(retryAfterSec === undefined ? {} : { headers: { 'retry-after': String(retryAfterSec) } }),
    body: { status: STATUS_CODES[status] ?? 'Error', message: `Injected fault (HTTP ${status})`, errors: [] },
  };
}

export function notFound(): SimReply {
  return { status: 404, body: { status: 'Not Found', message: 'No such endpoint', errors: [] } };
}
