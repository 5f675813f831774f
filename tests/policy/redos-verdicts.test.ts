// The regular-expression checker's verdicts kept in DATA_DIR between runs (src/policy/redos.ts):
// a restart with an unchanged policy starts no checker child, and only verdicts of the installed
// recheck version are believed.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatternChecker } from '../../src/policy/redos.js';

const RECHECK = (createRequire(import.meta.url)('recheck/package.json') as { version: string }).version;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ir-verdicts-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('saved regular-expression verdicts', () => {
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
