// Generators shared by the fuzz suite (issue 11): valid log events, alerts, provider webhooks and
// policies, and hostile mutations of each. Bodies are built as JSON *text* (never through object
// literals), so that `__proto__` keys, duplicate keys, escaped keys and every other oddity reach the
// sidecar exactly as an attacker would send them; raw payloads are bytes, so that invalid UTF-8 can.
//
// FUZZ_SEED (default below) and FUZZ_RUNS (default small, for `npm test`) set every property's
// seed and run count; `npm run fuzz` runs 2,000. A failure prints the seed and the path to replay.
import fc from 'fast-check';
import { stringify } from 'yaml';

// ---------------------------------------------------------------------------------------------
// Run settings

function fromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer (got "${raw}")`);
  return value;
}

export const FUZZ_SEED = fromEnv('FUZZ_SEED', 20_261_124);
/** Runs of the cheapest properties; the others run a share of it (see `fuzzParameters`). */
export const FUZZ_RUNS = fromEnv('FUZZ_RUNS', 30);

/** How long one property may run, shrinking included, before it stops where it is. */
export const FUZZ_TIME_LIMIT_MS = Math.max(120_000, FUZZ_RUNS * 300);
/** vitest's timeout for a test that runs one property. */
export const FUZZ_TEST_TIMEOUT_MS = FUZZ_TIME_LIMIT_MS + 60_000;

/**
 * fc.assert parameters: the fixed seed, and `share` of FUZZ_RUNS runs (at least `min`), for a
 * property whose runs cost more or less than one HTTP request. A property stops after
 * FUZZ_TIME_LIMIT_MS, so that a failure against a dead process is reported rather than shrunk for
 * ever (fast-check then reports the smallest counterexample found so far).
 */
export function fuzzParameters<T>(share = 1, min = 1): fc.Parameters<T> {
  return {
    seed: FUZZ_SEED,
    numRuns: Math.max(min, Math.round(FUZZ_RUNS * share)),
    plugins: [fc.interruptAfterTimeLimit(FUZZ_TIME_LIMIT_MS, { failOnInterrupt: false })],
  };
}

/** A value that fast-check prints as `text` (a 140 KiB payload would otherwise fill the report). */
export function described<T extends object>(value: T, text: string): T {
  Object.defineProperty(value, fc.toStringMethod, { value: () => text, enumerable: false });
  return value;
}

/** The head and tail of a long text, for reports. */
export function preview(text: string, max = 300): string {
  if (text.length <= max) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, max / 2))} … (${text.length} chars) … ${JSON.stringify(text.slice(-max / 2))}`;
}

// ---------------------------------------------------------------------------------------------
// JSON text

/** Serialised JSON, exactly as it goes on the wire. */
export type JsonText = string;

export const str = (s: string): JsonText => JSON.stringify(s);

/** Every UTF-16 unit as a `\uXXXX` escape: the same string to JSON.parse, other bytes on the wire. */
export function escaped(s: string): JsonText {
  let out = '"';
  for (let i = 0; i < s.length; i++) out += `\\u${s.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return `${out}"`;
}

/** One member of an object: the key as parsed, and key and value as written. */
export interface Member {
  key: string;
  keyText: JsonText;
  value: JsonText;
}

export const member = (key: string, value: JsonText, keyText: JsonText = str(key)): Member => ({
  key,
  keyText,
  value,
});

export const objectText = (members: readonly Member[]): JsonText =>
  `{${members.map((m) => `${m.keyText}:${m.value}`).join(',')}}`;

export const arrayText = (items: readonly JsonText[]): JsonText => `[${items.join(',')}]`;

// ---------------------------------------------------------------------------------------------
// Text

export const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

/** Strings that have broken parsers, templates, regexes and terminals before. */
const SPECIAL_TEXT = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u202eevil\u202c',
  '\u200f\u200e',
  '\u2066x\u2069',
  'مرحبا بالعالم',
  'שלום',
  '😀',
  '𝕏𝕏𝕏',
  '\ud800',
  '\udfff',
  'x\ud83dy',
  '\udc00\ud800',
  'e\u0301\u0301\u0301',
  '\ufeff',
  '\u2028\u2029',
  '\r\n',
  '\t',
  '\\',
  '"',
  "'",
  '{service}',
  '{message}',
  '{attributes.__proto__}',
  '${API_TOKEN}',
  '${HOME:-x}',
  '%s%n%x',
  '<script>alert(1)</script>',
  'null',
  'undefined',
  'NaN',
  '-0',
  '1e309',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '.',
  '..',
  '/',
  '%00',
  '*',
  '(a+)+$',
];

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const bidi = fc.constantFrom('\u202e', '\u202d', '\u200f', '\u061c', '\u2067', 'ש', 'ع');
const oneCodePoint = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 });

/** Any text, short: ASCII, graphemes, any code point, lone surrogates, RTL, NUL, oddities. */
export function anyText(maxLength = 40): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength }) },
    {
      weight: 1,
      arbitrary: fc.string({ unit: fc.oneof(oneCodePoint, loneSurrogate, bidi), maxLength }),
    },
    { weight: 2, arbitrary: fc.constantFrom(...SPECIAL_TEXT) },
  );
}

/**
 * Text percent-encoded as UTF-8 for a URL (encodeURIComponent throws on lone surrogates: they go as
 * U+FFFD, as a browser would send them).
 */
export function percentEncoded(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Text rendered as JSON: usually plainly, sometimes with every unit escaped. */
export function textJson(text: fc.Arbitrary<string>): fc.Arbitrary<JsonText> {
  return fc.tuple(text, fc.nat(9)).map(([s, r]) => (r === 0 ? escaped(s) : str(s)));
}

/** A long text of `length` code points of one kind (ASCII, 2-, 3-byte, astral, NUL, lone surrogate). */
export const FILL_UNITS = ['a', 'é', '€', '😀', '\u0000', '\ud800'] as const;
export const fillText = (unit: string, length: number): string => unit.repeat(length);

/** Lengths around a limit: just under, at, just over, and well over. */
export function around(limit: number): fc.Arbitrary<number> {
  return fc.oneof(
    fc.constantFrom(limit - 1, limit, limit + 1),
    fc.integer({ min: Math.max(0, limit - 64), max: limit + 64 }),
    fc.constantFrom(Math.floor(limit * 1.5)),
  );
}

// ---------------------------------------------------------------------------------------------
// Arbitrary JSON values as text (keys may be anything, including the forbidden ones)

const SAFE_KEY = anyText(12).filter((k) => !(FORBIDDEN_KEYS as readonly string[]).includes(k));

const scalarJson: fc.Arbitrary<JsonText> = fc.oneof(
  textJson(anyText(30)),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.constantFrom(
    'true',
    'false',
    'null',
    '0',
    '-0',
    '1e308',
    '1e309',
    '-1e309',
    '1E-400',
    '123456789012345678901234567890',
  ),
);

/** A JSON value as text, nested up to `depth` levels, with keys from `key`. */
export function jsonText(depth: number, key: fc.Arbitrary<string> = SAFE_KEY): fc.Arbitrary<JsonText> {
  const { value } = fc.letrec<{ value: JsonText; object: JsonText; array: JsonText }>((tie) => ({
    value: fc.oneof({ depthSize: 'small', maxDepth: depth }, scalarJson, tie('object'), tie('array')),
    object: fc
      .array(fc.tuple(key, tie('value')), { maxLength: 4 })
      .map((pairs) => objectText(pairs.map(([k, v]) => member(k, v)))),
    array: fc.array(tie('value'), { maxLength: 4 }).map(arrayText),
  }));
  return value;
}

/** A JSON object as text (attributes, details). */
export function jsonObjectText(depth: number, key: fc.Arbitrary<string> = SAFE_KEY): fc.Arbitrary<JsonText> {
  return fc
    .array(fc.tuple(key, jsonText(depth - 1, key)), { maxLength: 5 })
    .map((pairs) => objectText(pairs.map(([k, v]) => member(k, v))));
}

/** `depth` levels of objects (or arrays) around a scalar. */
export function nested(depth: number, shape: 'object' | 'array' | 'mixed' = 'object'): JsonText {
  if (shape === 'array') return '['.repeat(depth) + '1' + ']'.repeat(depth);
  if (shape === 'object') return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    open += i % 2 === 0 ? '{"a":' : '[';
    close = (i % 2 === 0 ? '}' : ']') + close;
  }
  return `${open}1${close}`;
}

