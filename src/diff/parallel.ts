// The NDJSON file diff on several cores (docs/policy-diff.md, "Speed"): decisions are independent
// (a diff decides against no open incidents), so the file is cut at line breaks into chunks that
// worker threads decide, each event by both policies; this thread only reads, counts lines and
// merges the answers in file order into one PolicyDiff, so the report is the one the sequential
// diff gives (same groups, same examples, same order of changes).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CompileInput } from '../policy/compile.js';
import type { LoadedPolicy } from '../policy/load.js';
import { PolicyDiff, type DiffOptions, type DiffReport, type DiffSide } from './diff.js';
import { projectFile } from '../project-files.js';
import type { DiffChunk, DiffChunkResult, DiffWorkerData, DiffWorkerMessage } from './diff-worker.js';

// From src/diff (tests) and dist/ alike: the worker runs compiled JavaScript.
const WORKER_URL = projectFile('dist/diff/diff-worker.js');

/** Below this size one thread is faster than starting workers (each compiles both policies). */
export const PARALLEL_MIN_BYTES = 8 * 1024 * 1024;
const CHUNK_BYTES = 256 * 1024;
/** Chunks sent to a worker before its first answer: enough to keep it busy, few enough to bound memory. */
const CHUNKS_AHEAD = 2;
const MAX_WORKERS = 8;

/** A policy of the diff with what a worker thread compiles it from. */
export interface PortableSide extends DiffSide {
  input: CompileInput;
}

/** What a worker compiles a loaded policy from: plain data (the ReDoS verdicts are a Map). */
export function compileInputOf(loaded: LoadedPolicy): CompileInput {
  const { document, version, revision, verdicts } = loaded;
  return { document, version, revision, verdicts };
}

export interface ParallelOptions extends DiffOptions {
  workers: number;
}

/** How many workers `--jobs auto` uses for a file of `bytes`: 0 means decide in this thread. */
export function workersFor(bytes: number, jobs: number | 'auto'): number {
  if (jobs !== 'auto') return jobs <= 1 ? 0 : Math.min(jobs, MAX_WORKERS);
  if (bytes < PARALLEL_MIN_BYTES) return 0;
  const cores = availableParallelism();
  return cores <= 1 ? 0 : Math.min(cores, MAX_WORKERS);
}

export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}

/** Diff every line of an NDJSON file with `workers` threads. */
export async function diffFileInWorkers(
  path: string,
  prev: PortableSide,
  next: PortableSide,
  options: ParallelOptions,
): Promise<DiffReport> {
  const diff = new PolicyDiff(prev, next, options);
  const data: DiffWorkerData = { prev: prev.input, next: next.input };
  const pool = await Promise.all(Array.from({ length: options.workers }, () => startWorker(data)));
  try {
    await decideFile(path, pool, diff);
  } finally {
    await Promise.all(pool.map((w) => w.worker.terminate()));
  }
  return diff.report();
}

interface PoolWorker {
  worker: Worker;
  inFlight: number;
}

function startWorker(workerData: DiffWorkerData): Promise<PoolWorker> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL, { workerData });
    const onMessage = (m: DiffWorkerMessage): void => {
      worker.off('error', reject);
      worker.off('message', onMessage);
      if (m.type === 'ready') resolve({ worker, inFlight: 0 });
      else
        reject(new Error(m.type === 'failed' ? m.message : 'the diff worker answered before it was ready'));
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  });
}

/**
 * Reads the file, sends each chunk to the least busy worker, and merges the answers in order.
 * A worker that fails fails the diff (the sequential diff would have failed on the same event).
 */
async function decideFile(path: string, pool: PoolWorker[], diff: PolicyDiff): Promise<void> {
  const name = basename(path);
  const answered = new Map<number, DiffChunkResult>();
  let merged = 0;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  for (const p of pool) {
    p.worker.on('message', (m: DiffWorkerMessage) => {
      if (m.type === 'chunk') {
        p.inFlight--;
        answered.set(m.result.seq, m.result);
        for (let r = answered.get(merged); r !== undefined; r = answered.get(merged)) {
          answered.delete(merged++);
          diff.count(r.events);
          for (const problem of r.problems) diff.problem(problem);
          for (const changed of r.changed) diff.addChanged(changed);
        }
      } else if (m.type === 'failed') failure ??= new Error(m.message);
      notify();
    });
    p.worker.on('error', (err) => {
      failure ??= err;
      notify();
    });
  }
  const waitForAnswer = (): Promise<void> => new Promise((r) => (wake = r));

  let seq = 0;
  let line = 1;
  const send = async (bytes: Uint8Array): Promise<void> => {
    let target = leastBusy(pool);
    while (failure === null && target.inFlight >= CHUNKS_AHEAD) {
      await waitForAnswer();
      target = leastBusy(pool);
    }
    if (failure !== null) throw failure;
    const chunk: DiffChunk = { seq: seq++, name, firstLine: line, bytes };
    line += countLineBreaks(bytes); // before the transfer empties `bytes` here
    target.inFlight++;
    target.worker.postMessage(chunk, [bytes.buffer as ArrayBuffer]);
  };

  let rest: Buffer = Buffer.alloc(0);
  for await (const piece of createReadStream(path, { highWaterMark: CHUNK_BYTES })) {
    const data: Buffer = rest.length === 0 ? (piece as Buffer) : Buffer.concat([rest, piece as Buffer]);
    const cut = data.lastIndexOf(10) + 1; // after the last line break: no line is split
    rest = Buffer.from(data.subarray(cut)); // a copy: the chunk's memory is transferred
    if (cut > 0) await send(new Uint8Array(data.subarray(0, cut)));
  }
  if (rest.length > 0) await send(new Uint8Array(rest));
  while (failure === null && merged < seq) await waitForAnswer();
  if (failure !== null) throw failure;
}

function leastBusy(pool: PoolWorker[]): PoolWorker {
  let best = pool[0] as PoolWorker;
  for (const p of pool) if (p.inFlight < best.inFlight) best = p;
  return best;
}

function countLineBreaks(bytes: Uint8Array): number {
  let n = 0;
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) n++;
  return n;
}
