// The parallel file diff (docs/policy-diff.md, "Speed"): worker threads decide chunks of the file,
// and the merged report is the sequential diff's, to the order of changes and the examples kept.
// The workers run dist/ (npm test builds first).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEvents } from '../../scripts/gen-log-events.mjs';
import { diffEvents } from '../../src/diff/diff.js';
import { readNdjsonFile } from '../../src/diff/ndjson.js';
import { ruleLocations } from '../../src/diff/locations.js';
import {
  compileInputOf,
  diffFileInWorkers,
  PARALLEL_MIN_BYTES,
  workersFor,
  type PortableSide,
} from '../../src/diff/parallel.js';
import { compileSources } from '../helpers/policy.js';
import { ROUTE, sourcesWith, THRESHOLD, WINDOW, type Edit } from './fixtures.js';

let dir: string;
let file: string;

async function portable(edits: readonly Edit[]): Promise<PortableSide> {
  const { compiled, loaded } = compileSources(await sourcesWith(edits));
  return { policy: compiled, locations: ruleLocations(loaded), input: compileInputOf(loaded) };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ir-parallel-diff-'));
  const lines = generateEvents({
    count: 20_000,
    seed: 23,
    alerting: 6,
    start: '2026-11-21T12:00:00Z',
    rate: 0.23,
  });
  // What a real file has: a malformed line, a blank one, CRLF endings, no final line break.
  lines.splice(7_000, 0, '{"timestamp": "2026-11-21T12:00:00Z", "service": ');
  lines.splice(12_000, 0, '');
  for (let i = 15_000; i < 15_050; i++) lines[i] = `${lines[i]}\r`;
  file = join(dir, 'day.ndjson');
  await writeFile(file, lines.join('\n'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parallel diff', () => {
  it('gives the sequential report: the same changes in file order, examples, line numbers and problems', async () => {
    const [prev, next] = [await portable([]), await portable([THRESHOLD, WINDOW, ROUTE])];
    const sequential = await diffEvents(readNdjsonFile(file), prev, next);
    const parallel = await diffFileInWorkers(file, prev, next, { workers: 3 });
    expect(sequential.changed).toBeGreaterThan(10);
    expect(sequential.problems.map((p) => p.ref)).toEqual(['day.ndjson:7001']);
    expect(parallel).toEqual(sequential);
  });

  it('fails with the reason when a worker cannot compile a policy, rather than reporting nothing changed', async () => {
    const prev = await portable([]);
    const broken = {
      ...prev,
      input: { ...prev.input, document: { ...prev.input.document, routes: 'none' } },
    };
    await expect(
      diffFileInWorkers(file, prev, broken as unknown as PortableSide, { workers: 2 }),
    ).rejects.toThrow(/did not compile here/);
  });

  it('uses workers for a large file or when asked, one thread otherwise', () => {
    expect(workersFor(PARALLEL_MIN_BYTES - 1, 'auto')).toBe(0);
    expect(workersFor(1_000, 1)).toBe(0);
    expect(workersFor(1_000, 3)).toBe(3);
    expect(workersFor(1_000, 64)).toBe(8);
  });
});
