// What the NATS fuzz files share: the dead letters received, the sidecar's counters, and
// hand-written payloads whose answers are known without asking the project's validator.
import type { NatsConnection } from '@nats-io/transport-node';
import { expect } from 'vitest';
import { parseEvent } from '../../src/ingest/validate.js';
import { get, waitFor } from '../helpers/app.js';
import {
  escaped,
  fillText,
  MAX_NATS_EVENT_BYTES,
  nested,
  payload,
  str,
  type Payload,
} from './arbitraries.js';

export const DLQ = 'incident-router.dlq';

export interface Letter {
  subject: string;
  payload: Buffer;
  raw: {
    reason: string;
    errors: string[];
    subject: string;
    size: number;
    payload_base64: string;
    payload_truncated?: boolean;
    deliveries?: number;
  };
}

/** Every dead letter from now on, decoded. */
export function collectLetters(nc: NatsConnection): Letter[] {
  const letters: Letter[] = [];
  nc.subscribe(DLQ, {
    callback: (_err, m) => {
      const raw = m.json<Letter['raw']>();
      letters.push({ subject: raw.subject, payload: Buffer.from(raw.payload_base64, 'base64'), raw });
    },
  });
  return letters;
}

export interface Totals {
  received: number;
  invalid: number;
  dropped: number;
  decided: number;
}

const sum = (counts: Record<string, number> | undefined): number =>
  Object.values(counts ?? {}).reduce((a, b) => a + b, 0);

/** The sidecar's NATS counters (GET /api/v1/metrics). */
export async function metricsOf(url: string): Promise<Totals> {
  const m = (await get(`${url}/api/v1/metrics`)).body;
  return {
    received: m.events.received.nats ?? 0,
    invalid: m.events.invalid.nats ?? 0,
    dropped: sum(m.events.dropped),
    decided: sum(m.decisions),
  };
}

export interface RunResult {
  letters: Letter[];
  /** Trouble the sidecar logged meanwhile (support.ts troubleWatch). */
  logged: string[];
  /** Counter changes, the sentinel's taken out. */
  delta: Totals;
}

/**
 * Runs of payloads on a subject of their own (`root.rN`), each followed by a sentinel that is never
 * valid: its dead letter comes after all the others (the sidecar handles a subject's messages in
 * order, and publishes its letters on one connection), so the letters can be counted exactly.
 */
export function runner(options: {
  url: () => string;
  letters: () => Letter[];
  root: string;
  publish(subject: string, payloads: readonly Uint8Array[]): Promise<void>;
  /** Resolves once the transport has nothing left for the sidecar (JetStream: consumer drained). */
  drained?(): Promise<boolean>;
  /** What the sidecar logged that is trouble, since the last call. */
  trouble(): string[];
}): (payloads: readonly Payload[]) => Promise<RunResult> {
  let run = 0;
  return async (payloads) => {
    const subject = `${options.root}.r${++run}`;
    const sentinel = `sentinel ${subject}`;
    const mine = (l: Letter) => l.subject === subject;
    const isSentinel = (l: Letter) => l.payload.toString('utf8') === sentinel;
    options.trouble(); // not this run's
    const before = await metricsOf(options.url());
    await options.publish(subject, [...payloads.map((p) => p.bytes), Buffer.from(sentinel)]);
    await waitFor(async () => options.letters().some((l) => mine(l) && isSentinel(l)), 30_000);
    const valid = payloads.filter((p) => parseEvent(p.bytes).ok).length;
    // Decisions are counted once applied (a new incident waits for its write).
    await waitFor(async () => (await metricsOf(options.url())).decided - before.decided >= valid, 30_000);
    if (options.drained) await waitFor(options.drained, 30_000);
    const after = await metricsOf(options.url());
    return {
      logged: options.trouble(),
      letters: options.letters().filter((l) => mine(l) && !isSentinel(l)),
      delta: {
        received: after.received - before.received - 1,
        invalid: after.invalid - before.invalid - 1,
        dropped: after.dropped - before.dropped,
        decided: after.decided - before.decided,
      },
    };
  };
}