export const DEPTHS = fc.oneof(
  fc.integer({ min: 1, max: 40 }),
  fc.constantFrom(31, 32, 33, 63, 64, 65, 1_000, 9_000, 10_000),
);

// ---------------------------------------------------------------------------------------------
// Log events (schemas/log-event.schema.json)

export const LEVELS = [
  'trace',
  'debug',
  'info',
  'notice',
  'warn',
  'warning',
  'error',
  'fatal',
  'critical',
] as const;
/** Levels the shipped policy never pages for on their own (keeps the NATS runs quick). */
export const QUIET_LEVELS = ['trace', 'debug', 'info', 'notice', 'warn', 'warning'] as const;
/** Services of the shipped policy's catalogue. */
export const SERVICES = [
  'payment-service',
  'user-auth',
  'api-gateway',
  'order-service',
  'search',
  'recommendation',
];

const date = fc.date({
  min: new Date('1970-01-01T00:00:00Z'),
  max: new Date('9999-12-31T23:59:59Z'),
  noInvalidDate: true,
});

/** RFC 3339 date-times in the spellings the standard allows. */
export const timestamp: fc.Arbitrary<string> = fc.tuple(date, fc.nat(7)).map(([d, form]) => {
  const iso = d.toISOString();
  switch (form) {
    case 0:
      return iso.replace(/\.\d+Z$/, 'Z');
    case 1:
      return iso.replace('Z', '+05:30');
    case 2:
      return iso.replace('Z', '-00:00');
    case 3:
      return iso.replace('T', 't').replace('Z', 'z');
    case 4:
      return iso.replace('Z', '123456Z');
    default:
      return iso;
  }
});

/** Strings that are not RFC 3339 date-times, or only just are. */
export const oddTimestamp = fc.oneof(
  fc.constantFrom(
    '2026-02-30T00:00:00Z',
    '2026-02-29T00:00:00Z',
    '2024-02-29T00:00:00Z',
    '2026-11-24T24:00:00Z',
    '2026-11-24T23:59:60Z',
    '2026-12-31T23:59:60Z',
    '2026-11-24T15:00:00',
    '2026-11-24 15:00:00Z',
    '2026-11-24T15:00:00+0530',
    '2026-11-24T15:00:00+05',
    '2026-11-24T15:00:00+24:00',
    '2026-11-24T15:00:00.Z',
    '0000-01-01T00:00:00Z',
    '+012026-11-24T15:00:00Z',
    '2026-11-24',
    '15:00:00Z',
    'now',
    '',
    '2026-11-24T15:00:00Z\n',
    ' 2026-11-24T15:00:00Z',
    '２０２６-11-24T15:00:00Z',
  ),
  anyText(30),
);

export interface EventFields {
  timestamp: string;
  service: string;
  level: string;
  message: string;
  source?: string;
  host?: string;
  trace_id?: string;
  /** Already JSON text. */
  attributes?: JsonText;
}

export function eventMembers(e: EventFields): Member[] {
  const members = [
    member('timestamp', str(e.timestamp)),
    member('service', str(e.service)),
    member('level', str(e.level)),
    member('message', str(e.message)),
  ];
  if (e.source !== undefined) members.push(member('source', str(e.source)));
  if (e.host !== undefined) members.push(member('host', str(e.host)));
  if (e.trace_id !== undefined) members.push(member('trace_id', str(e.trace_id)));
  if (e.attributes !== undefined) members.push(member('attributes', e.attributes));
  return members;
}

/** A valid log event; `quiet` keeps to levels that do not page on their own. */
export function validEventFields(options: { quiet?: boolean } = {}): fc.Arbitrary<EventFields> {
  const levels = options.quiet ? QUIET_LEVELS : LEVELS;
  const short = (max: number) => anyText(Math.min(max, 24));
  return fc.record(
    {
      timestamp,
      service: fc.oneof(
        fc.constantFrom(...SERVICES),
        short(128).filter((s) => s.length > 0),
      ),
      level: fc.constantFrom(...levels),
      message: anyText(120),
      source: fc.oneof(fc.constantFrom('database', 'cache', 'http'), short(128)),
      host: short(255),
      trace_id: short(128),
      attributes: jsonObjectText(4),
    },
    { requiredKeys: ['timestamp', 'service', 'level', 'message'] },
  );
}

export const validEventText = (options: { quiet?: boolean } = {}): fc.Arbitrary<JsonText> =>
  validEventFields(options).map((e) => objectText(eventMembers(e)));

// ---------------------------------------------------------------------------------------------
// Hostile mutations of an object's members

/** A mutation of a JSON object's members; `what` says what it did, for reports. */
export interface Mutation {
  what: string;
  apply(members: Member[]): Member[];
}

const wrongValue: fc.Arbitrary<JsonText> = fc.constantFrom(
  '0',
  '-1',
  '1.5',
  '1e309',
  '123456789012345678901234567890',
  'null',
  'true',
  'false',
  '[]',
  '["a"]',
  '{}',
  '{"a":1}',
  '""',
  '[null]',
);

const withValue = (key: string, value: JsonText) => (members: Member[]) => {
  const found = members.some((m) => m.key === key);
  return found ? members.map((m) => (m.key === key ? { ...m, value } : m)) : [...members, member(key, value)];
};

/** Where a forbidden key goes: at the top, in a free-form object, or deep inside one. */
function protoMutation(freeForm: string): fc.Arbitrary<Mutation> {
  return fc
    .record({
      key: fc.constantFrom(...FORBIDDEN_KEYS),
      escape: fc.boolean(),
      where: fc.constantFrom('top', 'inside', 'deep'),
      value: fc.constantFrom('{"polluted":true}', '{"isAdmin":true}', 'null', '1', '{"toString":1}', '[]'),
    })
    .map(({ key, escape, where, value }) => {
      const keyText = escape ? escaped(key) : str(key);
      const entry = `${keyText}:${value}`;
      return {
        what: `${escape ? 'escaped ' : ''}${key} key ${where === 'top' ? 'at the top' : `${where} ${freeForm}`}`,
        apply: (members: Member[]) =>
          where === 'top'
            ? [...members, member(key, value, keyText)]
            : withValue(
                freeForm,
                where === 'inside' ? `{"ok":1,${entry}}` : `{"a":{"b":[{${entry}}]}}`,
              )(members),
      };
    });
}

/**
 * Mutations of a record with these string fields (with their limits) and one free-form object
 * field: wrong types, missing and extra fields, duplicate and forbidden keys, deep nesting, long
 * strings near the limits.
 */
export function recordMutations(shape: {
  required: readonly string[];
  strings: Readonly<Record<string, number>>;
  enums: Readonly<Record<string, readonly string[]>>;
  freeForm: string;
  /** Serialized bytes allowed in the free-form field, if bounded. */
  freeFormBytes?: number;
}): fc.Arbitrary<Mutation> {
  const fields = [...Object.keys(shape.strings), ...Object.keys(shape.enums), shape.freeForm];
  const field = fc.constantFrom(...fields);
  const [small, big] = mutationKinds(shape, field);
  // Large values cost time on every surface: one mutation in five is one.
  return fc.oneof({ weight: 4, arbitrary: small }, { weight: 1, arbitrary: big });
}

