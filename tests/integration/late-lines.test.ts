// A recovery line older than the newest failure of its incident does not resolve it. JetStream
// redelivers what a crash left unacked only after ack_wait, behind newer lines: a recovery replayed
// late would otherwise close an incident whose failure is current, and the next page would be lost
// (found by the soak run: bench/soak.mjs). The reverse: a failure line no newer than the recovery
// that resolved its incident opens nothing; it would page for a problem that is over, in an
// incident never resolved (found by the cluster test's NATS node SIGKILL, which redelivered them).
import { describe, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { exposition, get, startTestApp, TEST_STATE } from '../helpers/app.js';
import { dbFailure, dbRecovery, outcomesOf } from '../helpers/db-lines.js';

describe('late lines', () => {
  it('a recovery older than the newest failure is ignored; a newer one resolves', async () => {
    const t = await startTestApp();
    try {
      const fail = (ts: string) => outcomesOf(t.url, dbFailure(ts));
      const recover = (ts: string) => outcomesOf(t.url, dbRecovery(ts));
      expect(await fail('2026-11-24T10:00:00Z')).toEqual({ paged: 1 });
      expect(await fail('2026-11-24T10:00:05Z')).toEqual({ deduplicated: 1 });
      expect(await recover('2026-11-24T10:00:03Z')).toEqual({ ignored: 1 });
      const open = (await get(`${t.url}/api/v1/incidents?state=triggered`)).body.incidents;
      expect(open).toHaveLength(1);
      expect(await exposition(t.url)).toMatch(/^incident_router_stale_resolves_total 1$/m);
      expect(await recover('2026-11-24T10:00:06Z')).toEqual({ resolved: 1 });
    } finally {
      await t.stop();
    }
  });

  it('a failure no newer than the recovery that resolved its incident opens nothing; a newer one opens', async () => {
    const t = await startTestApp();
    try {
      const fail = (ts: string) => outcomesOf(t.url, dbFailure(ts));
      const recover = (ts: string) => outcomesOf(t.url, dbRecovery(ts));
      expect(await fail('2026-11-24T10:00:00Z')).toEqual({ paged: 1 });
      expect(await recover('2026-11-24T10:00:10Z')).toEqual({ resolved: 1 });
      // Redelivered or raced: older than the recovery, and as old (ties go to the recovery).
      expect(await fail('2026-11-24T10:00:05Z')).toEqual({ ignored: 1 });
      expect(await fail('2026-11-24T10:00:10Z')).toEqual({ ignored: 1 });
      expect(await exposition(t.url)).toMatch(/^incident_router_late_failures_total 2$/m);
      const resolved = (await get(`${t.url}/api/v1/incidents?state=resolved`)).body.incidents;
      expect(resolved).toHaveLength(1);
      expect(resolved[0].recovery_line_at).toBe('2026-11-24T10:00:10.000Z');
      expect((await get(`${t.url}/api/v1/incidents?state=triggered`)).body.incidents).toHaveLength(0);
      // A failure after the recovery is a new one.
      expect(await fail('2026-11-24T10:00:11Z')).toEqual({ paged: 1 });
      const open = (await get(`${t.url}/api/v1/incidents?state=triggered`)).body.incidents;
      expect(open).toHaveLength(1);
      expect(open[0].recovery_line_at).toBeUndefined();
    } finally {
      await t.stop();
    }
  });

  it('the recovery is remembered across a restart', async () => {
    // The same state again: LevelDB's data directory, or the cluster's buckets.
    const same: Record<string, string> =
      TEST_STATE === 'jetstream' ? { CLUSTER_NAME: `late${Date.now()}` } : {};
    const first = await startTestApp(same);
    expect(await outcomesOf(first.url, dbFailure('2026-11-24T10:00:00Z'))).toEqual({ paged: 1 });
    expect(await outcomesOf(first.url, dbRecovery('2026-11-24T10:00:10Z'))).toEqual({ resolved: 1 });
    await first.app.stop(500);
    const second = await startTestApp({ ...same, DATA_DIR: first.dataDir });
    try {
      expect(await outcomesOf(second.url, dbFailure('2026-11-24T10:00:05Z'))).toEqual({ ignored: 1 });
      expect(await outcomesOf(second.url, dbFailure('2026-11-24T10:00:11Z'))).toEqual({ paged: 1 });
    } finally {
      await second.stop();
      await rm(dirname(first.dataDir), { recursive: true, force: true });
    }
  });

  it('a recovery stamped ahead of our clock counts as now: a failure after now still opens', async () => {
    const t = await startTestApp();
    try {
      const now = Date.now();
      expect(await outcomesOf(t.url, dbFailure(now - 60_000))).toEqual({ paged: 1 });
      expect(await outcomesOf(t.url, dbRecovery(now + 3_600_000))).toEqual({ resolved: 1 });
      expect(await outcomesOf(t.url, dbFailure(now - 30_000))).toEqual({ ignored: 1 });
      expect(await outcomesOf(t.url, dbFailure(Date.now() + 60_000))).toEqual({ paged: 1 });
    } finally {
      await t.stop();
    }
  });

  it('a failure stamped ahead of our clock counts as now: a recovery after now still resolves', async () => {
    const t = await startTestApp();
    try {
      expect(await outcomesOf(t.url, dbFailure(Date.now() + 3_600_000))).toEqual({ paged: 1 });
      expect(await outcomesOf(t.url, dbRecovery(Date.now() + 60_000))).toEqual({ resolved: 1 });
    } finally {
      await t.stop();
    }
  });
});
