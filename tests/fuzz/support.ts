// HTTP helpers of the fuzz suite: raw requests (bodies as bytes, answers as text) and the
// assertions every answer must pass.
import { expect } from 'vitest';
import { ERROR_CATALOGUE } from '../../src/errors.js';

export const API_TOKEN = 'fuzz-api-token-0123456789abcdef';
export const AUTH = { authorization: `Bearer ${API_TOKEN}` };

export interface Answer {
  method: string;
  path: string;
  status: number;
  contentType: string;
  text: string;
}

/** One request; the body goes as given (bytes or text), nothing is re-encoded. */
export async function send(
  base: string,
  method: string,
  path: string,
  options: { body?: Uint8Array | string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: options.headers ?? {},
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  return {
    method,
    path,
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    text: await res.text(),
  };
}

/**
 * Never a 5xx; a 4xx is exactly `{"error": {"code", "message", "details"?}}` with a code of the
 * catalogue (src/errors.ts) whose status is the one answered. Returns the parsed body.
 */
export function expectAnswer(answer: Answer, logged: readonly string[] = []): any {
  const where = [
    `${answer.method} ${answer.path.slice(0, 200)} → ${answer.status} ${answer.text.slice(0, 500)}`,
    ...logged,
  ].join('\n');
  expect(answer.status, where).toBeGreaterThanOrEqual(200);
  expect(answer.status, where).toBeLessThan(500);
  expect(answer.status >= 300 && answer.status < 400, where).toBe(false);
  expect(answer.contentType, where).toMatch(/^application\/json/);
  const body = JSON.parse(answer.text);
  if (answer.status >= 400) expectErrorShape(body, answer.status, where);
  return body;
}

export function expectErrorShape(body: any, status: number, where: string): void {
  expect(body !== null && typeof body === 'object' && !Array.isArray(body), where).toBe(true);
  expect(Object.keys(body), where).toEqual(['error']);
  const error = body.error;
  expect(error !== null && typeof error === 'object' && !Array.isArray(error), where).toBe(true);
  const keys = Object.keys(error);
  expect(keys.slice(0, 2), where).toEqual(['code', 'message']);
  expect(keys.length === 2 || (keys.length === 3 && keys[2] === 'details'), where).toBe(true);
  expect(typeof error.code, where).toBe('string');
  expect(typeof error.message, where).toBe('string');
  expect(Object.keys(ERROR_CATALOGUE), where).toContain(error.code);
  expect(ERROR_CATALOGUE[error.code as keyof typeof ERROR_CATALOGUE].status, where).toBe(status);
}

/** The process still answers its liveness probe. */
export async function expectAlive(base: string): Promise<void> {
  const res = await fetch(`${base}/livez`);
  expect(res.status).toBe(200);
  await res.text();
}

/** Log events that are a finding whatever the input: an exception somewhere, or a silent loss. */
const TROUBLE =
  /"level":(?:50|60)|"event":"(?:evaluator_disagreement|dead_letter_unsent|event_failed|request_failed)"/;

/**
 * What the sidecar logged since the last call (an app started with captureLogs) that is trouble:
 * anything at error level or above, an evaluator disagreement, a dead letter left unsent. Call it
 * right after an answer, before asserting on the answer, so that the lines are its own.
 */
export function troubleWatch(logs: () => string): () => string[] {
  let seen = 0;
  return () => {
    const text = logs();
    const fresh = text.slice(seen);
    seen = text.length;
    return fresh
      .split('\n')
      .filter((line) => TROUBLE.test(line))
      .map((line) => line.slice(0, 1_000));
  };
}