function mutationKinds(
  shape: Parameters<typeof recordMutations>[0],
  field: fc.Arbitrary<string>,
): [fc.Arbitrary<Mutation>, fc.Arbitrary<Mutation>] {
  const small = fc.oneof(
    fc.constantFrom(...shape.required).map((f) => ({
      what: `without ${f}`,
      apply: (ms: Member[]) => ms.filter((m) => m.key !== f),
    })),
    fc.tuple(field, wrongValue).map(([f, v]) => ({ what: `${f} = ${v}`, apply: withValue(f, v) })),
    fc
      .tuple(fc.constantFrom(...Object.keys(shape.enums)), anyText(12))
      .chain(([f, text]) =>
        fc
          .constantFrom(
            text,
            (shape.enums[f] ?? [])[0]?.toUpperCase() ?? 'X',
            `${(shape.enums[f] ?? [])[0] ?? ''} `,
            `${(shape.enums[f] ?? [])[0] ?? ''}\u0000`,
          )
          .map((v) => ({ what: `${f} = ${str(v)}`, apply: withValue(f, str(v)) })),
      ),
    fc
      .tuple(
        fc.oneof(fc.constantFrom('extra', 'Service', 'severity', 'level ', 'id'), anyText(10)),
        jsonText(2),
      )
      .map(([k, v]) => ({
        what: `extra field ${str(k)}`,
        apply: (ms: Member[]) => (ms.some((m) => m.key === k) ? ms : [...ms, member(k, v)]),
      })),
    fc.tuple(field, jsonText(1), fc.boolean()).map(([f, v, first]) => ({
      what: `duplicate ${f} (${first ? 'first' : 'last'} = ${v.slice(0, 40)})`,
      apply: (ms: Member[]) => (first ? [member(f, v), ...ms] : [...ms, member(f, v)]),
    })),
    protoMutation(shape.freeForm),
  );
  const big = fc.oneof(
    fc
      .tuple(
        DEPTHS,
        fc.constantFrom('object', 'array', 'mixed') as fc.Arbitrary<'object' | 'array' | 'mixed'>,
      )
      .map(([depth, form]) => ({
        what: `${shape.freeForm} nested ${depth} levels (${form})`,
        apply: withValue(shape.freeForm, `{"n":${nested(depth, form)}}`),
      })),
    fc
      .tuple(fc.constantFrom(...Object.keys(shape.strings)), fc.constantFrom(...FILL_UNITS))
      .chain(([f, unit]) =>
        around(shape.strings[f] as number).map((n) => ({
          what: `${f} of ${n} × ${str(unit)}`,
          apply: withValue(f, str(fillText(unit, n))),
        })),
      ),
    ...(shape.freeFormBytes === undefined
      ? []
      : [
          fc
            .tuple(around(shape.freeFormBytes), fc.constantFrom('a', '€', '\u0000'), fc.nat(3))
            .map(([bytes, unit, escapeDraw]) => {
              const escape = escapeDraw === 0;
              // `{"pad":"…"}` of about `bytes` bytes serialized by JSON.stringify.
              const unitBytes = unit === '€' ? 3 : unit === '\u0000' ? 6 : 1;
              const padding = fillText(unit, Math.max(0, Math.floor((bytes - 10) / unitBytes)));
              return {
                what: `${shape.freeForm} of about ${bytes} bytes of ${str(unit)}${escape ? ' (escaped)' : ''}`,
                apply: withValue(shape.freeForm, `{"pad":${escape ? escaped(padding) : str(padding)}}`),
              };
            }),
        ]),
  );
  return [small, big];
}

export const EVENT_SHAPE = {
  required: ['timestamp', 'service', 'level', 'message'],
  strings: { service: 128, message: 65_536, source: 128, host: 255, trace_id: 128 },
  enums: { level: LEVELS },
  freeForm: 'attributes',
  freeFormBytes: 65_536,
} as const;

export const eventMutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: recordMutations(EVENT_SHAPE) },
  {
    weight: 1,
    arbitrary: oddTimestamp.map((v) => ({
      what: `timestamp = ${str(v)}`,
      apply: withValue('timestamp', str(v)),
    })),
  },
);

// ---------------------------------------------------------------------------------------------
// Raw payloads: bytes, and what made them

export interface Payload {
  what: string;
  bytes: Uint8Array;
}

export function payload(what: string, bytes: Uint8Array | string): Payload {
  const data = typeof bytes === 'string' ? new Uint8Array(Buffer.from(bytes, 'utf8')) : bytes;
  const shown = Buffer.from(data).toString('utf8');
  return described({ what, bytes: data }, `${what}: ${data.byteLength} bytes ${preview(shown, 200)}`);
}

/** Byte sequences that are not UTF-8: stray continuation, overlong, surrogate, beyond U+10FFFF, cut. */
export const INVALID_UTF8: readonly (readonly number[])[] = [
  [0xff],
  [0x80],
  [0xc3, 0x28],
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
];

/** The NATS payload limit (src/ingest/validate.ts MAX_EVENT_BYTES), as the spec states it: 140 KiB. */
export const MAX_NATS_EVENT_BYTES = 140 * 1024;

export interface ByteMutation {
  what: string;
  apply(bytes: Uint8Array): Uint8Array;
}

const splice = (bytes: Uint8Array, at: number, insert: readonly number[]): Uint8Array => {
  const i = Math.min(at, bytes.length);
  return new Uint8Array(Buffer.concat([bytes.subarray(0, i), Uint8Array.from(insert), bytes.subarray(i)]));
};

/** Mutations of the bytes of a body: cut, invalid UTF-8, raw control bytes, BOM, padding. */
export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.double({ min: 0, max: 1, noNaN: true }).map((f) => ({
    what: `cut at ${Math.round(f * 100)}%`,
    apply: (b: Uint8Array) => b.subarray(0, Math.floor(b.length * f)),
  })),
  fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(...INVALID_UTF8)).map(([f, seq]) => ({
    what: `invalid UTF-8 ${seq.map((x) => x.toString(16)).join(' ')} at ${Math.round(f * 100)}%`,
    apply: (b: Uint8Array) => splice(b, Math.floor(b.length * f), seq),
  })),
  fc
    .tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0x00, 0x0a, 0x0d, 0x1b, 0x7f))
    .map(([f, c]) => ({
      what: `raw byte ${c.toString(16)} at ${Math.round(f * 100)}%`,
      apply: (b: Uint8Array) => splice(b, Math.floor(b.length * f), [c]),
    })),
  fc.constant({ what: 'BOM first', apply: (b: Uint8Array) => splice(b, 0, [0xef, 0xbb, 0xbf]) }),
  fc.constant({
    what: 'UTF-16LE',
    apply: (b: Uint8Array) => new Uint8Array(Buffer.from(Buffer.from(b).toString('utf8'), 'utf16le')),
  }),
  fc.tuple(around(MAX_NATS_EVENT_BYTES), fc.constantFrom(' ', '\n', '\t')).map(([size, ws]) => ({
    what: `padded with ${str(ws)} to ${size} bytes`,
    apply: (b: Uint8Array) =>
      b.length >= size ? b : new Uint8Array(Buffer.concat([b, Buffer.from(ws.repeat(size - b.length))])),
  })),
);

/** Bodies that are not a JSON object at all. */
export const nonObjectBody: fc.Arbitrary<Payload> = fc.oneof(
  fc
    .constantFrom(
      '',
      ' ',
      '\n\t ',
      'null',
      '1',
      '-1e999',
      '"x"',
      '[]',
      '[{}]',
      'true',
      '{}',
      '{',
      '}',
      '[',
      '{"a":}',
      "{'a':1}",
      '{"a":1,}',
      'NaN',
      '\u0000',
    )
    .map((t) => payload(`body ${str(t)}`, t)),
  fc.uint8Array({ maxLength: 64 }).map((b) => payload('random bytes', b)),
  jsonText(3).map((t) => payload('a JSON value', t)),
  DEPTHS.map((d) => payload(`${d} nested arrays`, nested(d, 'array'))),
);

