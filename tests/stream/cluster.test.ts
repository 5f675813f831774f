// The live stream in cluster mode (docs/architecture.md, "Live stream"): two sidecars sharing one
// nats-server's JetStream; a dashboard on replica A sees the changes made on replica B, each once,
// and its own once (its echo through NATS is skipped).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { post, startTestApp, type TestApp } from '../helpers/app.js';
import { NatsServer } from '../helpers/nats-server.js';
import { SseClient } from './sse-client.js';

let nats: NatsServer;
let sandbox: Sandbox;
let a: TestApp;
let b: TestApp;
beforeAll(async () => {
  [nats, sandbox] = await Promise.all([NatsServer.start(), startSandbox()]);
  const cluster = { STATE: 'jetstream', NATS_URL: nats.url, CLUSTER_NAME: 'streamtest' };
  a = await startTestApp({ ...cluster, REPLICA_NAME: 'a' }, { sandbox });
  b = await startTestApp({ ...cluster, REPLICA_NAME: 'b' }, { sandbox });
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await sandbox?.stop();
  await nats?.dispose();
});

const changesOf = (c: SseClient, id: string): string[] =>
  c
    .items('incident')
    .filter((i) => i.incident_id === id)
    .map((i) => i.kind as string);

describe('GET /api/v1/stream in cluster mode', () => {
  it('cluster - a change made on replica B shows on replica A’s stream, each change once', async () => {
    const onA = await SseClient.open(a.url);
    const onB = await SseClient.open(b.url);
    try {
      const ready = await onA.until((s) => s.messages.find((m) => m.event === 'ready'));
      expect(ready.data).toMatchObject({ replica: 'a' });
      await onB.until((s) => s.messages.find((m) => m.event === 'ready'));

      const alert = await post(`${b.url}/api/v1/alerts`, {
        title: 'DB down',
        source: 'database',
        severity: 'critical',
        service_name: 'payment-service',
      });
      expect(alert.status).toBe(202);
      const id = alert.body.incident_id as string;
      const seen = await onA.until((s) =>
        s.items('incident').find((i) => i.incident_id === id && i.kind === 'triggered'),
      );
      expect(seen).toMatchObject({ service: 'payment-service', severity: 'critical', state: 'triggered' });

      // Acknowledged on A (its own change), resolved on B once B has seen the acknowledgement:
      // A's echo of its own message, if it were not skipped, would reach A before B's resolve.
      expect((await post(`${a.url}/api/v1/incidents/${id}/acknowledge`, {})).status).toBe(200);
      await onB.until((s) => changesOf(s, id).includes('acknowledged'));
      expect((await post(`${b.url}/api/v1/incidents/${id}/resolve`, {})).status).toBe(200);
      await onA.until((s) => changesOf(s, id).includes('resolved'));
      await onB.until((s) => changesOf(s, id).includes('resolved'));

      expect(changesOf(onA, id)).toEqual(['triggered', 'acknowledged', 'resolved']);
      expect(changesOf(onB, id)).toEqual(['triggered', 'acknowledged', 'resolved']);
    } finally {
      onA.close();
      onB.close();
    }
  });
});