/** nats-server's default max_payload: a publisher cannot send more in one message. */
export const NATS_MAX_PAYLOAD = 1024 * 1024;

/** Only what NATS carries: a payload over max_payload is refused by the publisher's own client. */
export const natsCarries = (p: Payload): boolean => p.bytes.byteLength <= NATS_MAX_PAYLOAD;

/**
 * What a run must show: one letter per invalid payload with its bytes intact; counters that agree.
 * A payload whose dead letter (base64, a third larger) would pass max_payload keeps as many of its
 * first bytes as fit, marked `payload_truncated` (src/ingest/nats/dead-letter.ts): those are
 * matched by their size and first bytes.
 */
export function expectProcessed(payloads: readonly Payload[], result: RunResult): void {
  const invalid = payloads.filter((p) => !parseEvent(p.bytes).ok);
  const expected = invalid.map((p) => Buffer.from(p.bytes).toString('base64')).sort();
  const unused = invalid.map((p) => Buffer.from(p.bytes));
  const got = result.letters
    .map((l) => {
      if (l.raw.payload_truncated !== true) return l.raw.payload_base64;
      const kept = Buffer.from(l.raw.payload_base64, 'base64');
      const i = unused.findIndex(
        (b) =>
          b.byteLength === l.raw.size && kept.byteLength > 0 && b.subarray(0, kept.byteLength).equals(kept),
      );
      if (i === -1) return `truncated, of no payload: ${l.raw.payload_base64.slice(0, 80)}`;
      return (unused.splice(i, 1)[0] as Buffer).toString('base64');
    })
    .sort();
  expect(got, 'one dead letter per invalid payload, bytes intact').toEqual(expected);
  for (const l of result.letters) {
    expect(l.raw.reason).toBe('invalid');
    if (l.raw.payload_truncated === true) expect(l.payload.byteLength).toBeLessThan(l.raw.size);
    else expect(l.raw.size).toBe(l.payload.byteLength);
    expect(l.raw.errors.length).toBeGreaterThan(0);
    for (const e of l.raw.errors) expect(typeof e).toBe('string');
  }
  expect(result.delta).toEqual({
    received: payloads.length,
    invalid: invalid.length,
    dropped: 0,
    decided: payloads.length - invalid.length,
  });
  expect(result.logged, 'nothing logged at error level, no dead letter left unsent').toEqual([]);
}

/** Hand-written payloads: which were dead-lettered must be exactly the invalid ones. */
export function expectKnownAnswers(cases: readonly KnownCase[], result: RunResult): void {
  const lettered = new Set(result.letters.map((l) => l.raw.payload_base64));
  for (const c of cases) {
    const b64 = Buffer.from(c.payload.bytes).toString('base64');
    expect({ what: c.payload.what, deadLettered: lettered.has(b64) }).toEqual({
      what: c.payload.what,
      deadLettered: !c.valid,
    });
  }
  expect(result.delta.invalid).toBe(cases.filter((c) => !c.valid).length);
  expect(result.delta.received).toBe(cases.length);
  expect(result.logged).toEqual([]);
}

/** 1,000,000 bytes: under nats-server's max_payload (1 MiB), over MAX_EVENT_BYTES (140 KiB). */
export function millionBytePayload(): Payload {
  const head =
    '{"timestamp":"2026-11-24T15:00:00Z","service":"search","level":"info","message":"m","attributes":{"pad":';
  return payload('1,000,000 bytes', `${head}${str('x'.repeat(1_000_000 - head.length - 4))}}}`);
}

export interface KnownCase {
  payload: Payload;
  valid: boolean;
}