/** A mutated event, still JSON text (to be embedded in a larger body). */
export interface MutatedText {
  what: string;
  text: JsonText;
}

function mutated(members: Member[], mutations: readonly Mutation[], kind: string): MutatedText {
  const text = objectText(mutations.reduce((ms, m) => m.apply(ms), members));
  const what = `${kind}: ${mutations.map((m) => m.what).join('; ')}`;
  return described({ what, text }, `${what}: ${preview(text, 200)}`);
}

/** A valid (quiet) event with one to three member mutations, as JSON text. */
export const hostileEventText: fc.Arbitrary<MutatedText> = fc
  .tuple(validEventFields({ quiet: true }), fc.array(eventMutation, { minLength: 1, maxLength: 3 }))
  .map(([fields, mutations]) => mutated(eventMembers(fields), mutations, 'event'));

/** A mutated text as a payload, maybe with its bytes mutated too. */
function withBytes(m: MutatedText, bytes: ByteMutation | null): Payload {
  const raw = new Uint8Array(Buffer.from(m.text, 'utf8'));
  return bytes === null ? payload(m.what, raw) : payload(`${m.what}; ${bytes.what}`, bytes.apply(raw));
}

/** A hostile event payload: a valid event with member mutations, then maybe a byte mutation. */
export const hostileEvent: fc.Arbitrary<Payload> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(hostileEventText, fc.option(byteMutation, { freq: 4 }))
      .map(([m, bytes]) => withBytes(m, bytes)),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(validEventText({ quiet: true }), byteMutation)
      .map(([text, m]) => payload(`event: ${m.what}`, m.apply(new Uint8Array(Buffer.from(text))))),
  },
  { weight: 2, arbitrary: nonObjectBody },
);

/** A valid event payload (quiet: pages nobody on its own). */
export const validEvent = (options: { quiet?: boolean } = {}): fc.Arbitrary<Payload> =>
  validEventText(options).map((t) => payload('valid event', t));

// ---------------------------------------------------------------------------------------------
// Alerts (schemas/alert.schema.json)

export const ALERT_SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;

export interface AlertFields {
  title: string;
  source: string;
  severity: string;
  service_name: string;
  description?: string;
  details?: JsonText;
}

export function alertMembers(a: AlertFields): Member[] {
  const members = [
    member('title', str(a.title)),
    member('source', str(a.source)),
    member('severity', str(a.severity)),
    member('service_name', str(a.service_name)),
  ];
  if (a.description !== undefined) members.push(member('description', str(a.description)));
  if (a.details !== undefined) members.push(member('details', a.details));
  return members;
}

/** A valid alert; `quiet` keeps to severity info (recorded, never paged). */
export function validAlertFields(options: { quiet?: boolean } = {}): fc.Arbitrary<AlertFields> {
  const nonEmpty = anyText(24).filter((s) => s.length > 0);
  return fc.record(
    {
      title: nonEmpty,
      source: nonEmpty,
      severity: options.quiet ? fc.constant('info') : fc.constantFrom(...ALERT_SEVERITIES),
      service_name: fc.oneof(fc.constantFrom(...SERVICES), nonEmpty),
      description: anyText(80),
      details: jsonObjectText(4),
    },
    { requiredKeys: ['title', 'source', 'severity', 'service_name'] },
  );
}

export const ALERT_SHAPE = {
  required: ['title', 'source', 'severity', 'service_name'],
  strings: { title: 65_536, source: 128, service_name: 128, description: 65_536 },
  enums: { severity: ALERT_SEVERITIES },
  freeForm: 'details',
} as const;

/** A valid (quiet) alert with one to three member mutations, as JSON text. */
export const hostileAlertText: fc.Arbitrary<MutatedText> = fc
  .tuple(
    validAlertFields({ quiet: true }),
    fc.array(recordMutations(ALERT_SHAPE), { minLength: 1, maxLength: 3 }),
  )
  .map(([fields, mutations]) => mutated(alertMembers(fields), mutations, 'alert'));

export const hostileAlert: fc.Arbitrary<Payload> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(hostileAlertText, fc.option(byteMutation, { freq: 4 }))
      .map(([m, bytes]) => withBytes(m, bytes)),
  },
  { weight: 2, arbitrary: nonObjectBody },
);

export const validAlert = (options: { quiet?: boolean } = {}): fc.Arbitrary<Payload> =>
  validAlertFields(options).map((a) => payload('valid alert', objectText(alertMembers(a))));

// ---------------------------------------------------------------------------------------------
// Provider webhooks (src/webhooks/pagerduty.ts, opsgenie.ts; tests/webhooks/support.ts)

/** Ids and keys of real incidents, so that some webhooks match one and change it. */
export interface KnownIncidents {
  providerKeys: readonly string[];
  pagerdutyIds: readonly string[];
  opsgenieIds: readonly string[];
}

export const PAGERDUTY_EVENT_TYPES = [
  'incident.triggered',
  'incident.acknowledged',
  'incident.unacknowledged',
  'incident.resolved',
  'incident.reopened',
  'incident.escalated',
  'incident.reassigned',
  'incident.priority_updated',
  'incident.annotated',
  'pagey.ping',
  'service.updated',
  'incident.delegated',
  // Names every object literal answers to.
  'constructor',
  'toString',
  'hasOwnProperty',
  '__proto__',
  'valueOf',
] as const;

export const OPSGENIE_ACTIONS = [
  'Create',
  'Acknowledge',
  'UnAcknowledge',
  'Close',
  'Delete',
  'Escalate',
  'EscalateNext',
  'AddNote',
  'AssignOwnership',
  'TakeOwnership',
  'AddResponder',
  'AddTeam',
  'UpdatePriority',
  'CustomAction',
  // Names every object literal answers to.
  'constructor',
  'toString',
  'hasOwnProperty',
  '__proto__',
  'valueOf',
] as const;

const idLike = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,30}$/),
  anyText(20),
  fc.constantFrom('', 'x'.repeat(201), '../etc', 'a/b', 'a\u0000b', '__proto__'),
);

const occurredAt = fc.oneof(
  fc.integer({ min: -600_000, max: 60_000 }).map((ms) => str(new Date(Date.now() + ms).toISOString())),
  fc.constantFrom(
    str('2000-01-01T00:00:00Z'),
    str(new Date(Date.now() + 365 * 86_400_000).toISOString()),
    str('not a date'),
    str(''),
    '0',
    '1e400',
    'null',
    '[]',
  ),
);

function pick<T>(values: readonly T[], fallback: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return values.length === 0 ? fallback : fc.oneof(fc.constantFrom(...values), fallback);
}

