// How long repeats' counts wait to be written back (src/incidents/incidents.ts, `writeBackDelay`): a
// second, longer when write-backs take long, so they never take more than about a quarter of the time.
import { describe, expect, it } from 'vitest';
import { writeBackDelay } from '../../src/incidents/incidents.js';

describe('writeBackDelay', () => {
  it('is a second while write-backs are quick', () => {
    expect(writeBackDelay(0)).toBe(1_000);
    expect(writeBackDelay(120)).toBe(1_000);
    expect(writeBackDelay(333)).toBe(1_000);
  });

  it('is three times a slow write-back, so the writer spends at most a quarter of the time on them', () => {
    expect(writeBackDelay(500)).toBe(1_500);
    expect(writeBackDelay(1_000)).toBe(3_000);
    const took = 2_000;
    expect(took / (took + writeBackDelay(took))).toBeLessThanOrEqual(0.25);
  });

  it('never more than 10 s: what a crash can cost stays bounded', () => {
    expect(writeBackDelay(5_000)).toBe(10_000);
    expect(writeBackDelay(60_000)).toBe(10_000);
  });
});
