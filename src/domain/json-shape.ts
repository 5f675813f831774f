// Walks over untrusted JSON values without recursion. JSON.parse reads 9,000 nested objects in
// 60 KB without complaint, but every recursive walk after it (a key scan, JSON.stringify when the
// incident is stored) overflows the stack on them: the depth is checked first, iteratively, and
// everything after it can trust the shape (docs/http-api.md, "Limits").

/** Nesting allowed in anything we receive: an event, an alert, a webhook, a request body. */
export const MAX_JSON_DEPTH = 32;

/** Keys that could reach Object.prototype when a parsed value is copied. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

// Both walks below keep parallel stacks rather than a tuple per object, and build a dotted path
// only for an object they descend into: they run on every event received, and their garbage was
// about a tenth of a repeat's (docs/performance.md, "Against Alertmanager").

/** Whether objects and arrays nest deeper than `max` levels (a scalar is depth 0). */
export function nestsDeeperThan(root: unknown, max: number): boolean {
  if (root === null || typeof root !== 'object') return false;
  const values: object[] = [root];
  const depths: number[] = [1];
  for (let value = values.pop(); value !== undefined; value = values.pop()) {
    const depth = depths.pop() as number;
    if (depth > max) return true;
    for (const key in value) {
      const child = (value as Record<string, unknown>)[key];
      if (child !== null && typeof child === 'object') {
        values.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

/**
 * `nestsDeeperThan` for the text of a valid JSON document (one JSON.parse accepted), read without
 * the value: brackets outside strings. A request body's walk of its parsed value (`for…in` over
 * every event of an `/events` array) was 15% of the sidecar's CPU on repeats; the scan of its text
 * is a twentieth of that (docs/performance.md, "Against Alertmanager").
 */
export function textNestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** The dotted path of the first key named `__proto__`, `constructor` or `prototype`, or null. */
export function findForbiddenKey(root: unknown): string | null {
  if (root === null || typeof root !== 'object') return null;
  const values: object[] = [root];
  const paths: string[] = [''];
  for (let value = values.pop(); value !== undefined; value = values.pop()) {
    const path = paths.pop() as string;
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      if (FORBIDDEN_KEYS.has(key)) return path === '' ? key : `${path}.${key}`;
      const child = (value as Record<string, unknown>)[key];
      if (child !== null && typeof child === 'object') {
        values.push(child);
        paths.push(path === '' ? key : `${path}.${key}`);
      }
    }
  }
  return null;
}

/**
 * A deep copy of a JSON value (an incident as stored): about 7× faster than `structuredClone` on an
 * incident, which the embedded backend copies at every change. Recursive: what reaches it was
 * depth-checked at the boundary (`MAX_JSON_DEPTH`). A `__proto__` key is copied as a key.
 */
export function cloneJson<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = cloneJson(value[i]);
    return out as T;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value))
    setJsonKey(out, key, cloneJson((value as Record<string, unknown>)[key]));
  return out as T;
}

/**
 * Sets `out[key]` as JSON.parse would: a `__proto__` key is data (assigned, it would replace the
 * prototype instead).
 */
export function setJsonKey(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}