/** A PagerDuty V3 envelope `{event: {...}}`, valid-looking or mutated, as bytes to be signed. */
export function pagerDutyBody(known: KnownIncidents): fc.Arbitrary<Payload> {
  const keyJson = fc.oneof(pick(known.providerKeys, idLike).map(str), fc.constantFrom('null', '1', '{}'));
  const incidentIdJson = fc.oneof(pick(known.pagerdutyIds, idLike).map(str), wrongValue);
  const data = fc
    .record(
      {
        id: incidentIdJson,
        type: fc.constantFrom(str('incident'), str('incident_note'), '7'),
        incident_key: keyJson,
        status: fc.constantFrom(str('triggered'), str('acknowledged'), str('resolved'), 'null'),
        assignees: fc.oneof(
          fc
            .array(textJson(anyText(30)), { maxLength: 3 })
            .map((names) => arrayText(names.map((n) => `{"summary":${n}}`))),
          wrongValue,
        ),
        priority: fc.oneof(
          textJson(anyText(30)).map((s) => `{"summary":${s}}`),
          wrongValue,
        ),
        content: fc.oneof(
          textJson(anyText(60)),
          around(4_000).map((n) => str('n'.repeat(n))),
          wrongValue,
        ),
        incident: incidentIdJson.map((id) => `{"id":${id}}`),
      },
      { requiredKeys: ['id'] },
    )
    .map((d) => objectText(Object.entries(d).map(([k, v]) => member(k, v as JsonText))));
  const event = fc
    .record(
      {
        id: fc.oneof(textJson(idLike), wrongValue),
        event_type: fc.oneof(
          fc.constantFrom(...PAGERDUTY_EVENT_TYPES).map(str),
          textJson(anyText(20)),
          wrongValue,
        ),
        resource_type: fc.constantFrom(str('incident'), str('service'), 'null'),
        occurred_at: occurredAt,
        agent: fc.oneof(
          fc
            .tuple(
              fc.constantFrom('user_reference', 'inbound_integration_reference', 'service_reference'),
              textJson(anyText(30)),
            )
            .map(([type, summary]) => `{"id":"PUSER01","type":${str(type)},"summary":${summary}}`),
          wrongValue,
        ),
        client: fc.oneof(
          textJson(anyText(20)).map((n) => `{"name":${n}}`),
          wrongValue,
        ),
        data: fc.oneof({ weight: 5, arbitrary: data }, { weight: 1, arbitrary: wrongValue }),
      },
      { requiredKeys: ['id', 'event_type'] },
    )
    .map((e) => Object.entries(e).map(([k, v]) => member(k, v as JsonText)));
  const mutation = recordMutations({
    required: ['id', 'event_type'],
    strings: { id: 200, event_type: 64 },
    enums: { event_type: PAGERDUTY_EVENT_TYPES },
    freeForm: 'data',
  });
  return fc.oneof(
    { weight: 6, arbitrary: event.map((ms) => payload('pagerduty envelope', `{"event":${objectText(ms)}}`)) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          event,
          fc.array(mutation, { minLength: 1, maxLength: 2 }),
          fc.option(byteMutation, { freq: 5 }),
        )
        .map(([ms, mutations, bytes]) => {
          const text = `{"event":${objectText(mutations.reduce((acc, m) => m.apply(acc), ms))}}`;
          const raw = new Uint8Array(Buffer.from(text));
          const what = [...mutations.map((m) => m.what), ...(bytes ? [bytes.what] : [])].join('; ');
          return payload(`pagerduty envelope: ${what}`, bytes ? bytes.apply(raw) : raw);
        }),
    },
    { weight: 1, arbitrary: nonObjectBody },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(...FORBIDDEN_KEYS)
        .map((k) =>
          payload(
            `pagerduty ${k}`,
            `{${str(k)}:{"event":{"id":"e","event_type":"incident.acknowledged"}},"event":{"id":"e2","event_type":"pagey.ping"}}`,
          ),
        ),
    },
  );
}

/** An OpsGenie outgoing webhook body, valid-looking or mutated. */
export function opsGenieBody(known: KnownIncidents): fc.Arbitrary<Payload> {
  const updatedAt = fc.oneof(
    fc.integer({ min: -600_000, max: 60_000 }).map((ms) => `${(Date.now() + ms) * 1_000_000}`),
    fc.constantFrom(
      '0',
      '-1',
      '1.5',
      '1e400',
      '"1700000000000"',
      '"12abc"',
      'null',
      '[]',
      '9007199254740993000000',
      String(Date.now()),
    ),
  );
  const alert = fc
    .record(
      {
        alertId: fc.oneof(pick(known.opsgenieIds, idLike).map(str), wrongValue),
        alias: fc.oneof(pick(known.providerKeys, idLike).map(str), wrongValue),
        message: textJson(anyText(40)),
        username: fc.oneof(textJson(anyText(30)), fc.constant(str('incident-router')), wrongValue),
        updatedAt,
        note: fc.oneof(
          textJson(anyText(60)),
          around(4_000).map((n) => str('n'.repeat(n))),
          wrongValue,
        ),
        owner: fc.oneof(textJson(anyText(30)), wrongValue),
        priority: fc.oneof(fc.constantFrom(str('P1'), str('P5')), textJson(anyText(30)), wrongValue),
      },
      { requiredKeys: [] },
    )
    .map((a) => objectText(Object.entries(a).map(([k, v]) => member(k, v as JsonText))));
  const body = fc
    .record(
      {
        source: fc.oneof(
          fc
            .tuple(textJson(anyText(20)), fc.constantFrom(str('API'), str('web'), '1'))
            .map(([name, type]) => `{"name":${name},"type":${type}}`),
          wrongValue,
        ),
        alert: fc.oneof({ weight: 6, arbitrary: alert }, { weight: 1, arbitrary: wrongValue }),
        action: fc.oneof(fc.constantFrom(...OPSGENIE_ACTIONS).map(str), textJson(anyText(20)), wrongValue),
        integrationId: textJson(anyText(20)),
        integrationName: textJson(anyText(20)),
      },
      { requiredKeys: ['alert', 'action'] },
    )
    .map((b) => Object.entries(b).map(([k, v]) => member(k, v as JsonText)));
  const mutation = recordMutations({
    required: ['alert', 'action'],
    strings: { action: 64, integrationName: 200 },
    enums: { action: OPSGENIE_ACTIONS },
    freeForm: 'alert',
  });
  return fc.oneof(
    { weight: 6, arbitrary: body.map((ms) => payload('opsgenie webhook', objectText(ms))) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(body, fc.array(mutation, { minLength: 1, maxLength: 2 }), fc.option(byteMutation, { freq: 5 }))
        .map(([ms, mutations, bytes]) => {
          const raw = new Uint8Array(Buffer.from(objectText(mutations.reduce((acc, m) => m.apply(acc), ms))));
          const what = [...mutations.map((m) => m.what), ...(bytes ? [bytes.what] : [])].join('; ');
          return payload(`opsgenie webhook: ${what}`, bytes ? bytes.apply(raw) : raw);
        }),
    },
    { weight: 1, arbitrary: nonObjectBody },
  );
}

// ---------------------------------------------------------------------------------------------
// Policies (YAML text; docs/policy-language.md, schemas/policy.schema.json)

export const FACTS = [
  'message',
  'level',
  'source',
  'service',
  'host',
  'trace_id',
  'attributes',
  'timestamp',
  'team',
  'criticality',
  'severity',
  'rule',
  'fingerprint',
  'now',
] as const;

/** Patterns that load (safe, or polynomial and run on RE2). */
export const GOOD_PATTERNS = [
  'connection refused',
  'timeout|timed out',
  '^disk usage at (9[5-9]|100)%',
  'upstream 5\\d\\d',
  'connection.*refused',
] as const;

/**
 * Every pattern the generators use. Each new pattern costs the ReDoS checker a child process
 * (about a second), so generated policies draw from this fixed set, warmed once per file, and only
 * rarely bring a pattern of their own.
 */
export const PATTERNS = [
  ...GOOD_PATTERNS,
  '(a+)+$',
  '(a|a)*b',
  '([a-z]+)*$',
  '(x+x+)+y',
  '.*.*=.*',
  '(?<=a)b',
  '(a)\\1',
  '\\p{L}+',
  '(?<name>x)\\k<name>',
  '(',
  '[',
  '\\',
  '*',
  'a{2,1}',
  '',
  '[\\u0000-\\uffff]+',
  '😀+',
] as const;

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
const CRITICALITIES = ['critical', 'high', 'medium', 'low'] as const;

/** Good values, and (when hostile) sometimes bad ones. */
function pool<T>(hostile: boolean, good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return hostile ? fc.oneof({ weight: 5, arbitrary: good }, { weight: 1, arbitrary: bad }) : good;
}

const GOOD_DURATIONS = fc.constantFrom('1s', '250ms', '500ms', '30s', '1m', '2m');
const BAD_DURATIONS = fc.constantFrom(
  '5',
  '5 s',
  '-1s',
  '0s',
  '1y',
  '1.5s',
  '99999999999999h',
  'PT5S',
  '',
  '0ms',
);
export const DURATIONS = fc.oneof(GOOD_DURATIONS, BAD_DURATIONS);

