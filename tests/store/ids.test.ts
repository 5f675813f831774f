import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { IdGenerator, idTimeMs } from '../../src/store/ids.js';

describe('ids', () => {
  it('sort by creation time, also within one millisecond and when the clock steps back', () => {
    const clock = new ManualClock(1_700_000_000_000);
    const ids = new IdGenerator(clock);
    const made: string[] = [];
    for (let i = 0; i < 500; i++) made.push(ids.deliveryId());
    clock.advance(1);
    made.push(ids.deliveryId());
    clock.advance(-10_000);
    made.push(ids.deliveryId(), ids.deliveryId());
    expect([...made].sort()).toEqual(made);
    expect(new Set(made).size).toBe(made.length);
  });

  it('carry their prefix and time', () => {
    const ids = new IdGenerator(new ManualClock(1_700_000_000_123));
    const id = ids.incidentId();
    expect(id).toMatch(/^inc_[0-9a-z]{19}$/);
    expect(idTimeMs(id)).toBe(1_700_000_000_123);
    expect(ids.deliveryId()).toMatch(/^d_/);
    expect(idTimeMs('inc_1')).toBeNull();
    expect(ids.correlationId()).toMatch(/^[0-9a-f-]{36}$/);
  });
});
