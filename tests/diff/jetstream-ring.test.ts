// The recent-events ring in cluster mode (docs/policy-diff.md, "The recent-events ring") on a real
// nats-server: a flush's lines go packed into few messages, and reading gives back the newest
// RECENT_EVENTS_MAX lines in order however the bound falls across messages.
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamRing, packLines } from '../../src/diff/recent/jetstream-ring.js';
import { NatsServer } from '../helpers/nats-server.js';

let nats: NatsServer;
let nc: NatsConnection;
beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await connect({ servers: nats.url });
});
afterAll(async () => {
  await nc.close();
  await nats.dispose();
});

const line = (i: number): string => JSON.stringify({ n: i, message: 'x'.repeat(90) });

async function readAll(ring: JetStreamRing): Promise<number[]> {
  const out: number[] = [];
  for await (const l of ring.read()) out.push((JSON.parse(l) as { n: number }).n);
  return out;
}

describe('JetStream recent-events ring', () => {
  it('packs a flush into messages of at most the byte budget, every line kept in order', () => {
    const lines = Array.from({ length: 50 }, (_, i) => line(i));
    const packs = packLines(lines, 1_000);
    expect(packs.flat()).toEqual(lines);
    for (const p of packs) expect(p.join('\n').length + 1).toBeLessThanOrEqual(1_000);
    expect(packs.length).toBeGreaterThan(5);
    // A line longer than the budget goes alone, never split or lost.
    expect(packLines(['a', 'b'.repeat(50), 'c'], 10)).toEqual([['a'], ['b'.repeat(50)], ['c']]);
  });

  it('writes one message per 128 KiB of lines, not one per line', async () => {
    const ring = await JetStreamRing.open(
      nc,
      { name: 'tpack', replicas: 1 },
      { maxEvents: 100_000, maxBytes: 50 << 20 },
    );
    await ring.append(Array.from({ length: 3_000 }, (_, i) => line(i)));
    const info = await (await jetstreamManager(nc)).streams.info(ring.stream);
    // 3,000 lines of ~110 bytes: 330 KB, three messages.
    expect(info.state.messages).toBe(3);
    expect(await readAll(ring)).toEqual(Array.from({ length: 3_000 }, (_, i) => i));
  });

  it('reads the newest maxEvents lines when the bound falls inside a message, across flushes', async () => {
    const ring = await JetStreamRing.open(
      nc,
      { name: 'tbound', replicas: 1 },
      { maxEvents: 7, maxBytes: 50 << 20 },
    );
    await ring.append([0, 1, 2, 3].map(line));
    await ring.append([4, 5, 6, 7, 8].map(line));
    await ring.append([9, 10].map(line));
    expect(await readAll(ring)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    await ring.append(Array.from({ length: 20 }, (_, i) => line(11 + i)));
    expect(await readAll(ring)).toEqual([24, 25, 26, 27, 28, 29, 30]);
  });

  it('reads a message written before packing (no line count) as one line', async () => {
    const ring = await JetStreamRing.open(
      nc,
      { name: 'tolder', replicas: 1 },
      { maxEvents: 3, maxBytes: 50 << 20 },
    );
    const js = (await import('@nats-io/jetstream')).jetstream(nc);
    for (const i of [0, 1]) await js.publish('_IR.tolder.recent', line(i));
    await ring.append([2, 3].map(line));
    expect(await readAll(ring)).toEqual([1, 2, 3]);
    // A count that is not a positive integer is read as one line too, never a crash.
    const h = headers();
    h.set('Ir-Lines', 'many');
    await js.publish('_IR.tolder.recent', line(4), { headers: h });
    expect(await readAll(ring)).toEqual([2, 3, 4]);
  });

  it('reads an empty ring as nothing', async () => {
    const ring = await JetStreamRing.open(
      nc,
      { name: 'tempty', replicas: 1 },
      { maxEvents: 5, maxBytes: 1 << 20 },
    );
    expect(await readAll(ring)).toEqual([]);
  });
});
