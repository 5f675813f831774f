// Flap damping's arithmetic (docs/policy-language.md, "Flap damping"): which open of a fingerprint
// is held, from what its last incident left behind.
import { describe, expect, it } from 'vitest';
import { flapOnOpen, type FlapTrace } from '../../src/domain/flap.js';

const damping = { max_repages: 2, window_ms: 60_000, hold_ms: 30_000 };

describe('flap damping - which re-trigger is held', () => {
  it('with max_repages 2, ten cycles in a minute page three times (the first open and two re-pages)', () => {
    let previous: FlapTrace | undefined;
    const paged: number[] = [];
    for (let i = 0; i < 10; i++) {
      const at = i * 6_000;
      const flap = flapOnOpen(previous, damping, at);
      if (flap.release_at === null) paged.push(i);
      else expect(flap).toMatchObject({ held_at: at, release_at: at + 30_000 });
      previous = { resolvedAtMs: at + 3_000, retriggers: flap.retriggers };
    }
    expect(paged).toEqual([0, 1, 2]);
  });

  it('a re-trigger after the window has passed is a fresh start', () => {
    const old: FlapTrace = { resolvedAtMs: 0, retriggers: [1, 2, 3, 4] };
    expect(flapOnOpen(old, damping, 61_000)).toMatchObject({ retriggers: [], release_at: null });
    // Re-triggers older than the window stop counting.
    const recent: FlapTrace = { resolvedAtMs: 50_000, retriggers: [1_000, 2_000, 45_000] };
    expect(flapOnOpen(recent, damping, 62_000)).toMatchObject({
      retriggers: [45_000, 62_000],
      release_at: null,
    });
  });
});