const GOOD_ZONES = ['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Kolkata'];
const BAD_ZONES = ['Local', 'Mars/Olympus', '', 'utc', '+05:00', 'America/New York'];

interface WindowPieces {
  weekdays: readonly string[];
  months: readonly string[];
  days: readonly string[];
  times: readonly (readonly [string, string])[];
  years: readonly string[];
  zones: readonly string[];
  crons: readonly string[];
}

const GOOD_WINDOW: WindowPieces = {
  weekdays: ['monday', 'friday', 'sunday', 'monday:friday', 'saturday'],
  months: ['january', 'december', 'january:march', '1', '12', '1:3'],
  days: ['1', '31', '-1', '24:26', '1:-1'],
  times: [
    ['09:00', '18:00'],
    ['00:00', '24:00'],
    ['22:00', '23:59'],
  ],
  years: ['2026', '2026:2030'],
  zones: GOOD_ZONES,
  crons: ['0 2 * * SUN', '*/5 * * * *', '0 0 1 1 *', '0 2 * * 7'],
};

const BAD_WINDOW: WindowPieces = {
  weekdays: ['funday', 'friday:monday', 'saturday:sunday', 'Monday', ''],
  months: ['smarch', '13', 'december:january', '0'],
  days: ['0', '32', '-32', '31:1', 'x'],
  times: [
    ['18:00', '09:00'],
    ['25:00', '26:00'],
    ['9:00', '10:00'],
    ['09:60', '10:00'],
    ['', 'noon'],
    ['10:00', '10:00'],
  ],
  years: ['0:99999', '1999:1998', 'x', '-1'],
  zones: BAD_ZONES,
  crons: ['bad cron', '* * * * * * *', '60 25 32 13 8', '@daily', '', '0 2 * * 8'],
};

function windowEntry(hostile: boolean): fc.Arbitrary<Node> {
  const from = <K extends keyof WindowPieces>(k: K): fc.Arbitrary<WindowPieces[K][number]> =>
    pool(
      hostile,
      fc.constantFrom(...(GOOD_WINDOW[k] as WindowPieces[K][number][])),
      fc.constantFrom(...(BAD_WINDOW[k] as WindowPieces[K][number][])),
    );
  return fc.oneof(
    fc.record(
      {
        times: fc.array(
          from('times').map(([start_time, end_time]) => ({ start_time, end_time })),
          { minLength: 1, maxLength: 2 },
        ),
        weekdays: fc.array(from('weekdays'), { minLength: 1, maxLength: 2 }),
        days_of_month: fc.array(from('days'), { minLength: 1, maxLength: 2 }),
        months: fc.array(from('months'), { minLength: 1, maxLength: 2 }),
        years: fc.array(from('years'), { minLength: 1, maxLength: 2 }),
        location: from('zones'),
      },
      { requiredKeys: [] },
    ),
    fc.record({
      cron: from('crons'),
      duration: pool(hostile, GOOD_DURATIONS, BAD_DURATIONS),
      location: from('zones'),
    }),
  );
}

/** Nodes of a policy under construction: plain JSON-like values, turned into YAML at the end. */
type Node = string | number | boolean | null | Node[] | { [key: string]: Node };

const goodName = fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/);
const badName = fc.oneof(anyText(16), fc.constantFrom('', 'Upper', 'a b', '__proto__', 'constructor', '-x'));

/** Names the parts of a policy refer to each other by. */
interface PolicyParts {
  teams: string[];
  services: string[];
  windows: string[];
  conditions: string[];
}

function leafCondition(p: PolicyParts, hostile: boolean): fc.Arbitrary<Node> {
  const text = anyText(12);
  const good: fc.Arbitrary<Node> = fc.oneof(
    fc.record({
      fact: fc.constantFrom('message', 'source', 'host'),
      operator: fc.constant('matches'),
      value: fc.constantFrom(...GOOD_PATTERNS),
    }),
    fc.record({
      fact: fc.constantFrom('message', 'source', 'service', 'host', 'trace_id', 'rule', 'fingerprint'),
      operator: fc.constantFrom('equal', 'notEqual'),
      value: text,
    }),
    fc
      .constantFrom(
        ...([
          ['level', LEVELS],
          ['severity', SEVERITIES],
          ['criticality', CRITICALITIES],
          ['team', p.teams],
        ] as const),
      )
      .chain(([fact, values]) =>
        fc.oneof(
          fc.record({
            fact: fc.constant(fact),
            operator: fc.constantFrom('equal', 'notEqual'),
            value: fc.constantFrom(...values),
          }),
          fc.record({
            fact: fc.constant(fact),
            operator: fc.constantFrom('in', 'notIn'),
            value: fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: 3 }),
          }),
        ),
      ),
    fc.record({
      fact: fc.constant('severity'),
      operator: fc.constant('severityAtLeast'),
      value: fc.constantFrom(...SEVERITIES),
    }),
    ...(p.windows.length > 0
      ? [
          fc.record({
            fact: fc.constant('now'),
            operator: fc.constant('within'),
            value: fc.constantFrom(...p.windows),
          }),
        ]
      : []),
    fc.record({
      fact: fc.constant('attributes'),
      path: fc.constantFrom('$.a', '$.a.b', '$.code'),
      operator: fc.constantFrom('greaterThanInclusive', 'lessThan', 'equal'),
      value: fc.integer({ min: -5, max: 1000 }),
    }),
  );
  const bad: fc.Arbitrary<Node> = fc.oneof(
    fc.record({
      fact: fc.constantFrom('message', 'source', 'host', 'level'),
      operator: fc.constant('matches'),
      value: fc.oneof(
        { weight: 20, arbitrary: fc.constantFrom(...PATTERNS) },
        { weight: 1, arbitrary: text },
      ),
    }),
    fc.record({
      fact: fc.oneof(fc.constantFrom(...FACTS), fc.constantFrom('nope', 'Message', '')),
      operator: fc.oneof(
        fc.constantFrom('equal', 'in', 'contains', 'lessThan', 'within', 'severityAtLeast', 'matches'),
        fc.constantFrom('someValue:equal', 'swap:equal', 'regex', '', 'equal:'),
      ),
      value: fc.oneof(text, fc.integer(), fc.constant(null), fc.constant({ fact: 'nope' }), fc.array(text)),
    }),
    fc.record({
      fact: fc.constant('attributes'),
      path: fc.constantFrom(
        '$..x',
        '$[*]',
        '$.a.b[0]',
        'a.b',
        '$.__proto__',
        '$.constructor.prototype',
        '',
        '$[',
      ),
      operator: fc.constantFrom('equal', 'greaterThanInclusive'),
      value: fc.oneof(fc.integer(), text),
    }),
  );
  return pool(hostile, good, bad);
}

function conditionTree(p: PolicyParts, hostile: boolean, references: boolean): fc.Arbitrary<Node> {
  const leaf = leafCondition(p, hostile);
  const reference =
    references && p.conditions.length > 0
      ? pool(hostile, fc.constantFrom(...p.conditions), badName).map((c) => ({ condition: c }))
      : leaf;
  const { tree } = fc.letrec<{ tree: Node; node: Node }>((tie) => ({
    tree: fc.oneof(
      fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((all) => ({ all })),
      fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((any) => ({ any })),
    ),
    node: fc.oneof(
      { depthSize: 'small', maxDepth: 3 },
      leaf,
      leaf,
      tie('tree'),
      tie('node').map((n) => ({ not: n })),
      reference,
    ),
  }));
  return tree;
}

const GOOD_TEMPLATES = [
  '{service} {message}',
  'Disk on {host}',
  'Failure on {service}',
  '{service}:db',
  'plain text',
];
const BAD_TEMPLATES = ['', '{nothing}', '{', '}', '{{service}}', '{attributes.__proto__}', '{message'];

