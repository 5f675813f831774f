// The event timestamp check (src/ingest/date-time.ts) against ajv-formats' `date-time`, which it
// replaces on the hot path: the same answer for edge cases and for many generated near-timestamps.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { rng } from '../helpers/random.js';
import { isDateTime } from '../../src/ingest/date-time.js';

const ajv = new Ajv2020();
(addFormatsModule as unknown as { default: (a: Ajv2020, formats: string[]) => void }).default(ajv, [
  'date-time',
]);
const reference = ajv.compile({ type: 'string', format: 'date-time' });

const EDGE_CASES = [
  '2026-11-23T10:00:00Z',
  '2026-11-23T10:00:00.123456Z',
  '2026-11-23t10:00:00z',
  '2026-11-23 10:00:00Z',
  '2026-11-23\u00a010:00:00Z',
  '2026-11-23T10:00:00+01:00',
  '2026-11-23T10:00:00-0130',
  '2026-11-23T10:00:00+01',
  '2026-11-23T10:00:00',
  '2026-11-23T10:00Z',
  '2026-11-23T24:00:00Z',
  '2026-11-23T23:60:00Z',
  '2026-11-23T10:00:60Z',
  '2016-12-31T23:59:60Z',
  '2016-12-31T23:59:60.5Z',
  '2016-12-31T23:59:61Z',
  '2016-12-31T22:59:60-01:00',
  '2017-01-01T00:59:60+01:00',
  '2016-12-31T12:59:60Z',
  '2024-02-29T00:00:00Z',
  '2023-02-29T00:00:00Z',
  '1900-02-29T00:00:00Z',
  '2000-02-29T00:00:00Z',
  '2026-04-31T00:00:00Z',
  '2026-00-10T00:00:00Z',
  '2026-13-10T00:00:00Z',
  '2026-11-00T00:00:00Z',
  '2026-11-23T10:00:00+24:00',
  '2026-11-23T10:00:00+23:60',
  '2026-11-23T10:00:00.Z',
  '2026-11-23TT10:00:00Z',
  '2026-11-23T10:00:00Z ',
  ' 2026-11-23T10:00:00Z',
  '2026-11-23T10:00:00ZZ',
  '26-11-23T10:00:00Z',
  '２０２６-11-23T10:00:00Z',
  '',
];

describe('event timestamp format', () => {
  it('agrees with ajv-formats on edge cases', () => {
    for (const text of EDGE_CASES) expect([text, isDateTime(text)]).toEqual([text, reference(text)]);
    expect(isDateTime('2026-11-23T10:00:00Z')).toBe(true);
    expect(isDateTime('2023-02-29T00:00:00Z')).toBe(false);
  });

  it('agrees with ajv-formats on 50,000 mutated timestamps', () => {
    const random = rng(7);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const digits = (n: number, max: number): string => String(Math.floor(random() * max)).padStart(n, '0');
    const ALPHABET = ['0', '5', '9', '-', ':', '.', 'T', 't', ' ', 'Z', 'z', '+', 'x', '\n'];
    let accepted = 0;
    for (let i = 0; i < 50_000; i++) {
      let text =
        `${digits(4, 10_000)}-${digits(2, 14)}-${digits(2, 33)}${pick(['T', 't', ' ', '_'])}` +
        `${digits(2, 26)}:${digits(2, 62)}:${digits(2, 62)}${pick(['', '.5', '.123', '.'])}` +
        pick(['Z', 'z', '', '+01:00', '-05:30', '+0100', '+01', '+24:00', '-00:61']);
      // Mutate about half of them: replace, insert or delete one character.
      if (random() < 0.5) {
        const at = Math.floor(random() * text.length);
        const op = pick(['replace', 'insert', 'delete']);
        const ch = pick(ALPHABET);
        text =
          op === 'replace'
            ? text.slice(0, at) + ch + text.slice(at + 1)
            : op === 'insert'
              ? text.slice(0, at) + ch + text.slice(at)
              : text.slice(0, at) + text.slice(at + 1);
      }
      const expected = reference(text);
      if (isDateTime(text) !== expected) expect([text, isDateTime(text)]).toEqual([text, expected]);
      if (expected) accepted++;
    }
    expect(accepted).toBeGreaterThan(5_000); // the generator makes valid ones too
  });
});
