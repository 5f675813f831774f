// The boundary's walks over untrusted JSON (src/domain/json-shape.ts): depth and forbidden keys,
// found wherever they are, as JSON.parse gives them.
import { describe, expect, it } from 'vitest';
import { findForbiddenKey, nestsDeeperThan, textNestsDeeperThan } from '../../src/domain/json-shape.js';

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

describe('textNestsDeeperThan', () => {
  it('agrees with the walk of the parsed value, brackets and escapes inside strings included', () => {
    const tricky = ['[', ']', '{', '}', '\\', '"', '\\"[', 'a\\', '\\\\[', '\u005b'];
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const make = (depth: number): unknown => {
      if (depth === 0 || random(4) === 0)
        return random(2) === 0 ? tricky[random(tricky.length)] : random(100);
      const children = Array.from({ length: 1 + random(3) }, () => make(depth - 1));
      if (random(2) === 0) return children;
      return Object.fromEntries(children.map((c, i) => [`${tricky[random(tricky.length)]}${i}`, c]));
    };
    for (let i = 0; i < 500; i++) {
      const value = make(1 + random(12));
      const text = JSON.stringify(value, null, random(2) === 0 ? 0 : 1);
      for (const max of [0, 1, 3, 6, 9])
        expect(textNestsDeeperThan(text, max), text).toBe(nestsDeeperThan(value, max));
    }
    expect(textNestsDeeperThan(JSON.stringify(nested(65)), 64)).toBe(true);
    expect(textNestsDeeperThan(JSON.stringify(nested(64)), 64)).toBe(false);
    expect(textNestsDeeperThan('"[[[[" ', 1)).toBe(false);
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
