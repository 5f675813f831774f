// Whatever the files hold, loadPolicy answers with a result: never an exception, never a hang.
import { describe, expect, it } from 'vitest';
import { loadPolicy, type LoadResult, type PolicySource } from '../../src/policy/load.js';
import { BASE, OPTIONS, file, fixtureDir, load, problems } from '../fixtures/policies/load-fixtures.js';

const HEAD = 'apiVersion: incident-router/v1';

describe('loadPolicy - odd YAML', () => {
  it('accepts anchors and aliases', () => {
    const extra = file(
      'extra.yaml',
      HEAD,
      'services:',
      '  a: &service { team: payments, criticality: low }',
      '  b: *service',
      'routes:',
      '  - name: ops',
      '    priority: 1',
      '    when: &errors { all: [{ fact: level, operator: equal, value: error }] }',
      '    deliver: { mode: all, providers: [opsgenie] }',
      '  - name: ops-too',
      '    priority: 1',
      '    when: *errors',
      '    deliver: { mode: all, providers: [pagerduty] }',
    );
    const policy = load([BASE, extra]);
    expect(policy.document.services['b']).toEqual({ team: 'payments', criticality: 'low' });
    expect(policy.document.routes[1]?.when).toEqual(policy.document.routes[0]?.when);
  });

  it('refuses an alias bomb, an unknown alias, merge keys and tags', () => {
    const bomb = file(
      'bomb.yaml',
      HEAD,
      'x0: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
      'x1: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'x2: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
      'x3: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
      'x4: [*d, *d, *d, *d, *d, *d, *d, *d, *d]',
    );
    const alias = file('alias.yaml', HEAD, 'teams: *nowhere');
    const merge = file(
      'merge.yaml',
      HEAD,
      'services:',
      '  a:',
      '    <<: { team: payments }',
      '    criticality: low',
    );
    const tags = file('tags.yaml', HEAD, 'teams:', '  ops: !Ref other', 'version: !!binary aGVsbG8=');
    expect(problems([BASE, bomb, alias, merge, tags])).toEqual([
      'alias.yaml:2:8 unknown alias *nowhere: define the anchor &nowhere before using it',
      'bomb.yaml:1:1 cannot read the file: Excessive alias count indicates a resource exhaustion attack',
      'merge.yaml:3:3 services.a: missing required key "team"',
      'merge.yaml:4:5 services.a: unknown key "<<"',
      'tags.yaml:3:8 Unresolved tag: !Ref (TAG_RESOLVE_FAILED)',
      'tags.yaml:4:10 Unresolved tag: tag:yaml.org,2002:binary (TAG_RESOLVE_FAILED)',
    ]);
  });

  it('refuses files that are too large or nest too deeply', () => {
    const huge = file('huge.yaml', HEAD, `x: "${'a'.repeat(300_000)}"`);
    const deep = file('deep.yaml', HEAD, `x: ${'['.repeat(10_000)}${']'.repeat(10_000)}`);
    const blockDeep = file(
      'block.yaml',
      HEAD,
      ...Array.from({ length: 100 }, (_, i) => `${' '.repeat(i)}k${i}:`),
    );
    expect(problems([BASE, huge, deep, blockDeep])).toEqual([
      'block.yaml:1:1 file nests deeper than 64 levels',
      'deep.yaml:1:1 file nests deeper than 64 levels',
      'huge.yaml:1:1 file is larger than 262144 characters',
    ]);
  });

  it('refuses aliases that nest deeper than the text does', () => {
    const deep = (inner: string): string => `${'['.repeat(50)}${inner}${']'.repeat(50)}`;
    const lines = [`x0: &a0 ${deep('1')}`, `x1: ${deep('*a0')}`];
    expect(problems([BASE, file('nest.yaml', HEAD, ...lines)])).toEqual([
      'nest.yaml:1:1 file nests deeper than 64 levels once aliases are expanded',
    ]);
  });

  it('refuses a file with more than 100 aliases or with a second document', () => {
    const aliases = file(
      'aliases.yaml',
      HEAD,
      'x: &a 1',
      `y: [${Array.from({ length: 101 }, () => '*a').join(', ')}]`,
    );
    const twoDocs = file('two.yaml', HEAD, '---', HEAD);
    expect(problems([BASE, aliases, twoDocs])).toEqual([
      'aliases.yaml:1:1 file uses 101 aliases; at most 100 are allowed',
      'two.yaml:2:1 a policy file holds one YAML document; a second one starts here',
    ]);
  });

  it('lists the first 100 problems of a file, and says how many there were', () => {
    const noisy = file('noisy.yaml', HEAD, ...Array.from({ length: 150 }, (_, i) => `key${i}: x`));
    const listed = problems([BASE, noisy]);
    expect(listed).toHaveLength(101);
    expect(listed[0]).toBe('noisy.yaml:1:1 150 problems in this file; the first 100 found are listed');
    expect(listed[100]).toBe('noisy.yaml:101:1 unknown key "key99"');
  });

  it('refuses the private-use characters that hide ${...} from the YAML parser', () => {
    expect(problems([BASE, file('odd.yaml', HEAD, 'x: "\uE000"')])).toEqual([
      'odd.yaml:1:1 file contains the reserved characters U+E000 or U+E001',
    ]);
  });

  it('takes odd keys as data', () => {
    const extra = file(
      'extra.yaml',
      HEAD,
      'services:',
      '  __proto__: { team: payments, criticality: low }',
      '  constructor: { team: payments, criticality: low }',
    );
    const services = load([BASE, extra]).document.services;
    expect(Object.keys(services)).toEqual(['payment-service', '__proto__', 'constructor']);
    expect(Object.getPrototypeOf(services)).toBe(Object.prototype);
  });
});

