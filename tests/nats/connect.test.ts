// The sidecar's NATS connections write frames sent in one event-loop turn together
// (src/nats/connect.ts): nothing may be lost, reordered or held back by it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as plainConnect, type NatsConnection } from '@nats-io/transport-node';
import { connect } from '../../src/nats/connect.js';
import { NatsServer } from '../helpers/nats-server.js';

let server: NatsServer;
let ours: NatsConnection;
let plain: NatsConnection;

beforeAll(async () => {
  server = await NatsServer.start();
  ours = await connect({ servers: server.url });
  plain = await plainConnect({ servers: server.url });
}, 30_000);
afterAll(async () => {
  await ours?.close();
  await plain?.close();
  await server?.dispose();
});

describe('nats/connect', () => {
  it('publishes sent in one turn, and past the flush size, all arrive in order', async () => {
    const n = 5_000; // about 400 KB with the payload below: several writes of the 64 KiB threshold
    const got: number[] = [];
    const sub = plain.subscribe('coalesce.order', { max: n });
    const done = (async () => {
      for await (const m of sub) got.push(Number(m.string().split(':')[0]));
    })();
    await plain.flush();
    const pad = 'x'.repeat(64);
    for (let i = 0; i < n; i++) ours.publish('coalesce.order', `${i}:${pad}`);
    await ours.flush();
    await done;
    expect(got).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('requests from separate turns each get their own answer', async () => {
    const sub = plain.subscribe('coalesce.echo', {
      callback: (_err, m) => {
        m.respond(`re:${m.string()}`);
      },
    });
    await plain.flush();
    const answers = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i % 7));
        return (await ours.request('coalesce.echo', String(i), { timeout: 5_000 })).string();
      }),
    );
    sub.unsubscribe();
    expect(answers).toEqual(Array.from({ length: 200 }, (_, i) => `re:${i}`));
  });

  it('a publish just before close still reaches the server', async () => {
    const late = await connect({ servers: server.url });
    const sub = plain.subscribe('coalesce.last', { max: 1 });
    await plain.flush();
    late.publish('coalesce.last', 'bye');
    await late.drain();
    const received: string[] = [];
    for await (const m of sub) received.push(m.string());
    expect(received).toEqual(['bye']);
  });
});
