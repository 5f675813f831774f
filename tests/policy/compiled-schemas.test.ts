// The validators compiled from schemas/ (scripts/compile-schemas.mjs) are committed; a schema
// changed without `npm run schemas` would validate with the old rules. This fails then.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileSchemas } from '../../scripts/compile-schemas.mjs';

describe('compiled schemas', () => {
  it.each([...compileSchemas()])(
    '%s is what schemas/ compiles to now (run `npm run schemas`)',
    (path, text) => {
      const committed = readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
      // Not toBe: a mismatch would print 270 KiB twice.
      expect(committed === text, `${path} is stale: run npm run schemas`).toBe(true);
    },
  );
});