describe('loadPolicy - fuzzed files', () => {
  const valid = fixtureDir('valid');
  const names = new Set(valid.map((s) => s.name));

  it('answers every mutation of a valid policy with a policy or located problems', () => {
    const random = seeded(20261123);
    const started = Date.now();
    for (let round = 0; round < 200; round++) {
      const sources = valid.map((s) => (random() < 0.5 ? { ...s, text: mutate(s.text, random) } : s));
      let result: LoadResult | undefined;
      expect(() => {
        result = loadPolicy(sources, OPTIONS);
      }).not.toThrow();
      if (result?.ok === false) {
        for (const p of result.problems) {
          expect(names.has(p.file), p.file).toBe(true);
          expect(p.line).toBeGreaterThanOrEqual(1);
          expect(p.col).toBeGreaterThanOrEqual(1);
          expect(p.message).not.toMatch(/internal error/);
        }
      }
    }
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

const FRAGMENTS = [
  '{',
  '}',
  '[',
  ']',
  ':',
  '- ',
  '&a ',
  '*a',
  '!t ',
  '"',
  "'",
  '\t',
  '\n',
  '  ',
  '${X}',
  '#',
  '? ',
  '|',
  '>',
  ',',
  '%',
  '@',
  '0',
  '~',
  'null',
];

function mutate(text: string, random: () => number): string {
  let out = text;
  const edits = 1 + Math.floor(random() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(random() * out.length);
    const kind = random();
    if (kind < 0.4)
      out = out.slice(0, at) + (FRAGMENTS[Math.floor(random() * FRAGMENTS.length)] as string) + out.slice(at);
    else if (kind < 0.7) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(random() * 20));
    else {
      const lines = out.split('\n');
      const from = Math.floor(random() * lines.length);
      lines.splice(Math.floor(random() * lines.length), 0, lines[from] as string);
      out = lines.join('\n');
    }
  }
  return out;
}

/** mulberry32: a small seeded generator, so a failing round can be replayed. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type { PolicySource };
