// The recent-events ring (docs/policy-diff.md, "The recent-events ring"): what it keeps, what it
// masks, its bounds, batching off the hot path, and what survives a restart (LevelDB).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/domain/decision.js';
import type { LogEvent } from '../../src/domain/log-event.js';
import { LevelDbRing } from '../../src/diff/recent/leveldb-ring.js';
import { RecentEvents, type RingStore } from '../../src/diff/recent/recent-events.js';
import { SecretScrubber } from '../../src/telemetry/logger.js';

const quiet = {
  paged: false,
  suppressed: false,
  recorded: false,
  resolves: null,
  incident: { open: false, id: null },
} as unknown as Decision;
const paged = { ...quiet, paged: true } as Decision;
const repeat = { ...paged, incident: { open: true, id: 'inc_open' } } as Decision;
const event = (i: number, extra: Partial<LogEvent> = {}): LogEvent => ({
  timestamp: '2026-11-22T03:00:00Z',
  service: 'api',
  level: 'info',
  message: `line ${i}`,
  ...extra,
});

class MemoryRing implements RingStore {
  batches: string[][] = [];
  append(lines: readonly string[]): Promise<void> {
    this.batches.push([...lines]);
    return Promise.resolve();
  }
  async *read(): AsyncIterable<string> {
    yield* this.batches.flat();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('recent events', () => {
  it('keeps every notable event and 1 in N of the rest, written in one batch later', async () => {
    const store = new MemoryRing();
    const recent = new RecentEvents(store, { sampleEvery: 10, flushMs: 60_000, maxPending: 1_000 }, (s) => s);
    for (let i = 0; i < 100; i++) recent.offer(event(i), i % 25 === 0 ? paged : quiet);
    expect(store.batches).toEqual([]); // nothing written on the hot path
    await recent.flush();
    expect(store.batches).toHaveLength(1);
    const kept = store.batches[0]?.map((l) => (JSON.parse(l) as LogEvent).message) ?? [];
    // 4 paged (0, 25, 50, 75), and every 10th of the 96 others: 10.
    expect(kept.filter((m) => ['line 0', 'line 25', 'line 50', 'line 75'].includes(m))).toHaveLength(4);
    expect(kept).toHaveLength(4 + 10);
  });

  it('samples repeats of an open incident like everyday events: a storm does not fill the ring', async () => {
    const store = new MemoryRing();
    const recent = new RecentEvents(store, { sampleEvery: 10, flushMs: 60_000, maxPending: 1_000 }, (s) => s);
    recent.offer(event(0), paged); // the one that opened it
    for (let i = 1; i <= 1_000; i++) recent.offer(event(i), repeat);
    await recent.flush();
    const kept = store.batches.flat().map((l) => (JSON.parse(l) as LogEvent).message);
    expect(kept[0]).toBe('line 0');
    expect(kept).toHaveLength(1 + 100);
  });

  it('samples events the triage worker cleared in the same turn as the rest, reading only those it keeps', async () => {
    const store = new MemoryRing();
    const recent = new RecentEvents(store, { sampleEvery: 10, flushMs: 60_000, maxPending: 1_000 }, (s) => s);
    let reads = 0;
    for (let i = 0; i < 100; i++) {
      if (i % 2 === 0) recent.offer(event(i), quiet);
      else
        recent.offerIgnored(() => {
          reads++;
          return { event: event(i), text: JSON.stringify(event(i)) };
        });
    }
    await recent.flush();
    const kept = store.batches.flat().map((l) => (JSON.parse(l) as LogEvent).message);
    // One in ten of the hundred, whichever way each came: 0, 10, 20, … (all offered, even).
    expect(kept).toEqual([
      'line 0',
      'line 10',
      'line 20',
      'line 30',
      'line 40',
      'line 50',
      'line 60',
      'line 70',
      'line 80',
      'line 90',
    ]);
    expect(reads).toBe(0);
    // When the kept turns fall on cleared events, each is read once, and kept.
    for (let i = 100; i < 120; i++)
      recent.offerIgnored(() => {
        reads++;
        return { event: event(i), text: JSON.stringify(event(i)) };
      });
    await recent.flush();
    expect(reads).toBe(2);
    expect(
      store.batches
        .flat()
        .slice(10)
        .map((l) => (JSON.parse(l) as LogEvent).message),
    ).toEqual(['line 100', 'line 110']);
  });

  it('masks known secrets anywhere and attributes named like a credential', async () => {
    const scrubber = new SecretScrubber();
    scrubber.set('config', ['R0123456789abcdef-routing']);
    const store = new MemoryRing();
    const recent = new RecentEvents(store, { sampleEvery: 1, flushMs: 60_000, maxPending: 10 }, (s) =>
      scrubber.scrub(s),
    );
    recent.offer(
      event(1, {
        message: 'sent with key R0123456789abcdef-routing',
        attributes: { api_token: 'tok-1234567890', region: 'eu' },
      }),
      paged,
    );
    await recent.flush();
    const text = store.batches.flat().join('\n');
    expect(text).not.toContain('R0123456789abcdef-routing');
    expect(text).not.toContain('tok-1234567890');
    expect(JSON.parse(text)).toMatchObject({ attributes: { api_token: '****7890', region: 'eu' } });
  });

  it('stores the text an event came as when it is one line without escapes or credential-named attributes', async () => {
    const scrubber = new SecretScrubber();
    scrubber.set('config', ['R0123456789abcdef-routing']);
    const store = new MemoryRing();
    const recent = new RecentEvents(store, { sampleEvery: 1, flushMs: 60_000, maxPending: 10 }, (s) =>
      scrubber.scrub(s),
    );
    const asIs = '{ "timestamp": "2026-11-22T03:00:00Z", "service": "api", "level": "info", "message": "a" }';
    recent.offer(event(1, { message: 'a' }), paged, asIs);
    // A secret spelled with an escape would pass the scrubber in the text: the event is serialized.
    const escaped =
      '{"timestamp":"2026-11-22T03:00:00Z","service":"api","level":"info","message":"key \\u0052\\u0030123456789abcdef-routing"}';
    recent.offer(event(2, { message: 'key R0123456789abcdef-routing' }), paged, escaped);
    const named =
      '{"timestamp":"2026-11-22T03:00:00Z","service":"api","level":"info","message":"b","attributes":{"password":"hunter2-secret"}}';
    recent.offer(event(3, { message: 'b', attributes: { password: 'hunter2-secret' } }), paged, named);
    const twoLines = '{"timestamp":"2026-11-22T03:00:00Z",\n"service":"api","level":"info","message":"c"}';
    recent.offer(event(4, { message: 'c' }), paged, twoLines);
    await recent.flush();
    const [first, second, third, fourth] = store.batches.flat();
    expect(first).toBe(asIs);
    expect(second).not.toContain('R0123456789abcdef-routing');
    expect(JSON.parse(second as string)).toMatchObject({ message: 'key ****ting' });
    expect(third).not.toContain('hunter2-secret');
    expect(JSON.parse(fourth as string)).toMatchObject({ message: 'c' });
    expect(fourth).not.toContain('\n');
  });

  it('drops (and counts) rather than waits when the store falls behind', () => {
    let told = 0;
    const recent = new RecentEvents(
      new MemoryRing(),
      { sampleEvery: 1, flushMs: 60_000, maxPending: 5 },
      (s) => s,
      () => undefined,
      () => told++,
    );
    for (let i = 0; i < 8; i++) recent.offer(event(i), paged);
    expect(recent.dropped).toBe(3);
    expect(told).toBe(3);
    void recent.close();
  });

  it('a store that refuses a batch is reported, and the next batch is written', async () => {
    const store = new MemoryRing();
    let refuse = true;
    const append = store.append.bind(store);
    store.append = (lines) => (refuse ? Promise.reject(new Error('disk full')) : append(lines));
    const failed: [string, number][] = [];
    const recent = new RecentEvents(
      store,
      { sampleEvery: 1, flushMs: 60_000, maxPending: 10 },
      (s) => s,
      (err, n) => failed.push([(err as Error).message, n]),
    );
    recent.offer(event(1), paged);
    recent.offer(event(2), paged);
    await recent.flush();
    refuse = false;
    recent.offer(event(3), paged);
    await recent.flush();
    expect(failed).toEqual([['disk full', 2]]);
    expect(recent.failures).toBe(1);
    expect(store.batches.flat().map((l) => (JSON.parse(l) as LogEvent).message)).toEqual(['line 3']);
  });

  it('LevelDB: bounded by count and bytes, oldest first, and kept across a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ir-ring-'));
    dirs.push(dir);
    const line = (i: number): string => JSON.stringify(event(i));
    let ring = await LevelDbRing.open(dir, { maxEvents: 50, maxBytes: 1_000_000 });
    await ring.append(Array.from({ length: 40 }, (_, i) => line(i)));
    await ring.append(Array.from({ length: 40 }, (_, i) => line(40 + i)));
    const read = async (): Promise<string[]> => {
      const out: string[] = [];
      for await (const l of ring.read()) out.push((JSON.parse(l) as LogEvent).message);
      return out;
    };
    expect(await read()).toEqual(Array.from({ length: 50 }, (_, i) => `line ${30 + i}`));
    await ring.close();
    // Reopened with a byte bound that holds 10 lines: the next append trims to it.
    const size = Buffer.byteLength(line(99));
    ring = await LevelDbRing.open(dir, { maxEvents: 50, maxBytes: size * 10 });
    expect(ring.count).toBe(50);
    await ring.append([line(80)]);
    expect(ring.count).toBe(10);
    expect((await read()).at(0)).toBe('line 71');
    expect((await read()).at(-1)).toBe('line 80');
    await ring.close();
  });
});