/** Payloads whose answer the schema and the documented limits state (docs/nats.md). */
export function knownCases(): KnownCase[] {
  const head = '"timestamp":"2026-11-24T15:00:00Z","service":"search","level":"info"';
  const event = (rest: string): string => `{${head},${rest}}`;
  const plain = event('"message":"m"');
  const withAttributes = (bytes: number): string =>
    event(`"message":"m","attributes":{"pad":${str('x'.repeat(bytes - 10))}}`);
  const paddedTo = (bytes: number): string => plain + ' '.repeat(bytes - Buffer.byteLength(plain));
  const cases: [string, string | Uint8Array, boolean][] = [
    ['a minimal event', plain, true],
    [
      'every field',
      `{${head},"message":"m","source":"s","host":"h","trace_id":"t","attributes":{"a":[1,{"b":null}]}}`,
      true,
    ],
    ['astral, RTL and an escaped lone surrogate', event('"message":"😀 \u202e שלום \\ud800"'), true],
    ['a leap second', plain.replace('15:00:00Z', '23:59:60Z').replace('11-24', '12-31'), true],
    ['February 30th', plain.replace('11-24', '02-30'), false],
    ['empty', '', false],
    ['whitespace', ' \n', false],
    ['null', 'null', false],
    ['an array of one event', `[${plain}]`, false],
    ['truncated', plain.slice(0, -3), false],
    [
      'invalid UTF-8',
      Buffer.concat([Buffer.from(plain.slice(0, -3)), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
      false,
    ],
    ['a BOM first', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(plain)]), true],
    ['a raw NUL in a string', event('"message":"a\u0000b"'), false],
    ['an escaped NUL', event('"message":"a\\u0000b"'), true],
    ['duplicate keys, the last valid', event('"message":1,"message":"m"'), true],
    ['duplicate keys, the last invalid', event('"message":"m","message":1'), false],
    ['__proto__ in attributes', event('"message":"m","attributes":{"__proto__":{"x":1}}'), false],
    ['constructor at the top', event('"message":"m","constructor":{}'), false],
    ['prototype deep in attributes', event('"message":"m","attributes":{"a":[{"prototype":1}]}'), false],
    ['an extra field', event('"message":"m","extra":1'), false],
    ['level INFO', plain.replace('"info"', '"INFO"'), false],
    ['an empty service', plain.replace('"search"', '""'), false],
    ['a service of 128 characters', plain.replace('"search"', str('s'.repeat(128))), true],
    ['a service of 128 astral characters', plain.replace('"search"', str('😀'.repeat(128))), true],
    ['a service of 129 characters', plain.replace('"search"', str('s'.repeat(129))), false],
    ['a message of 65,536 characters', event(`"message":${str('a'.repeat(65_536))}`), true],
    ['a message of 65,537 characters', event(`"message":${str('a'.repeat(65_537))}`), false],
    ['a message of 20,000 escaped characters', event(`"message":${escaped(fillText('é', 20_000))}`), true],
    ['attributes of 65,536 bytes', withAttributes(65_536), true],
    ['attributes of 65,537 bytes', withAttributes(65_537), false],
    ['a payload of 140 KiB', paddedTo(MAX_NATS_EVENT_BYTES), true],
    ['a payload of 140 KiB + 1', paddedTo(MAX_NATS_EVENT_BYTES + 1), false],
    ['attributes 31 levels deep', event(`"message":"m","attributes":${nested(31)}`), true],
    ['attributes 32 levels deep', event(`"message":"m","attributes":${nested(32)}`), false],
    ['attributes 10,000 levels deep', event(`"message":"m","attributes":${nested(10_000)}`), false],
    ['a number for the message', event('"message":1'), false],
    ['a number for the timestamp', `{"timestamp":0,"service":"s","level":"info","message":"m"}`, false],
    ['attributes as an array', event('"message":"m","attributes":[]'), false],
    ['attributes as null', event('"message":"m","attributes":null'), false],
  ];
  return cases.map(([what, bytes, valid]) => ({ payload: payload(what, bytes), valid }));
}
