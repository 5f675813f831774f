// An OpsGenie API key rotated out while alerts it opened are open (docs/providers.md, "Rotating an
// OpsGenie API key"): the sidecar restarts with the new key, and resolving such an incident closes
// its alert with the key configured now (the stored one answers 401), says so on the timeline, and
// keeps the new key for what follows. In both state backends.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { get, post, startTestApp, stateEnv, waitFor } from '../helpers/app.js';

const OLD_KEY = 'og-key-before-the-rotation-0001';
const NEW_KEY = 'og-key-after-the-rotation-00002';
// The default route's failover: PagerDuty refuses this alert's trigger once, so OpsGenie holds it.
const ALERT = { title: 'Export stuck', source: 'export', severity: 'high', service_name: 'order-service' };

let sandbox: Sandbox;
let root: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  root = await mkdtemp(join(tmpdir(), 'ir-og-rotation-'));
});
afterAll(async () => {
  await sandbox.stop();
  await rm(root, { recursive: true, force: true });
});

it('an alert opened with a key rotated out since is closed with the key configured now', async () => {
  // One state for both runs: the same DATA_DIR, or the same cluster's buckets.
  const state = { ...(await stateEnv()), DATA_DIR: join(root, 'data') };
  sandbox.opsgenie.requireApiKey(OLD_KEY);
  sandbox.pagerduty.injectFault({ kind: 'status', status: 400, times: 1 });
  const before = await startTestApp({ ...state, OPSGENIE_API_KEY: OLD_KEY }, { sandbox });
  const opened = await post(`${before.url}/api/v1/alerts`, ALERT);
  expect(opened.status).toBe(202);
  const id = opened.body.incident_id as string;
  await waitFor(async () => sandbox.opsgenie.alerts()[0]?.status === 'open');
  await before.stop();

  sandbox.opsgenie.requireApiKey(NEW_KEY);
  const after = await startTestApp({ ...state, OPSGENIE_API_KEY: NEW_KEY }, { sandbox });
  try {
    expect((await post(`${after.url}/api/v1/incidents/${id}/resolve`, { note: 'fixed' })).status).toBe(200);
    await waitFor(async () => sandbox.opsgenie.alerts()[0]?.status === 'closed');
    const closes = sandbox.opsgenie.requests().filter((r) => r.path.endsWith('/close'));
    expect(closes.map((r) => r.status)).toEqual([401, 202]);
    // The simulator closes the alert before its 202 reaches the sidecar, which then records it.
    const detailUrl = `${after.url}/api/v1/incidents/${id}`;
    await waitFor(async () => (await get(detailUrl)).body.holds?.opsgenie?.state === 'resolved');
    const detail = await get(detailUrl);
    expect(detail.body.state).toBe('resolved');
    expect(detail.body.holds.opsgenie).toMatchObject({
      state: 'resolved',
      api_key: `****${NEW_KEY.slice(-4)}`,
    });
    const delivered = (detail.body.timeline as { type: string; message: string }[]).filter(
      (e) => e.type === 'delivered' && e.message.startsWith('resolve'),
    );
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.message).toContain('with the API key configured now');
    expect(JSON.stringify(detail.body)).not.toContain(NEW_KEY);
  } finally {
    await after.stop();
  }
});
