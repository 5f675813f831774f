// Shared bits of the simulator tests: real HTTP over loopback with fetch, and example events.

export const ROUTING_KEY = 'e93facc04764012d7bfb002500d5d1a6';
export const OTHER_ROUTING_KEY = 'R0123456789abcdefABCDEF012345678';

export interface JsonAnswer {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

export async function send(
  url: string,
  body: unknown,
  init: { method?: string; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<JsonAnswer> {
  const res = await fetch(url, {
    method: init.method ?? 'POST',
    headers: { 'content-type': 'application/json', ...init.headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    ...(init.signal === undefined ? {} : { signal: init.signal }),
  });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<JsonAnswer> {
  return send(url, undefined, { method: 'GET', headers });
}

export function trigger(
  dedupKey: string | undefined,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    routing_key: ROUTING_KEY,
    event_action: 'trigger',
    ...(dedupKey === undefined ? {} : { dedup_key: dedupKey }),
    payload: {
      summary: 'Database connection failure on payment-service',
      source: 'db-1.example.com',
      severity: 'critical',
    },
    ...overrides,
  };
}

export function statusChange(
  action: 'acknowledge' | 'resolve',
  dedupKey: string,
  routingKey = ROUTING_KEY,
): Record<string, unknown> {
  return { routing_key: routingKey, event_action: action, dedup_key: dedupKey };
}

/** The error a fetch rejected with, or a failure when it did not reject. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the request to fail');
}
