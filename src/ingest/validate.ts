// Validation of incoming events at the boundary (docs/nats.md, "Input: log events"): JSON Schema via
// ajv, plus what a schema cannot say (attribute size, keys that would poison prototypes, UTF-8). After
// this, the pipeline trusts the types.
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { findForbiddenKey, MAX_JSON_DEPTH, nestsDeeperThan } from '../domain/json-shape.js';
import type { AlertInput, LogEvent } from '../domain/log-event.js';
// schemas/log-event.schema.json and schemas/alert.schema.json compiled ahead of time into plain code
// (scripts/compile-schemas.mjs; committed, and a test fails when it differs from the schemas).
import * as compiled from './event-schemas.generated.js';

/** Attributes may be at most 64 KiB serialized (docs/nats.md, "Input: log events"). */
export const MAX_ATTRIBUTES_BYTES = 65_536;
/** A whole raw event: message (64 KiB) + attributes (64 KiB) + the other fields, with room. */
export const MAX_EVENT_BYTES = 140 * 1024;

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: string[] };

interface LengthLimit {
  field: string;
  max: number;
}

/**
 * The log event's string fields keep their `maxLength` out of the compiled schema: ajv counts the
 * characters of every string it length-checks (UTF-16 surrogate pairs count once), 3% of the
 * sidecar's time at 60,000 events/s for messages far below the limit. A string whose `.length` is
 * within the limit cannot have more characters, so `overLength` counts only the rare string longer
 * than that, with the same result and message as ajv.
 */
const LENGTH_LIMITS: readonly LengthLimit[] = compiled.logEventLengthLimits as LengthLimit[];

function characters(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

function overLength(value: Record<string, unknown>, limits: readonly LengthLimit[]): string[] {
  let errors: string[] | null = null;
  for (const { field, max } of limits) {
    const text = value[field];
    if (typeof text !== 'string' || text.length <= max || characters(text) <= max) continue;
    (errors ??= []).push(`${field}: must NOT have more than ${max} characters`);
  }
  return errors ?? NONE;
}

const NONE: string[] = [];

const validateLogEvent = compiled.validateLogEvent as unknown as ValidateFunction<LogEvent>;
const validateAlertShape = compiled.validateAlertShape as unknown as ValidateFunction<AlertInput>;

function describe(errors: readonly ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const at = e.instancePath === '' ? '' : `${e.instancePath.slice(1).replaceAll('/', '.')}: `;
    if (e.keyword === 'additionalProperties')
      return `${at}unknown field "${String(e.params['additionalProperty'])}"`;
    if (e.keyword === 'enum')
      return `${at}must be one of ${(e.params['allowedValues'] as unknown[]).join(', ')}`;
    if (e.keyword === 'format') return `${at}must be an RFC 3339 date-time`;
    return `${at}${e.message ?? 'is invalid'}`;
  });
}

export function validateEvent(value: unknown): Validated<LogEvent> {
  return checkEvent(value, { scanKeys: true, measureAttributes: true });
}

/** The checks every event passes, however it arrived; the flags skip work the caller proved unneeded. */
function checkEvent(
  value: unknown,
  options: { scanKeys: boolean; measureAttributes: boolean },
): Validated<LogEvent> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, errors: ['an event must be a JSON object'] };
  }
  // Before anything walks it: only `attributes` can nest (the schema makes the rest scalars).
  const nested = (value as { attributes?: unknown }).attributes;
  if (nested !== null && typeof nested === 'object' && nestsDeeperThan(nested, MAX_JSON_DEPTH - 1))
    return { ok: false, errors: [`attributes: nested deeper than ${MAX_JSON_DEPTH} levels`] };
  if (options.scanKeys) {
    const forbidden = findForbiddenKey(value);
    if (forbidden !== null) return { ok: false, errors: [`forbidden key "${forbidden}"`] };
  }
  const valid = validateLogEvent(value);
  const tooLong = overLength(value as Record<string, unknown>, LENGTH_LIMITS);
  if (!valid) return { ok: false, errors: [...describe(validateLogEvent.errors), ...tooLong] };
  if (tooLong.length > 0) return { ok: false, errors: tooLong };
  const attributes = value.attributes;
  if (
    options.measureAttributes &&
    attributes !== undefined &&
    Buffer.byteLength(JSON.stringify(attributes)) > MAX_ATTRIBUTES_BYTES
  ) {
    return { ok: false, errors: [`attributes: larger than ${MAX_ATTRIBUTES_BYTES} bytes serialized`] };
  }
  return { ok: true, value };
}

export function validateAlert(value: unknown): Validated<AlertInput> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, errors: ['an alert must be a JSON object'] };
  }
  if (nestsDeeperThan(value, MAX_JSON_DEPTH))
    return { ok: false, errors: [`the alert nests deeper than ${MAX_JSON_DEPTH} levels`] };
  const forbidden = findForbiddenKey(value);
  if (forbidden !== null) return { ok: false, errors: [`forbidden key "${forbidden}"`] };
  if (!validateAlertShape(value)) return { ok: false, errors: describe(validateAlertShape.errors) };
  return { ok: true, value };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A payload checked as a log event; valid, with its text as it arrived (the recent-events ring keeps it). */
export type ParsedEvent = { ok: true; value: LogEvent; text: string } | { ok: false; errors: string[] };

/**
 * Raw bytes (a NATS payload) → a validated event. Cheap checks first: size, UTF-8, JSON, then the
 * schema. A raw payload under 64 KiB cannot hold oversize attributes, so they are measured only
 * for larger payloads.
 */
export function parseEvent(raw: Uint8Array): ParsedEvent {
  if (raw.byteLength === 0) return { ok: false, errors: ['empty payload'] };
  if (raw.byteLength > MAX_EVENT_BYTES)
    return { ok: false, errors: [`payload of ${raw.byteLength} bytes exceeds ${MAX_EVENT_BYTES}`] };
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    return { ok: false, errors: ['payload is not valid UTF-8'] };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, errors: [`invalid JSON: ${(err as Error).message}`] };
  }
  // JSON.parse makes `__proto__` an own key; scan only when the text could contain one, spelled
  // out or with `\u` escapes (`"\u005f\u005fproto__"` is the same key). A payload under 64 KiB
  // cannot hold oversize attributes.
  const v = checkEvent(value, {
    scanKeys:
      text.includes('__proto__') ||
      text.includes('constructor') ||
      text.includes('prototype') ||
      text.includes('\\u'),
    measureAttributes: raw.byteLength > MAX_ATTRIBUTES_BYTES,
  });
  return v.ok ? { ok: true, value: v.value, text } : v;
}
