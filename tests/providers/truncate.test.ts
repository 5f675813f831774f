import { describe, expect, it } from 'vitest';
import { parseRetryAfterMs, scrub, statusFailure } from '../../src/providers/http.js';
import {
  budgetDetails,
  detailsSize,
  jsonBytes,
  truncateBytes,
  truncateText,
} from '../../src/providers/truncate.js';
import { hasLoneSurrogate } from './support.js';

describe('truncateText', () => {
  it('keeps text that fits, exactly at the limit too', () => {
    expect(truncateText('abc', 3)).toBe('abc');
    expect(truncateText('a'.repeat(1022) + '😀', 1024)).toBe('a'.repeat(1022) + '😀');
  });

  it('cuts to the limit with an ellipsis', () => {
    expect(truncateText('abcdef', 4)).toBe('abc…');
    expect(truncateText('abcdef', 1)).toBe('…');
    expect(truncateText('abcdef', 0)).toBe('');
  });

  it('never splits a surrogate pair at the boundary', () => {
    const cut = truncateText('a'.repeat(1022) + '😀tail', 1024);
    expect(cut).toBe('a'.repeat(1022) + '…');
    expect(cut.length).toBeLessThanOrEqual(1024);
    expect(hasLoneSurrogate(cut)).toBe(false);
  });

  it('counts UTF-16 units, so the code point count is within the limit as well', () => {
    const cut = truncateText('😀'.repeat(600), 1024);
    expect(cut.length).toBeLessThanOrEqual(1024);
    expect([...cut].length).toBeLessThanOrEqual(1024);
    expect(hasLoneSurrogate(cut)).toBe(false);
  });
});

describe('truncateBytes and jsonBytes', () => {
  it('cuts multi-byte text to a UTF-8 byte budget without splitting characters', () => {
    const cut = truncateBytes('ü😀'.repeat(1000), 1001);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(1001);
    expect(cut.endsWith('…')).toBe(true);
    expect(hasLoneSurrogate(cut)).toBe(false);
  });

  it('measures serialised JSON in bytes', () => {
    expect(jsonBytes({ a: 'ü' })).toBe(Buffer.byteLength('{"a":"ü"}'));
  });
});

describe('budgetDetails', () => {
  it('leaves a map within budget alone', () => {
    expect(budgetDetails({ a: '1', b: '2' }, 10)).toEqual({ a: '1', b: '2' });
  });

  it('truncates the least important (last) entry when that is enough', () => {
    const out = budgetDetails({ first: 'x'.repeat(10), last: 'y'.repeat(100) }, 60);
    expect(out['first']).toBe('x'.repeat(10));
    expect(out['last']).toMatch(/^y+…$/);
    expect(detailsSize(out)).toBeLessThanOrEqual(60);
  });

  it('drops the least important entries first, keeping the most important whole', () => {
    const map = { incident_id: 'inc-1', a: 'x'.repeat(5000), b: 'y'.repeat(5000) };
    const out = budgetDetails(map, 8000);
    expect(Object.keys(out)).toEqual(['incident_id', 'a', 'b']);
    expect(out['incident_id']).toBe('inc-1');
    expect(out['a']).toBe('x'.repeat(5000));
    expect(detailsSize(out)).toBeLessThanOrEqual(8000);
    const tight = budgetDetails(map, 5010);
    expect(Object.keys(tight)).toEqual(['incident_id', 'a']);
    expect(detailsSize(tight)).toBeLessThanOrEqual(5010);
  });
});

describe('HTTP helpers', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-11-23T10:00:00Z');
    expect(parseRetryAfterMs('7', now)).toBe(7000);
    expect(parseRetryAfterMs('Mon, 23 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfterMs('Mon, 23 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfterMs(undefined, now)).toBeNull();
    expect(parseRetryAfterMs('soon', now)).toBeNull();
  });

  it('maps statuses to the closed set of reasons', () => {
    expect(statusFailure(400)).toEqual({ reason: 'client_error', retryable: false });
    expect(statusFailure(401)).toEqual({ reason: 'auth_error', retryable: false });
    expect(statusFailure(402)).toEqual({ reason: 'auth_error', retryable: false });
    expect(statusFailure(403)).toEqual({ reason: 'auth_error', retryable: false });
    expect(statusFailure(404)).toEqual({ reason: 'client_error', retryable: false });
    expect(statusFailure(408)).toEqual({ reason: 'timeout', retryable: true });
    expect(statusFailure(422)).toEqual({ reason: 'client_error', retryable: false });
    expect(statusFailure(429)).toEqual({ reason: 'rate_limited', retryable: true });
    expect(statusFailure(503)).toEqual({ reason: 'server_error', retryable: true });
  });

  it('scrubs every occurrence of every secret', () => {
    expect(scrub('key=abc, again abc', ['abc', undefined, ''])).toBe('key=[redacted], again [redacted]');
  });
});
