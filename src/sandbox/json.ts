// JSON parsing that never throws: simulators must survive whatever a client sends.

export type JsonResult = { ok: true; value: unknown } | { ok: false };

export function parseJson(bytes: Buffer | string): JsonResult {
  if (bytes.length === 0) return { ok: false };
  try {
    return {
      ok: true,
      value: JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8')) as unknown,
    };
  } catch {
    return { ok: false };
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
