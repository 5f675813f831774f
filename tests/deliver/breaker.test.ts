import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { CircuitBreaker, breakerGauge, parseBreakerState } from '../../src/deliver/breaker.js';
import type { BreakerKind, BreakerState } from '../../src/deliver/breaker.js';
import type { BreakerSettings } from '../../src/policy/types.js';

const SETTINGS: BreakerSettings = {
  consecutive_failures: 3,
  failure_rate: 0.5,
  min_requests: 4,
  window: '1m',
  cooldown: '30s',
};
const T0 = 1_700_000_000_000;

/** ok / fail / ignored record an outcome; `+ms` moves the clock; `try:yes|no` expects canAttempt. */
type Step = 'ok' | 'fail' | 'ignored' | `+${number}` | 'try:yes' | 'try:no';

function run(steps: Step[], settings: Partial<BreakerSettings> = {}, initial?: BreakerState) {
  const clock = new ManualClock(T0);
  const breaker = new CircuitBreaker('pagerduty', { ...SETTINGS, ...settings }, clock, initial);
  const transitions: string[] = [];
  breaker.onChange((from, to, state) => {
    expect(state.kind).toBe(to);
    transitions.push(`${from}->${to}`);
  });
  steps.forEach((step, i) => {
    if (step === 'ok') breaker.record('success');
    else if (step === 'fail') breaker.record('failure');
    else if (step === 'ignored') breaker.record('ignored');
    else if (step.startsWith('+')) clock.advance(Number(step.slice(1)));
    else expect(breaker.canAttempt(), `step ${i} (${step})`).toBe(step === 'try:yes');
  });
  return { breaker, clock, transitions };
}

const OPEN: Step[] = ['fail', 'fail', 'fail'];
const HALF_OPEN: Step[] = [...OPEN, '+30000', 'try:yes'];

