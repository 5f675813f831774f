// JSON parsing that never throws: simulators must survive whatever a client sends.

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
