// The regular-expression checker's verdicts kept in DATA_DIR between runs (src/policy/redos.ts):
// a restart with an unchanged policy starts no checker child, and only verdicts of the installed
// recheck version are believed. The build saves the shipped policy's (scripts/ship-verdicts.mjs),
// so a first start on it starts none either; `npm test` builds first.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatternChecker, SHIPPED_VERDICTS, verdictCache } from '../../src/policy/redos.js';
import { shippedPolicy } from '../helpers/policy.js';

const RECHECK = (createRequire(import.meta.url)('recheck/package.json') as { version: string }).version;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ir-verdicts-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('saved regular-expression verdicts', () => {
  // First in this file: nothing has read the shipped verdicts yet (a test file has its own modules).
  it('believes the verdicts the build saved for the shipped policy', async () => {
    const shipped = JSON.parse(await readFile(SHIPPED_VERDICTS, 'utf8')) as {
      recheck: string;
      verdicts: Record<string, unknown>;
    };
    expect(shipped.recheck).toBe(RECHECK);
    const patterns = Object.keys(shipped.verdicts);
    expect(patterns).toContain('OOMKilled|out of memory');
    for (const p of patterns) expect(verdictCache.get(p)).toBeUndefined();
    new PatternChecker(null);
    for (const p of patterns) expect(verdictCache.get(p)).toEqual(shipped.verdicts[p]);
    // Every pattern of the shipped policy as it is now (a stale build would miss a new one).
    const { loaded } = await shippedPolicy();
    expect(patterns.sort()).toEqual([...loaded.verdicts.keys()].sort());
  });

  it('saves the verdicts of the policy on disk, with the recheck version', { timeout: 30_000 }, async () => {
    const file = join(dir, 'saved.json');
    const checker = new PatternChecker(file);
    const verdicts = await checker.verdicts(['^saved-(a|b)+c$'], 'disk');
    expect(verdicts.get('^saved-(a|b)+c$')?.status).toBe('safe');
    const saved = JSON.parse(await readFile(file, 'utf8'));
    expect(saved).toEqual({ recheck: RECHECK, verdicts: { '^saved-(a|b)+c$': { status: 'safe' } } });
  });

  it('believes a saved verdict of this recheck version without asking recheck', async () => {
    const file = join(dir, 'believed.json');
    // recheck calls this pattern safe; the saved verdict says otherwise, so the answer shows its source.
    const verdict = { status: 'vulnerable', exponential: false, summary: 'saved', attack: 'x' };
    await writeFile(file, JSON.stringify({ recheck: RECHECK, verdicts: { '^believed-x$': verdict } }));
    const checker = new PatternChecker(file);
    expect((await checker.verdicts(['^believed-x$'], 'disk')).get('^believed-x$')).toEqual(verdict);
  });

  it(
    'ignores verdicts of another recheck version, and a file that is not JSON',
    { timeout: 30_000 },
    async () => {
      const other = join(dir, 'other.json');
      const verdict = { status: 'vulnerable', exponential: false, summary: 'old', attack: 'x' };
      await writeFile(
        other,
        JSON.stringify({ recheck: '0.0.1', verdicts: { '^other-version-x$': verdict } }),
      );
      const fromOther = await new PatternChecker(other).verdicts(['^other-version-x$'], 'disk');
      expect(fromOther.get('^other-version-x$')?.status).toBe('safe');
      const broken = join(dir, 'broken.json');
      await writeFile(broken, '{ not json');
      const fromBroken = await new PatternChecker(broken).verdicts(['^broken-file-x$'], 'disk');
      expect(fromBroken.get('^broken-file-x$')?.status).toBe('safe');
    },
  );

  it('never saves what a candidate policy from a request brought', { timeout: 30_000 }, async () => {
    const file = join(dir, 'candidate.json');
    await new PatternChecker(file).verdicts(['^candidate-only-x$'], 'candidate');
    await expect(readFile(file, 'utf8')).rejects.toThrow(/ENOENT/);
  });
});
