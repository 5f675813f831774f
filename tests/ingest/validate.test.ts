// Event validation at the boundary (src/ingest/validate.ts): string limits count characters, as
// JSON Schema's maxLength does, though ajv no longer counts them for every string.
import { describe, expect, it } from 'vitest';
import { parseEvent, validateEvent } from '../../src/ingest/validate.js';

const base = { timestamp: '2026-11-23T10:00:00Z', service: 'checkout', level: 'error', message: 'boom' };
const errorsOf = (value: unknown): string[] => {
  const v = validateEvent(value);
  return v.ok ? [] : v.errors;
};

describe('event validation', () => {
  it('limits strings by characters, a surrogate pair counting once', () => {
    expect(errorsOf({ ...base, message: 'x'.repeat(65_536) })).toEqual([]);
    expect(errorsOf({ ...base, message: 'x'.repeat(65_537) })).toEqual([
      'message: must NOT have more than 65536 characters',
    ]);
    // 40,000 characters in 80,000 UTF-16 code units: within the limit.
    expect(errorsOf({ ...base, message: '🔥'.repeat(40_000) })).toEqual([]);
    expect(errorsOf({ ...base, message: '🔥'.repeat(65_537) })).toEqual([
      'message: must NOT have more than 65536 characters',
    ]);
    expect(errorsOf({ ...base, service: '🔥'.repeat(128) })).toEqual([]);
    expect(errorsOf({ ...base, service: 'é'.repeat(129) })).toEqual([
      'service: must NOT have more than 128 characters',
    ]);
    expect(errorsOf({ ...base, host: 'h'.repeat(256), trace_id: 't'.repeat(129) })).toEqual([
      'host: must NOT have more than 255 characters',
      'trace_id: must NOT have more than 128 characters',
    ]);
  });

  it('reports a length error beside the schema errors of the same event', () => {
    expect(errorsOf({ ...base, level: 'loud', source: 's'.repeat(129), service: '' })).toEqual([
      'service: must NOT have fewer than 1 characters',
      'level: must be one of trace, debug, info, notice, warn, warning, error, fatal, critical',
      'source: must NOT have more than 128 characters',
    ]);
    expect(errorsOf({ ...base, message: 42 })).toEqual(['message: must be string']);
  });

  it('reads raw NATS payloads the same way', () => {
    const raw = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
    // Valid: the event, and the text it came as (the recent-events ring may store that).
    expect(parseEvent(raw(base))).toEqual({ ok: true, value: base, text: JSON.stringify(base) });
    expect(parseEvent(raw({ ...base, timestamp: '2026-02-30T10:00:00Z' }))).toEqual({
      ok: false,
      errors: ['timestamp: must be an RFC 3339 date-time'],
    });
    expect(parseEvent(raw({ ...base, message: 'x'.repeat(65_537) }))).toEqual({
      ok: false,
      errors: ['message: must NOT have more than 65536 characters'],
    });
  });
});
