// cloneJson (src/domain/json-shape.ts): the embedded backend's copy of an incident at every change.
import { describe, expect, it } from 'vitest';
import { cloneJson } from '../../src/domain/json-shape.js';

describe('cloneJson', () => {
  it('copies every level: a change to the copy never reaches the original', () => {
    const original = {
      id: 'inc_1',
      holds: { pagerduty: { state: 'open', since: '2026-12-05T20:00:00Z' } },
      routes: [{ name: 'default', providers: ['pagerduty', 'opsgenie'] }],
      event: { attributes: { nested: [1, { deep: true }], none: null } },
      storm: null,
    };
    const copy = cloneJson(original);
    expect(copy).toEqual(original);
    copy.holds.pagerduty.state = 'closed';
    copy.routes[0]!.providers.push('webhook');
    (copy.event.attributes.nested[1] as { deep: boolean }).deep = false;
    expect(original.holds.pagerduty.state).toBe('open');
    expect(original.routes[0]!.providers).toEqual(['pagerduty', 'opsgenie']);
    expect(original.event.attributes.nested[1]).toEqual({ deep: true });
  });

  it('copies a key named __proto__ as a key, never as a prototype', () => {
    const original = JSON.parse('{"a":{"__proto__":{"polluted":true}}}') as { a: Record<string, unknown> };
    const copy = cloneJson(original);
    expect(Object.getPrototypeOf(copy.a)).toBe(Object.prototype);
    expect(Object.keys(copy.a)).toEqual(['__proto__']);
    expect(JSON.stringify(copy)).toBe(JSON.stringify(original));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
