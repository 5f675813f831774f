// Fuzzing JetStream ingest (issue 11): a real nats-server with a stream, a sidecar consuming it
// with its durable consumer, and generated sequences of valid and hostile payloads. Every invalid
// payload must come back on the dead-letter subject exactly once with its bytes intact and be
// terminated, every valid one decided and acked (the consumer drained: nothing pending, nothing
// awaiting an ack), the counters must agree, and the process must stay alive. Validity is what
// parseEvent says of the same bytes (nats-core.test.ts checks parseEvent itself); hand-written
// cases have known answers.
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEvent } from '../../src/ingest/validate.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { get, noRateLimit, startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { NatsServer } from '../helpers/nats-server.js';
import { useSimulators } from '../helpers/sandbox.js';
import { natsClient, noStorm } from '../ingest/support.js';
import { FUZZ_TEST_TIMEOUT_MS, fuzzParameters, hostileEvent, validEvent } from './arbitraries.js';
import { expectAlive, troubleWatch } from './support.js';
import {
  collectLetters,
  expectKnownAnswers,
  expectProcessed,
  knownCases,
  millionBytePayload,
  runner,
  type Letter,
  natsCarries,
} from './nats-support.js';

const STREAM = 'FUZZ';
const DURABLE = 'incident-router';
const ROOT = 'fuzzjs';

let sandbox: Sandbox;
useSimulators((s) => (sandbox = s));

let nats: NatsServer;
let nc: NatsConnection;
let jsm: JetStreamManager;
let t: TestApp;
let letters: Letter[];
let trouble: () => string[];
let lastSeq = 0;

beforeAll(async () => {
  nats = await NatsServer.start();
  nc = await natsClient(nats.url);
  letters = collectLetters(nc);
  await nc.flush();
  jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: STREAM, subjects: [`${ROOT}.>`] });
  t = await startTestApp(
    { NATS_URL: nats.url, NATS_STREAM: STREAM, NATS_SUBJECT: `${ROOT}.>` },
    { sandbox, captureLogs: true, editSettings: noStorm, edits: { 'providers.yaml': noRateLimit } },
  );
  trouble = troubleWatch(t.logs);
  await waitFor(async () => (await get(`${t.url}/api/v1/health`)).body.nats?.consuming === true, 30_000);
}, 60_000);

afterAll(async () => {
  await t?.stop();
  await nc?.close();
  await nats?.dispose();
});

/** Everything published has been delivered, and acked or terminated. */
async function drained(): Promise<boolean> {
  const info = await jsm.consumers.info(STREAM, DURABLE).catch(() => null);
  return (
    info !== null &&
    info.num_pending === 0 &&
    info.num_ack_pending === 0 &&
    info.delivered.stream_seq === lastSeq
  );
}

const publishRun = runner({
  url: () => t.url,
  letters: () => letters,
  root: ROOT,
  trouble: () => trouble(),
  publish: async (subject, payloads) => {
    const js = jetstream(nc);
    for (const p of payloads) lastSeq = (await js.publish(subject, p)).seq;
  },
  drained,
});

describe('fuzz: JetStream ingest', () => {
  const sequence = fc.array(
    fc
      .oneof(
        { weight: 3, arbitrary: validEvent({ quiet: true }) },
        { weight: 1, arbitrary: validEvent() }, // some of these page: new incidents among the garbage
        { weight: 3, arbitrary: hostileEvent },
      )
      .filter(natsCarries),
    { minLength: 1, maxLength: 30 },
  );

  it(
    'dead-letters every invalid payload once, acks every valid one, drains, and stays alive',
    async () => {
      await fc.assert(
        fc.asyncProperty(sequence, async (payloads) => {
          const result = await publishRun(payloads);
          expectProcessed(payloads, result);
          for (const l of result.letters) expect(l.raw.deliveries).toBe(1);
          expect(await drained()).toBe(true);
          expect((await get(`${t.url}/api/v1/health`)).body.nats).toMatchObject({ consuming: true });
          await expectAlive(t.url);
        }),
        fuzzParameters(0.2, 3),
      );
    },
    FUZZ_TEST_TIMEOUT_MS,
  );

  it('hand-written cases get their known answers', async () => {
    const cases = knownCases();
    expectKnownAnswers(cases, await publishRun(cases.map((c) => c.payload)));
    expect(await drained()).toBe(true);
    await expectAlive(t.url);
  }, 60_000);
});

describe('findings', () => {
  // The same as in core mode (nats-core.test.ts, "findings"), worse here: the message is
  // terminated after its dead letter failed to publish, so the stream no longer holds it either.
  it('an invalid payload too large for its dead letter still leaves a trace on the dead-letter subject', async () => {
    const big = millionBytePayload();
    expect(parseEvent(big.bytes).ok).toBe(false);
    const result = await publishRun([big]);
    expect(result.letters).toHaveLength(1);
  });
});
