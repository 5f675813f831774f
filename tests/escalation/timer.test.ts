// The escalation timer as pure functions (src/escalation/timer.ts): tiers in order, skipped when
// they reach nobody, the route's providers when nothing reaches anyone, repeats, acknowledgement,
// ack_timeout and restarts.
import { describe, expect, it } from 'vitest';
import type { EscalationPlan } from '../../src/domain/escalation.js';
import {
  acknowledgedEscalation,
  beginEscalation,
  fireTier,
  restartedEscalation,
  stoppedEscalation,
  type FireDeps,
} from '../../src/escalation/timer.js';
import type { CompiledSchedule } from '../../src/oncall/index.js';

const MIN = 60_000;
const T0 = Date.parse('2026-11-24T03:00:00Z');

/** A schedule whose on-call answer the test sets (onCallAt reads its layers; none: nobody). */
const emptySchedule = {
  name: 'night',
  timezone: 'UTC',
  minCoverage: 0,
  layers: [],
  overrides: [],
  coverageDuring: null,
} as unknown as CompiledSchedule;

const deps: FireDeps = {
  directory: {
    people: new Map([
      [
        'lead',
        { name: 'lead', opsgenie: { username: 'lead@example.com' }, pagerduty: { routing_key: 'LEADKEY' } },
      ],
      ['og-only', { name: 'og-only', opsgenie: { username: 'og@example.com' } }],
    ]),
    schedules: new Map([['night', emptySchedule]]),
  },
  typeOf: (p) => (p === 'pagerduty' || p === 'opsgenie' ? p : undefined),
};

function plan(overrides: Partial<EscalationPlan> = {}): EscalationPlan {
  return {
    name: 'p',
    route: { name: 'r', mode: 'failover', providers: ['pagerduty', 'opsgenie'] },
    tiers: [
      {
        after_ms: 0,
        targets: [{ person: 'og-only' }],
        deliver: { mode: 'failover', providers: ['pagerduty', 'opsgenie'] },
      },
      {
        after_ms: 15 * MIN,
        targets: [{ person: 'lead' }],
        deliver: { mode: 'all', providers: ['pagerduty', 'opsgenie'] },
      },
    ],
    repeat: null,
    ack_timeout_ms: null,
    ...overrides,
  };
}

describe('escalation timer', () => {
  it('fires tier 1 at once and schedules tier 2 after its after', () => {
    const fired = fireTier(beginEscalation(plan(), T0), T0, deps);
    expect(fired.tier).toBe(1);
    // PagerDuty cannot address og-only: it gets the trigger with its own routing key.
    expect(fired.deliveries).toMatchObject([
      {
        mode: 'failover',
        candidates: ['pagerduty', 'opsgenie'],
        targets: { pagerduty: {}, opsgenie: { responders: [{ type: 'user', username: 'og@example.com' }] } },
      },
    ]);
    expect(fired.next).toMatchObject({ next_tier: 1, due_at: T0 + 15 * MIN, due: 'tier', fired_tier: 1 });
  });

  it('fires tier 2 on every provider of its own deliver, each with the lead', () => {
    const first = fireTier(beginEscalation(plan(), T0), T0, deps);
    const second = fireTier(first.next, T0 + 15 * MIN, deps);
    expect(second.tier).toBe(2);
    expect(second.deliveries.map((d) => [d.candidates, d.targets])).toEqual([
      [['pagerduty'], { pagerduty: { routing_key: 'LEADKEY' } }],
      [['opsgenie'], { opsgenie: { responders: [{ type: 'user', username: 'lead@example.com' }] } }],
    ]);
    expect(second.next).toMatchObject({ due_at: null, due: null, fired_tier: 2 });
  });

  it('skips a tier whose schedule has nobody on call, at once', () => {
    const p = plan();
    p.tiers[0] = { ...p.tiers[0]!, targets: [{ schedule: 'night' }] };
    const fired = fireTier(beginEscalation(p, T0), T0, deps);
    expect(fired.tier).toBe(2);
    expect(fired.skipped).toEqual(['tier 1: schedule "night": nobody on call']);
    expect(fired.emptySchedules).toEqual(['night']);
    expect(fired.next.due_at).toBeNull();
  });

  it('pages the route’s providers when no tier reaches anyone: never dropped', () => {
    const p = plan({
      tiers: [
        { after_ms: 0, targets: [{ schedule: 'night' }], deliver: { mode: 'all', providers: ['opsgenie'] } },
      ],
    });
    const fired = fireTier(beginEscalation(p, T0), T0, deps);
    expect(fired.fallback).toBe(true);
    expect(fired.deliveries).toMatchObject([
      { mode: 'failover', candidates: ['pagerduty', 'opsgenie'], tier: 1 },
    ]);
  });

  it('repeats the tiers `times` times, each round after the last tier waited `after`', () => {
    let esc = beginEscalation(plan({ repeat: { times: 1, after_ms: 10 * MIN } }), T0);
    const fired: [number, number][] = [];
    for (let i = 0; i < 10 && esc.due_at !== null; i++) {
      const at = esc.due_at;
      const f = fireTier(esc, at, deps);
      fired.push([f.tier, (at - T0) / MIN]);
      esc = f.next;
    }
    expect(fired).toEqual([
      [1, 0],
      [2, 15],
      [1, 25],
      [2, 40],
    ]);
  });

  it('acknowledged: stopped, or an ack_timeout; triggered again: tier 1 now; resolved: stopped', () => {
    const esc = fireTier(beginEscalation(plan({ ack_timeout_ms: 60 * MIN }), T0), T0, deps).next;
    expect(acknowledgedEscalation(esc, T0 + MIN)).toMatchObject({
      due: 'ack_timeout',
      due_at: T0 + 61 * MIN,
    });
    expect(acknowledgedEscalation({ ...esc, plan: plan() }, T0 + MIN)).toMatchObject({
      due: null,
      due_at: null,
    });
    expect(restartedEscalation(esc, T0 + 30 * MIN)).toMatchObject({
      next_tier: 0,
      started_at: T0 + 30 * MIN,
      due_at: T0 + 30 * MIN,
    });
    expect(stoppedEscalation(esc)).toMatchObject({ due: null, due_at: null });
  });
});