function policyNode(p: PolicyParts, hostile: boolean): fc.Arbitrary<{ [key: string]: Node }> {
  const name = pool(hostile, goodName, badName);
  const when = conditionTree(p, hostile, true);
  const template = pool(
    hostile,
    fc.constantFrom(...GOOD_TEMPLATES),
    fc.oneof(fc.constantFrom(...BAD_TEMPLATES), anyText(20)),
  );
  const severity = pool(hostile, fc.constantFrom(...SEVERITIES), fc.constantFrom('urgent', 'CRITICAL', ''));
  const classify = fc.array(
    fc.oneof(
      fc.record(
        {
          name,
          priority: pool(hostile, fc.integer({ min: 0, max: 1000 }), fc.constantFrom(-1, 1.5, 1e21)),
          when,
          severity,
          title: template,
          fingerprint: template,
          continue: fc.boolean(),
        },
        { requiredKeys: ['name', 'when', 'severity'] },
      ),
      fc.record({ name, when, resolve: template }),
    ),
    { maxLength: 3 },
  );
  const upgrade = fc.array(fc.record({ name, when, severity }), { maxLength: 2 });
  const reason = pool(hostile, fc.constantFrom('planned', 'noise'), anyText(20));
  const suppress = fc.array(fc.record({ name, when, reason }), { maxLength: 2 });
  const providers = pool<string[]>(
    hostile,
    fc.constantFrom(['pagerduty'], ['opsgenie'], ['pagerduty', 'opsgenie'], ['opsgenie', 'pagerduty']),
    fc.constantFrom([], ['nope'], ['pagerduty', 'pagerduty']),
  );
  const deliver = fc.record({
    mode: pool(hostile, fc.constantFrom('all', 'failover'), fc.constant('some')),
    providers,
  });
  const routes = fc
    .tuple(
      fc.uniqueArray(
        fc.record(
          { name, when, deliver, continue: fc.boolean() },
          { requiredKeys: ['name', 'when', 'deliver'] },
        ),
        { maxLength: 2, selector: (r) => r.name },
      ),
      deliver,
    )
    .map(([rs, last]) => [...rs.filter((r) => r.name !== 'default'), { name: 'default', deliver: last }]);
  const duration = pool(hostile, GOOD_DURATIONS, BAD_DURATIONS);
  const count = (min: number, max: number) =>
    pool(hostile, fc.integer({ min, max }), fc.constantFrom(min - 1, 1.5, -1));
  const settings = fc.record(
    {
      timezone: pool(hostile, fc.constantFrom(...GOOD_ZONES), fc.constantFrom(...BAD_ZONES)),
      storm: fc.record({ max_new_incidents: count(1, 100), window: duration }),
      level_severity: fc.dictionary(fc.constantFrom(...LEVELS), severity, { maxKeys: 3 }),
      delivery: fc.record(
        {
          timeout: duration,
          retry: fc.record({
            initial: pool(hostile, fc.constantFrom('100ms', '250ms'), BAD_DURATIONS),
            max: pool(hostile, fc.constantFrom('30s', '1m'), BAD_DURATIONS),
            budget: count(1, 5),
          }),
          breaker: fc.record({
            consecutive_failures: count(1, 10),
            failure_rate: pool(
              hostile,
              fc.double({ min: 0.1, max: 1, noNaN: true }),
              fc.constantFrom(1.5, -0.1),
            ),
            min_requests: count(1, 20),
            window: duration,
            cooldown: duration,
          }),
          outage_backoff_max: duration,
        },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: [] },
  );
  const sections = fc.record(
    {
      settings,
      time_windows: fc.tuple(
        ...p.windows.map(() => fc.array(windowEntry(hostile), { minLength: 1, maxLength: 2 })),
      ),
      conditions: fc.tuple(...p.conditions.map(() => conditionTree(p, hostile, false))),
      classify,
      upgrade,
      suppress,
      routes,
      services: fc.tuple(
        ...p.services.map(() =>
          fc.record(
            {
              team: pool(hostile, fc.constantFrom(...p.teams), badName),
              criticality: pool(
                hostile,
                fc.constantFrom(...CRITICALITIES),
                fc.constantFrom('unknown', 'extreme', ''),
              ),
              description: anyText(20),
            },
            { requiredKeys: ['team', 'criticality'] },
          ),
        ),
      ),
      version: pool(hostile, fc.stringMatching(/^[0-9][0-9.-]{0,10}$/), anyText(10)),
    },
    { requiredKeys: ['routes', 'services', 'version', 'time_windows', 'conditions'] },
  );
  return sections.map((s) => {
    const doc: { [key: string]: Node } = { apiVersion: 'incident-router/v1' };
    if (s.version !== undefined) doc['version'] = s.version;
    if (s.settings !== undefined) doc['settings'] = s.settings as Node;
    doc['providers'] = {
      pagerduty: {
        type: 'pagerduty',
        routing_key: '${PD_KEY:-}',
        severity_map: { critical: 'critical', high: 'error', medium: 'warning', low: 'info' },
      },
      opsgenie: {
        type: 'opsgenie',
        api_key: '${OG_KEY:-}',
        priority_map: { critical: 'P1', high: 'P2', medium: 'P3', low: 'P4' },
      },
    };
    if (p.windows.length > 0)
      doc['time_windows'] = Object.fromEntries(p.windows.map((w, i) => [w, s.time_windows![i] as Node]));
    doc['teams'] = Object.fromEntries(p.teams.map((t) => [t, {}]));
    if (s.services !== undefined)
      doc['services'] = Object.fromEntries(p.services.map((n, i) => [n, s.services![i] as Node]));
    if (p.conditions.length > 0)
      doc['conditions'] = Object.fromEntries(p.conditions.map((c, i) => [c, s.conditions![i] as Node]));
    for (const section of ['classify', 'upgrade', 'suppress', 'routes'] as const)
      if (s[section] !== undefined) doc[section] = s[section] as Node;
    return doc;
  });
}

function partsArb(hostile: boolean): fc.Arbitrary<PolicyParts> {
  const names = (min: number, max: number) =>
    fc.uniqueArray(pool(hostile, goodName, badName), { minLength: min, maxLength: max });
  return fc.record({
    teams: names(1, 3),
    services: names(1, 3),
    windows: names(0, 2),
    conditions: names(0, 2),
  });
}

/**
 * A small policy document (a JS value) built from parts that refer to each other: valid unless
 * `hostile`, when about one piece in six is a bad one (wrong value, bad duration or window, …).
 */
export const policyDocument = (hostile: boolean): fc.Arbitrary<{ [key: string]: Node }> =>
  partsArb(hostile).chain((p) => policyNode(p, hostile));

const INTERPOLATIONS = [
  '${API_TOKEN}',
  '${PD_KEY}',
  '${NAME:-default}',
  '${NAME:-}',
  '${',
  '${}',
  '${A:-${B}}',
  '$${X}',
  '${lower}',
  '${X:?err}',
  '${ X }',
  '$API_TOKEN',
  '${HOME}',
];

/** A value of the wrong kind for wherever it lands. */
const wrongNode: fc.Arbitrary<Node> = fc.oneof(
  fc.constantFrom<Node>(0, -1, 1.5, true, false, null, [], {}, [null], { a: 1 }, '', 'x', 1e21),
  fc.constantFrom(...INTERPOLATIONS),
  fc.constantFrom(...PATTERNS),
  DURATIONS,
  around(4_096).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 1, max: 80 }).map((d) => {
    let v: Node = 1;
    for (let i = 0; i < d; i++) v = [v];
    return v;
  }),
);

/** Every path in a node, for mutations to pick from. */
function paths(
  node: Node,
  at: (string | number)[] = [],
  out: (string | number)[][] = [],
): (string | number)[][] {
  out.push(at);
  if (Array.isArray(node)) node.forEach((v, i) => paths(v, [...at, i], out));
  else if (node !== null && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) paths(v, [...at, k], out);
  return out;
}

