// Parses fault commands that arrive as JSON on `POST /__sim/faults` (curl, a sidecar test running the
// simulator in another process). Hand-written so a bad command gets a precise answer.
import type { FaultScope, FaultSpec } from './faults.js';
import type { DownOptions } from './http.js';

export type FaultCommand = { kind: 'fault'; spec: FaultSpec } | { kind: 'down'; options: DownOptions };

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: string[] };

const MAX_LATENCY_MS = 600_000;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIntIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

export function parseFaultCommand(input: unknown): Parsed<FaultCommand> {
  if (!isObject(input)) return { ok: false, errors: ['a fault is a JSON object with a "kind"'] };
  const errors: string[] = [];
  if (input['kind'] === 'down') {
    const down = parseDown(input);
    return down.ok ? { ok: true, value: { kind: 'down', options: down.value } } : down;
  }
  if (input['times'] !== undefined && !isIntIn(input['times'], 1, 1_000_000)) {
    errors.push('"times" must be a positive integer (omit it for "until cleared")');
  }
  const scope = parseScope(input['scope'], errors);
  const common = { ...(input['times'] === undefined ? {} : { times: input['times'] as number }), ...scope };
  const spec = parseKind(input, common, errors);
  return spec !== null && errors.length === 0
    ? { ok: true, value: { kind: 'fault', spec } }
    : { ok: false, errors };
}

function parseKind(
  input: Record<string, unknown>,
  common: { times?: number; scope?: FaultScope },
  errors: string[],
): FaultSpec | null {
  switch (input['kind']) {
    case 'status': {
      if (!isIntIn(input['status'], 100, 599)) errors.push('"status" must be an HTTP status (100-599)');
      const retry = input['retryAfterSec'];
      if (retry !== undefined && !isIntIn(retry, 0, 86_400)) errors.push('"retryAfterSec" must be 0-86400');
      return {
        kind: 'status',
        status: input['status'] as number,
        ...(retry === undefined ? {} : { retryAfterSec: retry as number }),
        ...(input['body'] === undefined ? {} : { body: input['body'] }),
        ...common,
      };
    }
    case 'latency':
      if (!isIntIn(input['ms'], 0, MAX_LATENCY_MS)) errors.push(`"ms" must be 0-${MAX_LATENCY_MS}`);
      return { kind: 'latency', ms: input['ms'] as number, ...common };
    case 'hang':
    case 'drop':
      return { kind: input['kind'], ...common };
    default:
      errors.push('"kind" must be one of status, latency, hang, drop, down');
      return null;
  }
}

function parseScope(value: unknown, errors: string[]): { scope?: FaultScope } {
  if (value === undefined) return {};
  if (!isObject(value)) {
    errors.push('"scope" must be an object {path?, action?}');
    return {};
  }
  const scope: FaultScope = {};
  for (const key of ['path', 'action'] as const) {
    const field = value[key];
    if (field === undefined) continue;
    if (typeof field === 'string') scope[key] = field;
    else errors.push(`"scope.${key}" must be a string`);
  }
  return { scope };
}

export function parseDown(input: Record<string, unknown>): Parsed<DownOptions> {
  const errors: string[] = [];
  const mode = input['mode'] ?? 'refuse';
  if (mode !== 'refuse' && mode !== 'close') errors.push('"mode" must be "refuse" or "close"');
  const forMs = input['forMs'];
  if (forMs !== undefined && !isIntIn(forMs, 1, MAX_LATENCY_MS))
    errors.push(`"forMs" must be 1-${MAX_LATENCY_MS}`);
  if (mode === 'close' && forMs === undefined) {
    errors.push(
      'over HTTP, "mode": "close" needs "forMs": nothing can reach a closed listener to bring it back',
    );
  }
  if (errors.length > 0) return { ok: false, errors };
  const options: DownOptions = {
    mode: mode as DownOptions['mode'],
    ...(forMs === undefined ? {} : { forMs: forMs as number }),
  };
  return { ok: true, value: options };
}
