// Policy files read before come from the parse cache (src/policy/load/parse-cache.ts;
// docs/architecture.md, "Policy load"): the same policy, the same problems at the same lines, the
// same warnings, whatever the environment says now, and no YAML parsed on the way.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { projectFile } from '../../src/project-files.js';
import {
  loadPolicy,
  readPolicyDir,
  type LoadOptions,
  type LoadResult,
  type PolicySource,
} from '../../src/policy/load.js';
import { ParseCache, SHIPPED_PARSES } from '../../src/policy/load/parse-cache.js';
import { BASE, ENV, file, fixtureDir, OPTIONS } from '../fixtures/policies/load-fixtures.js';

/** What a load answers, as a test compares it (the compiled parts hold functions). */
function answer(result: LoadResult): unknown {
  if (!result.ok) return { problems: result.problems, warnings: result.warnings };
  const { document, revision, warnings, notes, secrets } = result.policy;
  return { document, revision, warnings, notes, secrets };
}

/** The load without a cache, then twice through `cache`: all three must answer the same. */
function threeWays(sources: readonly PolicySource[], cache: ParseCache, options: Partial<LoadOptions> = {}) {
  const fresh = answer(loadPolicy(sources, { ...OPTIONS, ...options, parseCache: null }));
  const first = answer(loadPolicy(sources, { ...OPTIONS, ...options, parseCache: cache }));
  const hitsBefore = cache.hits;
  const second = answer(loadPolicy(sources, { ...OPTIONS, ...options, parseCache: cache }));
  return { fresh, first, second, hits: cache.hits - hitsBefore };
}

