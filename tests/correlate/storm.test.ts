// Storm control's sliding window per service (src/correlate/storm.ts).
import { describe, expect, it } from 'vitest';
import { StormGuard } from '../../src/correlate/storm.js';

const WINDOW = 60_000;

describe('storm guard', () => {
  it('admits max_new_incidents per service inside the sliding window', () => {
    const guard = new StormGuard();
    expect([0, 1, 2].map((t) => guard.admit('api', t * 1000, 2, WINDOW))).toEqual([true, true, false]);
    expect(guard.admit('db', 3000, 2, WINDOW)).toBe(true); // another service has its own count
    expect(guard.admit('api', WINDOW, 2, WINDOW)).toBe(true); // the first has slid out
    expect(guard.admit('api', WINDOW + 500, 2, WINDOW)).toBe(false);
    expect(guard.admit('api', WINDOW + 1000, 2, WINDOW)).toBe(true);
    expect(guard.admit('api', WINDOW + 1000, 0, WINDOW)).toBe(false);
    expect(guard.admit('new', 0, 0, WINDOW)).toBe(false);
  });

  it('forgets services without recent incidents, so memory follows the active services', () => {
    const guard = new StormGuard();
    for (let i = 0; i < 1000; i++) guard.admit(`svc-${i}`, i, 10, WINDOW);
    expect(guard.services).toBe(1000);
    guard.admit('late', 2 * WINDOW, 10, WINDOW);
    expect(guard.services).toBe(1);
    // A service admitted inside the window is kept.
    guard.admit('later', 2 * WINDOW + 10, 10, WINDOW);
    guard.admit('latest', 3 * WINDOW + 5, 10, WINDOW);
    expect(guard.services).toBe(2);
  });

  it('also forgets a service whose times all expired while a zero limit admitted nothing', () => {
    const guard = new StormGuard();
    guard.admit('x', 0, 5, WINDOW); // sweeps; the next sweep is due at WINDOW
    guard.admit('a', WINDOW - 1, 5, WINDOW);
    guard.admit('y', WINDOW, 5, WINDOW); // sweeps: 'a' is recent and stays
    expect(guard.admit('a', 2 * WINDOW - 1, 0, WINDOW)).toBe(false); // its time expires: none left
    guard.admit('z', 2 * WINDOW, 5, WINDOW);
    expect(guard.services).toBe(1);
  });

  it('at rest, forgets the services outside the last window without waiting for an admission', () => {
    const guard = new StormGuard();
    guard.forgetIdle(0); // nothing admitted yet: no window known, nothing to do
    for (let i = 0; i < 100; i++) guard.admit(`svc-${i}`, 1000, 10, WINDOW);
    guard.admit('recent', WINDOW, 10, WINDOW);
    guard.forgetIdle(WINDOW + 999);
    expect(guard.services).toBe(101); // 1000 + WINDOW is not past yet
    guard.forgetIdle(WINDOW + 1000);
    expect(guard.services).toBe(1);
    expect(guard.admit('recent', WINDOW + 1000, 1, WINDOW)).toBe(false); // its count kept
  });
});
