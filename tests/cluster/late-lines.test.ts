// Cluster mode: a failure line no newer than the recovery that resolved its incident opens nothing on
// any replica, and lines one replica applied before another's older line are applied again
// (docs/nats.md, "Ordering and backpressure"). The recovery's time travels in the key
// entry: the replica that resolved it and the one that gets the late line need not be the same, and
// a replica that starts later learns it from the key view's replay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { exposition, get, waitFor } from '../helpers/app.js';
import { dbFailure, dbRecovery, outcomesOf } from '../helpers/db-lines.js';
import { NatsServer } from '../helpers/nats-server.js';
import { clusterFixture, startReplica, stopReplica, type Replica } from './support.js';

let nats: NatsServer;
let sandbox: Sandbox;
beforeAll(async () => {
  nats = await NatsServer.start();
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox?.stop();
  await nats?.dispose();
});

const at = (seconds: number): string =>
  new Date(Date.parse('2026-11-24T10:00:00Z') + seconds * 1_000).toISOString();
const failure = (seconds: number) => dbFailure(at(seconds));
const recovery = (seconds: number) => dbRecovery(at(seconds));
const outcomes = (r: Replica, event: object) => outcomesOf(r.url, event);
const counts = async (r: Replica) => (await get(`${r.url}/api/v1/health`)).body.incidents;

/** Two replicas of a fresh cluster `name` (R1), stopped after `run`. */
async function withTwoReplicas(name: string, run: (a: Replica, b: Replica) => Promise<void>): Promise<void> {
  const fixture = await clusterFixture(sandbox, {
    NATS_URL: nats.url,
    CLUSTER_NAME: name,
    CLUSTER_REPLICAS: '1',
  });
  const a = await startReplica(fixture, 'a');
  const b = await startReplica(fixture, 'b');
  try {
    await run(a, b);
  } finally {
    await Promise.all([a, b].map((r) => stopReplica(r)));
    await fixture.dispose();
  }
}

/** Until both replicas count `resolved` resolved and `triggered` triggered incidents. */
async function bothCount(replicas: Replica[], resolved: number, triggered: number): Promise<void> {
  for (const r of replicas)
    await waitFor(async () => {
      const c = await counts(r);
      return c.resolved === resolved && c.triggered === triggered;
    });
}

describe('cluster mode - late failure lines', () => {
  it(
    'a failure older than the recovery another replica applied opens nothing there, nor after a restart',
    { timeout: 120_000 },
    async () => {
      const fixture = await clusterFixture(sandbox, {
        NATS_URL: nats.url,
        CLUSTER_NAME: 'late',
        CLUSTER_REPLICAS: '1',
      });
      let b: Replica | null = null;
      const a = await startReplica(fixture, 'a');
      try {
        b = await startReplica(fixture, 'b');
        expect(await outcomes(a, failure(0))).toEqual({ paged: 1 });
        expect(await outcomes(a, recovery(10))).toEqual({ resolved: 1 });
        await waitFor(async () => (await counts(b as Replica)).resolved === 1);
        expect(await outcomes(b, failure(5))).toEqual({ ignored: 1 });
        expect(await exposition(b.url)).toMatch(/^incident_router_late_failures_total 1$/m);
        // A replica started after the recovery learns it from the key view.
        await stopReplica(b);
        b = await startReplica(fixture, 'b');
        expect(await outcomes(b, failure(10))).toEqual({ ignored: 1 });
        expect((await counts(b)).triggered).toBe(0);
        // A newer failure is a new incident, on every replica.
        expect(await outcomes(b, failure(11))).toEqual({ paged: 1 });
        await waitFor(async () => (await counts(a)).triggered === 1);
        expect(await outcomes(a, failure(3))).toEqual({ deduplicated: 1 }); // its repeat, whatever its time
      } finally {
        await Promise.all([a, b].filter((r): r is Replica => r !== null).map((r) => stopReplica(r)));
        await fixture.dispose();
      }
    },
  );

  it(
    'a failure line one replica counted as a repeat, overtaken by an older recovery another applied, opens a new incident',
    { timeout: 120_000 },
    async () => {
      // Replicas take lines from one stream in batches: the failure at 20 s reached b, which
      // counted it as a repeat, before the recovery at 10 s reached a. In arrival order the
      // recovery resolves and the failure opens the next incident; without b applying its line
      // again, the failure would be in a resolved incident and nobody paged.
      await withTwoReplicas('overtaken', async (a, b) => {
        expect(await outcomes(a, failure(0))).toEqual({ paged: 1 });
        await waitFor(async () => (await counts(b)).triggered === 1);
        expect(await outcomes(b, failure(20))).toEqual({ deduplicated: 1 });
        expect(await outcomes(a, recovery(10))).toEqual({ resolved: 1 });
        await bothCount([a, b], 1, 1);
        expect(await exposition(b.url)).toMatch(/^incident_router_overtaken_lines_total 1$/m);
        const listed = (await get(`${a.url}/api/v1/incidents?limit=10`)).body.incidents as Array<{
          id: string;
          state: string;
          event: { timestamp: string };
        }>;
        const open = listed.filter((i) => i.state === 'triggered');
        expect(open.map((i) => i.event.timestamp)).toEqual([at(20)]);
        // And a line no newer than that recovery, overtaken the same way, opens nothing.
        expect(await outcomes(b, failure(25))).toEqual({ deduplicated: 1 });
        expect(await outcomes(a, recovery(30))).toEqual({ resolved: 1 });
        await waitFor(async () => (await counts(b)).resolved === 2);
        await new Promise((r) => setTimeout(r, 500));
        expect((await counts(a)).triggered + (await counts(b)).triggered).toBe(0);
      });
    },
  );

  it(
    'a recovery line applied on one replica before another opened an older failure line resolves that incident',
    { timeout: 120_000 },
    async () => {
      // The failure at 5 s and the recovery at 10 s went to different replicas: b applied the
      // recovery first and found nothing open; a then opened the failure. In arrival order the
      // recovery resolves it; without b applying its line again it would stay open for good.
      await withTwoReplicas('early-recovery', async (a, b) => {
        expect(await outcomes(b, recovery(10))).toEqual({ ignored: 1 });
        expect(await outcomes(a, failure(5))).toEqual({ paged: 1 });
        await bothCount([a, b], 1, 0);
        expect(await exposition(b.url)).toMatch(/^incident_router_overtaken_lines_total 1$/m);
        // A failure newer than that recovery is a new incident, and stays open.
        expect(await outcomes(b, recovery(20))).toEqual({ ignored: 1 });
        expect(await outcomes(a, failure(30))).toEqual({ paged: 1 });
        await waitFor(async () => (await counts(b)).triggered === 1);
        await new Promise((r) => setTimeout(r, 500));
        expect((await counts(a)).triggered).toBe(1);
        expect(await exposition(b.url)).toMatch(/^incident_router_overtaken_lines_total 1$/m);
      });
    },
  );
});
