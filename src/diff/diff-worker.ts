// A worker thread of the parallel file diff (src/diff/parallel.ts, docs/policy-diff.md
// "Speed"): compiles both policies from the documents the main thread loaded (with its ReDoS
// verdicts, so every pattern runs on the same engine as there; no file is read or validated
// again), then decides the chunks of lines it is sent, each event by both policies at its own
// timestamp, and answers what changed in each chunk.
import { parentPort, workerData } from 'node:worker_threads';
import { compilePolicy, type CompiledPolicy, type CompileInput } from '../policy/compile.js';
import { decideBoth, type ChangedEvent, type SourceProblem } from './diff.js';
import { parseEventLine } from './ndjson.js';

export interface DiffWorkerData {
  prev: CompileInput;
  next: CompileInput;
}

/** Lines `firstLine`… of the source named `name`, as UTF-8 bytes ending at a line break. */
export interface DiffChunk {
  seq: number;
  name: string;
  firstLine: number;
  bytes: Uint8Array;
}

export interface DiffChunkResult {
  seq: number;
  events: number;
  problems: SourceProblem[];
  changed: ChangedEvent[];
}

export type DiffWorkerMessage =
  { type: 'ready' } | { type: 'failed'; message: string } | { type: 'chunk'; result: DiffChunkResult };

const port = parentPort;
if (port === null) throw new Error('diff-worker.js runs as a worker thread');
const data = workerData as DiffWorkerData;

async function decideChunk(
  chunk: DiffChunk,
  prev: CompiledPolicy,
  next: CompiledPolicy,
): Promise<DiffChunkResult> {
  const text = new TextDecoder().decode(chunk.bytes);
  const result: DiffChunkResult = { seq: chunk.seq, events: 0, problems: [], changed: [] };
  let line = chunk.firstLine;
  for (let start = 0; start < text.length; line++) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const raw = text.slice(start, end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end);
    start = end + 1;
    const item = parseEventLine(raw, `${chunk.name}:${line}`);
    if (item === null) continue;
    if ('problem' in item) {
      result.problems.push(item.problem);
      continue;
    }
    let changed = decideBoth(item, prev, next);
    if (changed instanceof Promise) changed = await changed;
    result.events++;
    if (changed !== null) result.changed.push(changed);
  }
  return result;
}

function main(worker: NonNullable<typeof parentPort>): void {
  let policies: [CompiledPolicy, CompiledPolicy];
  try {
    policies = [compilePolicy(data.prev), compilePolicy(data.next)];
  } catch (err) {
    const message = `a policy the main thread loaded did not compile here: ${(err as Error).message}`;
    worker.postMessage({ type: 'failed', message } satisfies DiffWorkerMessage);
    return;
  }
  // Chunks are decided one at a time, in the order they come: a chunk's answer is posted before the next starts.
  let queue = Promise.resolve();
  worker.on('message', (chunk: DiffChunk) => {
    queue = queue.then(async () => {
      try {
        const result = await decideChunk(chunk, ...policies);
        worker.postMessage({ type: 'chunk', result } satisfies DiffWorkerMessage);
      } catch (err) {
        worker.postMessage({ type: 'failed', message: (err as Error).message } satisfies DiffWorkerMessage);
      }
    });
  });
  worker.postMessage({ type: 'ready' } satisfies DiffWorkerMessage);
}

main(port);
