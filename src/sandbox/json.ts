// JSON in and out of the simulators: parsing that never throws (they must survive whatever a client
// sends), and the masked copy of what their `/__sim` views answer.
import { maskSecret, SECRET_HEADER } from '../domain/secrets.js';

export type JsonResult = { ok: true; value: unknown } | { ok: false };

// One request's body is read by the request log, the action lookup and the API: parsed once. The
// value is shared between them, so nobody may change it (the books keep it as the last event seen).
const parsedBodies = new WeakMap<Buffer, JsonResult>();

export function parseJson(bytes: Buffer | string): JsonResult {
  if (typeof bytes === 'string') return parseText(bytes);
  const known = parsedBodies.get(bytes);
  if (known !== undefined) return known;
  const parsed = parseText(bytes.toString('utf8'));
  parsedBodies.set(bytes, parsed);
  return parsed;
}

function parseText(text: string): JsonResult {
  if (text.length === 0) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Fields that hold a provider credential in what the simulators keep: PagerDuty's routing key. */
const CREDENTIAL_KEYS = new Set(['routing_key', 'routingKey', 'api_key', 'apiKey']);

/**
 * A copy of a `/__sim` answer with every credential masked (`****` and its last four): the routing
 * keys the simulators were sent (they keep them: a resolve must name the trigger's), and in a
 * `headers` object every credential-named header (the webhook token of the webhooks they send). A
 * sandbox run with real keys in its environment must not show them to whoever reaches the
 * simulators' ports. The in-process API (`requests()`, `incidents()`, `webhooks()`) keeps them.
 */
export function maskCredentials(value: unknown, depth = 0, inHeaders = false): unknown {
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (Array.isArray(value)) return value.map((v) => maskCredentials(v, depth + 1));
  const secret = (key: string): boolean => CREDENTIAL_KEYS.has(key) || (inHeaders && SECRET_HEADER.test(key));
  // fromEntries defines own properties: a `__proto__` key a client sent stays a plain field.
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [
      key,
      secret(key) && typeof v === 'string' ? maskSecret(v) : maskCredentials(v, depth + 1, key === 'headers'),
    ]),
  );
}