/** A directory for a saved parse file, removed after the test. */
const scratchDirs: string[] = [];
const scratch = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'ir-parses-'));
  scratchDirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of scratchDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the policy parse cache', () => {
  it('gives the shipped policy and every valid fixture back as read afresh, without reading YAML again', () => {
    for (const sources of [fixtureDir('valid'), [BASE]]) {
      const cache = new ParseCache();
      const { fresh, first, second, hits } = threeWays(sources, cache);
      expect(first).toEqual(fresh);
      expect(second).toEqual(fresh);
      expect(hits).toBe(sources.length);
    }
  });

  it('interpolates the environment of each load, not the one the text was first read with', () => {
    const cache = new ParseCache();
    const { fresh, second } = threeWays([BASE], cache);
    expect(second).toEqual(fresh);
    const other = { ...ENV, PD_KEY: 'Z0abcdefghijklmnopqrstuvwxyz9876' };
    const again = loadPolicy([BASE], { ...OPTIONS, env: other, parseCache: cache });
    expect(again.ok && again.policy.document.providers['pagerduty']).toMatchObject({
      routing_key: 'Z0abcdefghijklmnopqrstuvwxyz9876',
    });
    expect(answer(again)).toEqual(answer(loadPolicy([BASE], { ...OPTIONS, env: other, parseCache: null })));
    // A candidate sees the placeholder of a variable it may not read, from the cache too.
    const candidate = { env: { OG_KEY: 'x' }, candidate: true };
    const withheld = threeWays([BASE], cache, candidate);
    expect(withheld.second).toEqual(withheld.fresh);
    expect(withheld.hits).toBe(1);
  });

  it('places the problems of a cached file where a fresh read does: a missing variable, a schema error', () => {
    const cache = new ParseCache();
    loadPolicy([BASE], { ...OPTIONS, parseCache: cache });
    // The text is cached; now the variable is missing: its line comes from the document.
    const { PD_KEY: _gone, ...without } = ENV;
    const missing = threeWays([BASE], cache, { env: without });
    expect(missing.fresh).toMatchObject({ problems: [{ file: 'base.yaml', line: 6 }] });
    expect(missing.second).toEqual(missing.fresh);
    // A schema problem in line 3 of `extra`, placed by parsing the document on demand: at the key
    // (col 3) and at the value (`col`), cached as fresh.
    const placed = (extra: PolicySource, name: string, col: number) => {
      const read = threeWays([BASE, extra], cache);
      expect(read.fresh).toMatchObject({
        problems: [
          { file: name, line: 3, col: 3 },
          { file: name, line: 3, col },
        ],
      });
      expect(read.first).toEqual(read.fresh);
      expect(read.second).toEqual(read.fresh);
      return read;
    };
    // Valid YAML, invalid policy.
    const wrong = file('extra.yaml', 'apiVersion: incident-router/v1', 'services:', '  search: { team: 7 }');
    expect(placed(wrong, 'extra.yaml', 19).hits).toBe(2);
    // A key that spells a reference (keys are never interpolated) is found by its path in the
    // document parsed on demand as in a fresh one: the problem is placed at it, not at its parent.
    const keyed = file(
      'keyed.yaml',
      'apiVersion: incident-router/v1',
      'services:',
      '  search-${REGION}: { team: 7 }',
    );
    placed(keyed, 'keyed.yaml', 29);
  });

  it('keeps YAML warnings, and reads afresh what JSON would not give back (.inf, -0, __proto__)', () => {
    const cache = new ParseCache();
    const tagged = file('extra.yaml', 'apiVersion: incident-router/v1', '%FOO bar', '---', 'services: {}');
    const warned = threeWays([BASE, tagged], cache);
    expect(warned.second).toEqual(warned.fresh);
    expect(JSON.stringify(warned.fresh)).toContain('extra.yaml');
    for (const odd of ['.inf', '-0', '{ __proto__: { a: 1 } }']) {
      const text = file(
        'odd.yaml',
        'apiVersion: incident-router/v1',
        'conditions:',
        `  odd: { fact: level, operator: equal, value: ${odd} }`,
      );
      const before = cache.size.entries;
      const { fresh, second } = threeWays([text], cache);
      expect(second).toEqual(fresh);
      expect(cache.size.entries).toBe(before); // not kept
    }
  });

  it('saves the files it is told to and believes them in the next process; ignores what is not its own', () => {
    const saved = join(scratch(), 'policy-parses.json');
    const sources = fixtureDir('valid');
    const cache = new ParseCache();
    const loaded = loadPolicy(sources, { ...OPTIONS, parseCache: cache });
    if (!loaded.ok) throw new Error('the fixture does not load');
    writeFileSync(saved, cache.serialize(loaded.policy.files.map((f) => f.sha256)));
    const next = new ParseCache();
    next.believe(saved);
    expect(next.size.entries).toBe(sources.length);
    const again = loadPolicy(sources, { ...OPTIONS, parseCache: next });
    expect(next.hits).toBe(sources.length);
    expect(answer(again)).toEqual(answer(loaded));
    // Another yaml version, another format, another build, or not JSON: nothing believed.
    const text = readFileSync(saved, 'utf8');
    for (const other of [
      text.replace(/"yaml":"[^"]+"/, '"yaml":"0.0.0"'),
      text.replace('"format":1', '"format":2'),
      text.replace('"build":null', '"build":"an-older-build"'),
      '{',
    ]) {
      writeFileSync(saved, other);
      const fresh = new ParseCache();
      fresh.believe(saved);
      expect(fresh.size.entries).toBe(0);
    }
  });

  it('forgets the oldest files beyond its bounds', () => {
    const cache = new ParseCache(2, 1_000_000);
    const texts = [1, 2, 3].map((n) =>
      file(`f${n}.yaml`, 'apiVersion: incident-router/v1', `version: "${n}"`),
    );
    for (const t of texts) loadPolicy([t], { ...OPTIONS, parseCache: cache });
    expect(cache.size.entries).toBe(2);
    const hits = cache.hits;
    loadPolicy([texts[0]!], { ...OPTIONS, parseCache: cache });
    expect(cache.hits).toBe(hits); // the first was forgotten
  });

  it('loads the shipped policy again without parsing a document: nothing asks for a position', async () => {
    const read = await readPolicyDir(projectFile('policies').pathname);
    if (read.some((s) => !('text' in s))) throw new Error('cannot read the shipped policy');
    const sources = read as PolicySource[];
    const cache = new ParseCache();
    const options = {
      ...OPTIONS,
      env: { ...ENV, PD_KEY_PLATFORM_SRE: ENV.PD_KEY, PD_KEY_INFRA_LEAD: ENV.PD_KEY },
    };
    const first = loadPolicy(sources, { ...options, parseCache: cache });
    expect(first.ok).toBe(true);
    const second = loadPolicy(sources, { ...options, parseCache: cache });
    expect(answer(second)).toEqual(answer(first));
    expect(cache.hits).toBe(sources.length);
    expect(cache.lateParses).toBe(0);
    // A problem still parses the document it is in, and only that one: an empty routing key
    // outside sandbox mode, in providers.yaml.
    const { PAGERDUTY_ROUTING_KEY: _gone, ...without } = options.env;
    const wrong = loadPolicy(sources, { ...options, env: without, parseCache: cache });
    expect(wrong).toMatchObject({ ok: false, problems: [{ file: 'providers.yaml', line: 8 }] });
    expect(cache.lateParses).toBe(1);
  });

  it('ships the parses of the shipped policy with the build, and believes saved parses of that build only', () => {
    const shipped = JSON.parse(readFileSync(SHIPPED_PARSES, 'utf8')) as {
      build: string;
      files: Record<string, unknown>;
    };
    expect(Object.keys(shipped.files).length).toBeGreaterThan(0);
    expect(shipped.build).toMatch(/^[0-9a-f-]{36}$/);
    // A DATA_DIR file of the fixture's parses, saved by this build and by another one.
    const sources = fixtureDir('valid');
    const source = new ParseCache();
    const loaded = loadPolicy(sources, { ...OPTIONS, parseCache: source });
    if (!loaded.ok) throw new Error('the fixture does not load');
    const shas = loaded.policy.files.map((f) => f.sha256);
    const saved = join(scratch(), 'policy-parses.json');
    for (const [build, believed] of [
      [shipped.build, sources.length],
      ['an-older-build', 0],
    ] as const) {
      writeFileSync(saved, source.serialize(shas, build));
      const processCache = new ParseCache(512, 4 * 1024 * 1024, true);
      processCache.believe(saved);
      expect(processCache.size.entries - Object.keys(shipped.files).length).toBe(believed);
    }
  });
});
