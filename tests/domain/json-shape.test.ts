// The boundary's walks over untrusted JSON (src/domain/json-shape.ts): depth and forbidden keys,
// found wherever they are, as JSON.parse gives them.
import { describe, expect, it } from 'vitest';
import { findForbiddenKey, nestsDeeperThan } from '../../src/domain/json-shape.js';

const nested = (depth: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { k: value };
  return value;
};

describe('nestsDeeperThan', () => {
  it('counts objects and arrays alike, a scalar as depth 0', () => {
    expect(nestsDeeperThan(7, 0)).toBe(false);
    expect(nestsDeeperThan(nested(32), 32)).toBe(false);
    expect(nestsDeeperThan(nested(33), 32)).toBe(true);
    // The deep branch is any of the siblings, not only the last one walked.
    expect(nestsDeeperThan({ a: nested(40), b: 1, c: [] }, 32)).toBe(true);
    expect(nestsDeeperThan([{ a: 1 }, nested(31)], 32)).toBe(false);
  });
});

describe('findForbiddenKey', () => {
  it('names the dotted path of the first forbidden key, at any depth, in objects and arrays', () => {
    expect(findForbiddenKey(JSON.parse('{"a":1,"b":{"c":[1,{"__proto__":{"x":1}}]}}'))).toBe(
      'b.c.1.__proto__',
    );
    expect(findForbiddenKey(JSON.parse('{"constructor":1}'))).toBe('constructor');
    expect(findForbiddenKey(JSON.parse('[{"ok":{"prototype":2}}]'))).toBe('0.ok.prototype');
    expect(findForbiddenKey(JSON.parse('{"a":{"b":{"c":"prototype"}}}'))).toBeNull();
    expect(findForbiddenKey('constructor')).toBeNull();
  });
});
