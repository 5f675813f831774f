// The dispatcher with scripted providers: retry, failover, refusals, breakers, ordering, rate
// limits, supersession and timeouts, one scenario each.
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/domain/clock.js';
import type { Delivery } from '../../src/domain/incident.js';
import { Dispatcher, type DeliveryHooks, type FailureOutcome } from '../../src/deliver/dispatcher.js';
import { newDelivery } from '../../src/deliver/plan.js';
import type { ProviderSpec } from '../../src/policy/types.js';
import {
  ProviderError,
  type Provider,
  type ProviderRequest,
  type ProviderResponse,
} from '../../src/providers/provider.js';
import type { ProviderRegistry } from '../../src/providers/registry.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { Metrics } from '../../src/telemetry/metrics.js';
import { waitFor } from '../helpers/app.js';
import { memoryBreakers, SETTINGS } from './support.js';

type Script = (request: ProviderRequest, signal: AbortSignal) => Promise<ProviderResponse>;
const ok: Script = async () => ({ status: 202, ref: 'ref' });
const fail =
  (reason: 'server_error' | 'client_error' | 'rate_limited', retryAfterMs: number | null = null): Script =>
  async () => {
    throw new ProviderError('p', reason, `${reason}!`, {
      retryable: reason !== 'client_error',
      status: reason === 'client_error' ? 400 : reason === 'rate_limited' ? 429 : 500,
      retryAfterMs,
    });
  };

class FakeProviders {
  readonly calls: { provider: string; action: string; at: number; incident: string }[] = [];
  scripts: Record<string, Script[]> = {};
  fallback: Record<string, Script> = {};
  registry(names: string[]): ProviderRegistry {
    const provider = (name: string): Provider => ({
      name,
      type: 'webhook',
      target: () => ({ url: `http://${name}`, routing_key: `key-${name}` }),
      send: (request, signal) => {
        this.calls.push({
          provider: name,
          action: request.action,
          at: Date.now(),
          incident: request.incident.id,
        });
        const script = this.scripts[name]?.shift() ?? this.fallback[name] ?? ok;
        return script(request, signal);
      },
    });
    const map = new Map(names.map((n) => [n, provider(n)]));
    return {
      get: (n) => map.get(n)!,
      has: (n) => map.has(n),
      names: () => [...map.keys()],
      close: async () => {},
    } as ProviderRegistry;
  }
}

class Recorder implements DeliveryHooks {
  readonly done: { id: string; provider: string }[] = [];
  readonly failures: { id: string; provider: string; reason: string; outcome: FailureOutcome }[] = [];
  /** While set, recording a success waits for it (a slow write). */
  gate: Promise<void> | null = null;
  async request(d: Delivery, provider: string): Promise<ProviderRequest> {
    return {
      action: d.action,
      incident: { id: d.incident_id } as never,
      target: { url: provider, routing_key: 'shared-key' },
      note: null,
      incidentUrl: '',
    };
  }
  async delivered(d: Delivery, provider: string): Promise<Delivery[]> {
    await this.gate;
    this.done.push({ id: d.id, provider });
    return [];
  }
  async failed(d: Delivery, provider: string, error: ProviderError, outcome: FailureOutcome): Promise<void> {
    this.failures.push({ id: d.id, provider, reason: error.reason, outcome });
  }
}

function setup(names = ['a', 'b'], specs: Record<string, Partial<ProviderSpec>> = {}, maxInFlight = 64) {
  const metrics = new Metrics();
  const fakes = new FakeProviders();
  const hooks = new Recorder();
  const breakers = memoryBreakers(metrics);
  const dispatcher = new Dispatcher({
    clock: systemClock,
    random: () => 1,
    breakers,
    hooks,
    logger: silentLogger(),
    metrics,
    maxInFlight,
  });
  const fullSpecs = Object.fromEntries(
    names.map((n) => [n, { type: 'webhook', url: `http://${n}`, ...specs[n] } as ProviderSpec]),
  );
  dispatcher.configure(fakes.registry(names), fullSpecs, SETTINGS);
  let n = 0;
  const delivery = (
    incident: string,
    mode: Delivery['mode'],
    candidates: string[],
    action: Delivery['action'] = 'trigger',
  ) =>
    newDelivery(
      `d_${String(n++).padStart(4, '0')}`,
      { id: incident, provider_key: `key-${incident}` },
      { action, route: 'r', mode, candidates, origin: null, note: null },
      Date.now(),
    );
  return { dispatcher, fakes, hooks, breakers, delivery, metrics };
}