function setAt(node: Node, path: readonly (string | number)[], value: Node | undefined): Node {
  if (path.length === 0) return value === undefined ? null : value;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (Array.isArray(node)) {
    const copy = [...node];
    if (value === undefined && rest.length === 0) copy.splice(Number(head), 1);
    else copy[Number(head)] = setAt(copy[Number(head)] as Node, rest, value);
    return copy;
  }
  if (node !== null && typeof node === 'object') {
    const copy: { [key: string]: Node } = { ...node };
    if (value === undefined && rest.length === 0) delete copy[String(head)];
    else copy[String(head)] = setAt(copy[String(head)] as Node, rest, value);
    return copy;
  }
  return node;
}

/** Tree mutations: replace a node with a wrong one, drop it, or add an unknown key beside it. */
const treeMutation: fc.Arbitrary<TreeMutation> = fc.record({
  pick: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
  kind: fc.constantFrom('replace', 'drop', 'unknown key'),
  value: wrongNode,
  key: fc.oneof(
    fc.constantFrom('unknown', 'priority', 'when', '__proto__', 'constructor', 'prototype'),
    anyText(8),
  ),
});

function mutateTree(doc: Node, m: TreeMutation): Node {
  const all = paths(doc);
  const path = all[Math.floor(m.pick * all.length)] ?? [];
  if (m.kind === 'replace') return setAt(doc, path, m.value);
  if (m.kind === 'drop') return path.length === 0 ? doc : setAt(doc, path, undefined);
  return setAt(doc, [...path, m.key], m.value);
}

/** Text mutations of a YAML file. */
const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.double({ min: 0, max: 1, noNaN: true }).map((f) => ({
    what: `cut at ${Math.round(f * 100)}%`,
    apply: (t: string) => t.slice(0, Math.floor(t.length * f)),
  })),
  fc
    .tuple(
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.constantFrom(
        '\t',
        ':',
        '- ',
        '"',
        "'",
        '{',
        '[',
        '&a ',
        '*a',
        '!',
        '%',
        '@',
        '`',
        '|',
        '>',
        '#',
        '\u0000',
        '\uE000',
        '\uE001',
        '\ufeff',
        '\r',
        '\n  ',
        '${',
      ),
    )
    .map(([f, s]) => ({
      what: `${str(s)} at ${Math.round(f * 100)}%`,
      apply: (t: string) => t.slice(0, Math.floor(t.length * f)) + s + t.slice(Math.floor(t.length * f)),
    })),
  fc.nat().map((n) => ({
    what: `line ${n} twice`,
    apply: (t: string) => {
      const lines = t.split('\n');
      const i = n % Math.max(1, lines.length);
      lines.splice(i, 0, lines[i] ?? '');
      return lines.join('\n');
    },
  })),
  fc.nat().map((n) => ({
    what: `line ${n} dropped`,
    apply: (t: string) => {
      const lines = t.split('\n');
      lines.splice(n % Math.max(1, lines.length), 1);
      return lines.join('\n');
    },
  })),
  fc.nat().map((n) => ({
    what: `line ${n} indented`,
    apply: (t: string) => {
      const lines = t.split('\n');
      const i = n % Math.max(1, lines.length);
      lines[i] = `   ${lines[i] ?? ''}`;
      return lines.join('\n');
    },
  })),
  fc.constant({ what: 'CRLF', apply: (t: string) => t.replaceAll('\n', '\r\n') }),
  fc.constant({
    what: 'second document',
    apply: (t: string) => `${t}\n---\napiVersion: incident-router/v1\n`,
  }),
  fc.constantFrom(...INTERPOLATIONS).map((ref) => ({
    what: `${ref} in a value`,
    apply: (t: string) => t.replace(/: ([a-z][^\n]*)/, `: "${ref}"`),
  })),
);

/** Hand-made YAML oddities appended to (or standing as) a policy file. */
const YAML_ODDITIES = [
  'services:\n  a: &svc { team: t, criticality: low }\n  b: *svc\n',
  'teams: *nowhere\n',
  'services:\n  a:\n    <<: { team: t }\n    criticality: low\n',
  'teams:\n  ops: !Ref other\nversion: !!binary aGVsbG8=\n',
  'x0: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\nx1: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nx2: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nx3: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n',
  `y: [${Array.from({ length: 101 }, () => '*a').join(', ')}]\n`,
  `x: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`,
  `x: ${'{a: '.repeat(70)}1${'}'.repeat(70)}\n`,
  `${Array.from({ length: 100 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')}\n`,
  `version: "${'v'.repeat(300_000)}"\n`,
  'classify:\n  - &r { name: r, when: { all: [{ fact: message, operator: matches, value: "(a+)+$" }] }, severity: high }\n  - *r\n',
  'routes: &r\n  - name: loop\n    deliver: *r\n',
  'version: 1\nversion: 2\n',
  '? [a, b]\n: complex key\n',
  'teams: { "__proto__": {}, "constructor": {}, "prototype": {} }\n',
  'settings: { timezone: "${TZ:-Mars/Olympus}" }\n',
  '%YAML 1.1\n---\nversion: "1"\n',
  '\ufeffversion: "1"\n',
  'version: "\uE000"\n',
];

export interface PolicySourceText {
  name: string;
  text: string;
}

const FILE_NAMES = ['a.yaml', 'b.yml', 'policy.yaml', 'zz-extra.yaml', 'A.yaml'];

interface TreeMutation {
  pick: number;
  kind: string;
  value: Node;
  key: string;
}

interface TextMutation {
  what: string;
  apply(text: string): string;
}

type PolicyRecipe = [
  doc: { [key: string]: Node },
  trees: TreeMutation[],
  texts: TextMutation[],
  oddity: string | null,
  reference: string | null,
];

/** One policy file as text: valid as generated, or a hostile document mutated in its tree and text. */
export const policyText: fc.Arbitrary<{ what: string; text: string }> = fc
  .oneof(
    { weight: 2, arbitrary: policyDocument(false).map((doc): PolicyRecipe => [doc, [], [], null, null]) },
    {
      weight: 3,
      arbitrary: fc.tuple(
        policyDocument(true),
        fc.oneof(fc.constant([]), fc.array(treeMutation, { minLength: 1, maxLength: 2 })),
        fc.oneof(fc.constant([]), fc.constant([]), fc.array(textMutation, { minLength: 1, maxLength: 2 })),
        fc.option(fc.constantFrom(...YAML_ODDITIES), { freq: 6 }),
        fc.option(fc.constantFrom(...INTERPOLATIONS), { freq: 8 }),
      ),
    },
  )
  .map(([doc, trees, texts, oddity, reference]) => {
    let node: Node = doc;
    for (const m of trees) node = mutateTree(node, m);
    let text = stringify(node, { lineWidth: 0 });
    if (reference !== null) text = text.replace(/title: [^\n]*/, `title: "${reference}"`);
    for (const m of texts) text = m.apply(text);
    if (oddity !== null) text = `${text}\n${oddity}`;
    const what = [
      ...trees.map((m) => `${m.kind} ${m.key}`),
      ...texts.map((m) => m.what),
      ...(oddity ? ['oddity'] : []),
      ...(reference ? [reference] : []),
    ].join('; ');
    return described({ what, text }, `policy (${what || 'as generated'}):\n${preview(text, 2_000)}`);
  });

/** The sources of one policy: one to three generated files, names possibly repeated. */
export const policySources: fc.Arbitrary<PolicySourceText[]> = fc
  .array(fc.tuple(fc.constantFrom(...FILE_NAMES), policyText), { minLength: 1, maxLength: 3 })
  .map((files) => files.map(([name, { text }]) => ({ name, text })));

/** An extra file for the shipped policy: apiVersion and a few generated sections. */
export const extraPolicyFile: fc.Arbitrary<PolicySourceText> = policyText.map(({ text }) => ({
  name: 'zz-extra.yaml',
  text: text.replace(/^version: [^\n]*\n/m, '').replace(/^providers:\n( {2}.*\n)*/m, ''),
}));
