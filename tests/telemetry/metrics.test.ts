// Hot-path counters (src/telemetry/metrics.ts): tallies reach the counter whenever it is read.
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/telemetry/metrics.js';

describe('tallied counters', () => {
  it('report tallies in get() and in the Prometheus text, once each', async () => {
    const metrics = new Metrics();
    const ignored = metrics.decisions.tally('ignored');
    expect(metrics.decisions.tally('ignored')).toBe(ignored);
    for (let i = 0; i < 5; i++) ignored.inc();
    metrics.decisions.tally('paged').inc();
    metrics.decisions.inc({ outcome: 'paged' }); // the ordinary way still adds up
    const values = async (): Promise<Record<string, number>> =>
      Object.fromEntries(
        (await metrics.decisions.get()).values.map((v) => [String(v.labels.outcome), v.value]),
      );
    expect(await values()).toEqual({ ignored: 5, paged: 2 });
    expect(await values()).toEqual({ ignored: 5, paged: 2 }); // reading does not count twice
    ignored.inc();
    const text = await metrics.registry.metrics();
    expect(text).toContain('incident_router_decisions_total{outcome="ignored"} 6');
    expect(text).toContain('incident_router_decisions_total{outcome="paged"} 2');
  });
});