describe('circuit breaker', () => {
  it.each<{
    name: string;
    steps: Step[];
    settings?: Partial<BreakerSettings>;
    kind: BreakerKind;
    transitions?: string[];
  }>([
    { name: 'two failures keep it closed', steps: ['fail', 'fail', 'try:yes'], kind: 'closed' },
    {
      name: 'consecutive failures open it',
      steps: [...OPEN, 'try:no'],
      kind: 'open',
      transitions: ['closed->open'],
    },
    {
      name: 'a success resets the consecutive count',
      steps: ['fail', 'fail', 'ok', 'fail', 'fail'],
      settings: { failure_rate: 0.9 },
      kind: 'closed',
    },
    {
      name: 'the failure rate opens it once min_requests is reached',
      steps: ['ok', 'fail', 'ok', 'fail'],
      settings: { consecutive_failures: 10 },
      kind: 'open',
    },
    {
      name: 'the failure rate needs min_requests',
      steps: ['ok', 'fail', 'fail'],
      settings: { consecutive_failures: 10 },
      kind: 'closed',
    },
    {
      name: 'outcomes older than the window do not count',
      steps: ['fail', 'fail', '+60000', 'ok', 'fail', 'ok', 'ok'],
      settings: { consecutive_failures: 10 },
      kind: 'closed',
    },
    {
      name: 'ignored outcomes (caller errors) neither count nor reset',
      steps: ['fail', 'fail', 'ignored', 'ignored', 'ignored', 'ignored', 'try:yes', 'fail'],
      kind: 'open',
    },
    { name: 'open refuses until the cool-down ends', steps: [...OPEN, '+29999', 'try:no'], kind: 'open' },
    {
      name: 'after the cool-down it admits exactly one probe',
      steps: [...HALF_OPEN, 'try:no', 'try:no'],
      kind: 'half_open',
      transitions: ['closed->open', 'open->half_open'],
    },
    {
      name: 'a successful probe closes it',
      steps: [...HALF_OPEN, 'ok', 'try:yes', 'try:yes'],
      kind: 'closed',
      transitions: ['closed->open', 'open->half_open', 'half_open->closed'],
    },
    {
      name: 'a failed probe re-opens it for a fresh cool-down',
      steps: [...HALF_OPEN, 'fail', 'try:no', '+29999', 'try:no', '+1', 'try:yes'],
      kind: 'half_open',
      transitions: ['closed->open', 'open->half_open', 'half_open->open', 'open->half_open'],
    },
    {
      name: 'an inconclusive probe frees the slot',
      steps: [...HALF_OPEN, 'ignored', 'try:yes', 'try:no'],
      kind: 'half_open',
    },
    {
      name: 'a probe that never reports frees the slot after a cool-down',
      steps: [...HALF_OPEN, '+30000', 'try:yes'],
      kind: 'half_open',
    },
    { name: 'stragglers while open change nothing', steps: [...OPEN, 'ok', 'ok', 'try:no'], kind: 'open' },
  ])('$name', ({ steps, settings, kind, transitions }) => {
    const result = run(steps, settings);
    expect(result.breaker.state().kind).toBe(kind);
    if (transitions) expect(result.transitions).toEqual(transitions);
  });

  it('says when it will admit the next request', () => {
    const { breaker, clock } = run(OPEN);
    expect(breaker.retryAt()).toBe(T0 + 30_000);
    clock.advance(30_000);
    expect(breaker.canAttempt()).toBe(true);
    expect(breaker.retryAt()).toBe(T0 + 60_000); // the probe's slot is taken until it reports or times out
    breaker.record('success');
    expect(breaker.retryAt()).toBeNull();
  });

  it('counts re-opens and resets them when it closes', () => {
    const { breaker, clock } = run([...HALF_OPEN, 'fail', '+30000', 'try:yes', 'fail']);
    expect(breaker.state()).toEqual({ kind: 'open', openedAt: T0 + 60_000, reopenCount: 2 });
    clock.advance(30_000);
    breaker.canAttempt();
    expect(breaker.state()).toMatchObject({ kind: 'half_open', reopenCount: 2 });
    breaker.record('success');
    for (let i = 0; i < 3; i++) breaker.record('failure');
    expect(breaker.state()).toEqual({ kind: 'open', openedAt: T0 + 90_000, reopenCount: 0 });
  });

  describe('survives a restart', () => {
    it.each<{ name: string; steps: Step[]; after: Step[]; kind: BreakerKind }>([
      {
        name: 'closed, with its failure count',
        steps: ['fail', 'fail'],
        after: ['fail', 'try:no'],
        kind: 'open',
      },
      {
        name: 'open, keeping its cool-down',
        steps: [...OPEN, '+10000'],
        after: ['try:no', '+20000', 'try:yes'],
        kind: 'half_open',
      },
      {
        name: 'half open with a probe in flight (crash mid-probe): the probe slot is free again',
        steps: HALF_OPEN,
        after: ['try:yes', 'try:no', 'ok'],
        kind: 'closed',
      },
    ])('$name', ({ steps, after, kind }) => {
      const before = run(steps);
      const stored: unknown = JSON.parse(JSON.stringify(before.breaker.state()));
      const restored = parseBreakerState(stored);
      expect(restored).toBeDefined();
      const clockAt = before.clock.now() - T0;
      const resumed = run([`+${clockAt}`, ...after], {}, restored);
      expect(resumed.breaker.state().kind).toBe(kind);
    });

    it('rejects what is not a breaker state', () => {
      for (const junk of [
        null,
        3,
        'open',
        {},
        { kind: 'open' },
        { kind: 'closed', failures: 'x', window: [] },
      ])
        expect(parseBreakerState(junk)).toBeUndefined();
    });
  });

  it('maps kinds to gauge values', () => {
    expect([breakerGauge('closed'), breakerGauge('open'), breakerGauge('half_open')]).toEqual([0, 1, 2]);
  });

  it('keeps at most the newest 1,000 outcomes within the window, however many it records', () => {
    // 1,500 successes, then failures: the rate counts only the newest 1,000 outcomes.
    const many = run([...Array<Step>(1_500).fill('ok'), ...Array<Step>(499).fill('fail')], {
      consecutive_failures: 10_000,
    });
    expect(many.breaker.state()).toMatchObject({ kind: 'closed', failures: 499 });
    expect((many.breaker.state() as { window: unknown[] }).window).toHaveLength(1_000);
    many.breaker.record('failure'); // 500 of the newest 1,000
    expect(many.breaker.state().kind).toBe('open');

    // Outcomes past the window are gone from the state, not only from the rate.
    const old = run([...Array<Step>(3_000).fill('ok'), '+60000', 'ok']);
    expect((old.breaker.state() as { window: unknown[] }).window).toHaveLength(1);
  });

  it('state() is a copy', () => {
    const { breaker } = run(['fail']);
    const state = breaker.state();
    if (state.kind === 'closed') state.window.push({ at: 0, ok: false });
    expect(breaker.state()).toMatchObject({ kind: 'closed', failures: 1 });
    expect((breaker.state() as { window: unknown[] }).window).toHaveLength(1);
  });

  it('a listener can unsubscribe', () => {
    const clock = new ManualClock(T0);
    const breaker = new CircuitBreaker('opsgenie', SETTINGS, clock);
    const seen: string[] = [];
    const off = breaker.onChange((from, to) => seen.push(`${from}->${to}`));
    off();
    for (let i = 0; i < 3; i++) breaker.record('failure');
    expect(seen).toEqual([]);
  });
});