describe('dispatcher', () => {
  it('retry - a 5xx is retried with backoff on the same provider until it answers', async () => {
    const { dispatcher, fakes, hooks, delivery } = setup();
    fakes.scripts['a'] = [fail('server_error'), fail('server_error')];
    const d = delivery('i1', 'all', ['a']);
    dispatcher.enqueue([d]);
    await dispatcher.idle();
    expect(fakes.calls.map((c) => c.provider)).toEqual(['a', 'a', 'a']);
    expect(hooks.done).toEqual([{ id: d.id, provider: 'a' }]);
    expect(d).toMatchObject({ status: 'done', attempts: 3 });
    expect(hooks.failures.map((f) => f.outcome.kind)).toEqual(['retry', 'retry']);
  });

  it('failover - the retry budget spent on the first provider moves to the next', async () => {
    const { dispatcher, fakes, hooks, delivery } = setup();
    fakes.fallback['a'] = fail('server_error');
    const d = delivery('i1', 'failover', ['a', 'b']);
    dispatcher.enqueue([d]);
    await dispatcher.idle();
    expect(fakes.calls.map((c) => c.provider)).toEqual(['a', 'a', 'a', 'b']);
    expect(hooks.failures.at(-1)!.outcome).toEqual({ kind: 'failover', to: 'b' });
    expect(hooks.done).toEqual([{ id: d.id, provider: 'b' }]);
  });

  it('refusal - a 4xx is not retried; when every provider refuses, the delivery fails', async () => {
    const { dispatcher, fakes, hooks, delivery } = setup();
    fakes.fallback['a'] = fail('client_error');
    fakes.fallback['b'] = fail('client_error');
    const d = delivery('i1', 'failover', ['a', 'b']);
    dispatcher.enqueue([d]);
    await dispatcher.idle();
    expect(fakes.calls.map((c) => c.provider)).toEqual(['a', 'b']);
    expect(d).toMatchObject({ status: 'failed', refused: ['a', 'b'] });
    expect(hooks.failures.map((f) => f.outcome.kind)).toEqual(['failover', 'refused']);
  });

  it('refusal after an outage elsewhere goes back to the provider that only failed for now', async () => {
    const { dispatcher, fakes, hooks, delivery } = setup();
    fakes.scripts['a'] = [fail('server_error'), fail('server_error'), fail('server_error')];
    fakes.scripts['b'] = [fail('client_error')];
    const d = delivery('i1', 'failover', ['a', 'b']);
    dispatcher.enqueue([d]);
    await dispatcher.idle();
    expect(fakes.calls.map((c) => c.provider)).toEqual(['a', 'a', 'a', 'b', 'a']);
    expect(hooks.done).toEqual([{ id: d.id, provider: 'a' }]);
  });

  it('outage - every provider failing: nothing dropped, delivery_failed once, delivered when one recovers', async () => {
    const { dispatcher, fakes, hooks, delivery } = setup();
    fakes.fallback['a'] = fail('server_error');
    fakes.fallback['b'] = fail('server_error');
    const d = delivery('i1', 'failover', ['a', 'b']);
    dispatcher.enqueue([d]);
    await waitFor(async () => fakes.calls.length >= 14);
    expect(d.status).toBe('pending');
    expect(hooks.failures.filter((f) => f.outcome.kind === 'exhausted' && f.outcome.first)).toHaveLength(1);
    delete fakes.fallback['b'];
    delete fakes.fallback['a'];
    await dispatcher.idle();
    expect(d.status).toBe('done');
  });

  it('breaker - an open breaker is skipped without an attempt; mode all waits for it', async () => {
    const { dispatcher, fakes, hooks, delivery, breakers } = setup();
    for (let i = 0; i < 4; i++) breakers.get('a').record('failure');
    expect(breakers.get('a').state().kind).toBe('open');
    const f = delivery('i1', 'failover', ['a', 'b']);
    const all = delivery('i2', 'all', ['a']);
    dispatcher.enqueue([f, all]);
    await waitFor(async () => hooks.done.length === 1);
    expect(hooks.done[0]).toEqual({ id: f.id, provider: 'b' });
    expect(fakes.calls.map((c) => c.provider)).toEqual(['b']);
    await dispatcher.idle(); // the cool-down ends, the probe goes, it closes
    expect(hooks.done.at(-1)).toEqual({ id: all.id, provider: 'a' });
    expect(breakers.get('a').state().kind).toBe('closed');
  });

  it('ordering - a resolve never overtakes the trigger of the same incident and provider', async () => {
    const { dispatcher, fakes, delivery } = setup();
    let i1Failures = 2;
    fakes.fallback['a'] = (request, signal) =>
      request.incident.id === 'i1' && request.action === 'trigger' && i1Failures-- > 0
        ? fail('server_error')(request, signal)
        : ok(request, signal);
    const trigger = delivery('i1', 'all', ['a']);
    const resolve = delivery('i1', 'direct', ['a'], 'resolve');
    const other = delivery('i2', 'all', ['a']);
    dispatcher.enqueue([trigger, resolve, other]);
    await dispatcher.idle();
    const i1 = fakes.calls.filter((c) => c.incident === 'i1').map((c) => c.action);
    expect(i1).toEqual(['trigger', 'trigger', 'trigger', 'resolve']);
    expect(fakes.calls.findIndex((c) => c.incident === 'i2')).toBeLessThan(
      fakes.calls.findIndex((c) => c.action === 'resolve'),
    );
  });

  it('hold - nothing is attempted until release; what came in meanwhile goes in order', async () => {
    const { dispatcher, fakes, delivery } = setup();
    dispatcher.hold();
    const resumed = delivery('i1', 'all', ['a']);
    const resolve = delivery('i1', 'direct', ['a'], 'resolve');
    // A later delivery arriving first (an escalation timer firing while the start goes on).
    dispatcher.enqueue([resolve]);
    dispatcher.enqueue([resumed]);
    await new Promise((r) => setTimeout(r, 50));
    expect(fakes.calls).toEqual([]);
    expect(await dispatcher.pendingCount()).toBe(2);
    dispatcher.release();
    await dispatcher.idle();
    expect(fakes.calls.map((c) => c.action)).toEqual(['trigger', 'resolve']);
  });

  it('rate limit - a burst beyond the per-minute limit waits without counting attempts', async () => {
    const { dispatcher, fakes, delivery } = setup(['a'], { a: { rate_limit: { per_minute: 3 } } });
    const ds = [1, 2, 3, 4, 5].map((i) => delivery(`i${i}`, 'all', ['a']));
    dispatcher.enqueue(ds);
    await waitFor(async () => fakes.calls.length === 3);
    await new Promise((r) => setTimeout(r, 200));
    expect(fakes.calls).toHaveLength(3);
    expect(
      ds
        .filter((d) => d.status === 'pending')
        .every((d) => d.attempts === 0 && d.next_attempt_at > Date.now() + 50_000),
    ).toBe(true);
  });

  it('429 - Retry-After is honoured', async () => {
    const { dispatcher, fakes, delivery } = setup();
    fakes.scripts['a'] = [fail('rate_limited', 300)];
    dispatcher.enqueue([delivery('i1', 'all', ['a'])]);
    await dispatcher.idle();
    expect(fakes.calls[1]!.at - fakes.calls[0]!.at).toBeGreaterThanOrEqual(290);
  });

  it('timeout - an attempt that hangs past the timeout is retried', async () => {
    const { dispatcher, fakes, hooks, delivery } = setup();
    fakes.scripts['a'] = [
      (_req, signal) =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () =>
            reject(new ProviderError('a', 'timeout', 'timed out', { retryable: true })),
          ),
        ),
    ];
    dispatcher.enqueue([delivery('i1', 'all', ['a'])]);
    await dispatcher.idle();
    expect(hooks.failures[0]!.reason).toBe('timeout');
    expect(fakes.calls).toHaveLength(2);
  });

  it('withdraw - pending triggers of a resolved incident are dropped; one in flight finishes', async () => {
    const { dispatcher, fakes, delivery } = setup();
    let release!: () => void;
    fakes.scripts['a'] = [
      () => new Promise((resolve) => (release = () => resolve({ status: 202, ref: null }))),
    ];
    fakes.fallback['b'] = fail('server_error');
    const inFlight = delivery('i1', 'all', ['a']);
    const waiting = delivery('i1', 'all', ['b']);
    dispatcher.enqueue([inFlight, waiting]);
    await waitFor(async () => fakes.calls.length >= 2);
    dispatcher.withdraw([inFlight, waiting].map((d) => ({ ...d, status: 'superseded' as const })));
    expect(waiting.status).toBe('superseded');
    expect(await dispatcher.pendingCount()).toBe(1);
    release();
    await dispatcher.idle();
    expect(inFlight.status).toBe('done');
  });

  it('slots - a send slot is free once the provider answered; a turn lasts until the outcome is recorded', async () => {
    const { dispatcher, fakes, hooks, delivery } = setup(['a'], {}, 2);
    let open!: () => void;
    hooks.gate = new Promise((resolve) => (open = resolve));
    const trigger = delivery('i1', 'all', ['a']);
    const resolve = delivery('i1', 'direct', ['a'], 'resolve');
    const others = Array.from({ length: 9 }, (_, i) => delivery(`i${i + 2}`, 'all', ['a']));
    dispatcher.enqueue([trigger, resolve, ...others]);
    // Two send slots, but outcomes waiting to be recorded may be four times as many: 8 answered.
    await waitFor(async () => fakes.calls.length >= 8);
    await new Promise((r) => setTimeout(r, 50));
    expect(fakes.calls).toHaveLength(8);
    expect(hooks.done).toHaveLength(0);
    expect(fakes.calls.some((c) => c.action === 'resolve')).toBe(false); // its trigger is not recorded yet
    open();
    await dispatcher.idle();
    expect(hooks.done).toHaveLength(11);
    const i1 = fakes.calls.filter((c) => c.incident === 'i1').map((c) => c.action);
    expect(i1).toEqual(['trigger', 'resolve']);
  });
});
