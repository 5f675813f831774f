// The triage worker thread (triage.ts): for each raw event of a batch, says whether the main thread
// can skip it. It parses, validates and decides exactly as the main thread would, with the same
// policy, but knows nothing of incident state, which no skipped decision depends on. Its clock is
// the main thread's when the batch was cut, a few ms before the main thread would reach each
// event: a time window that opens in that gap is seen a few ms late, as it is for any event that
// waited in the queue.
import { parentPort, workerData } from 'node:worker_threads';
import { changesNothing } from '../../domain/decision.js';
import { eventToInput } from '../../domain/log-event.js';
import { compilePolicy, type CompiledPolicy } from '../../policy/compile.js';
import { decideNow, NO_INCIDENTS } from '../../policy/decide.js';
import { parseEvent } from '../validate.js';
import {
  BatchView,
  Verdict,
  type TriageReady,
  type TriageRequest,
  type TriageWorkerData,
} from './triage-protocol.js';

const port = parentPort;
if (port === null) throw new Error('triage-worker.js runs as a worker thread');

const init = workerData as TriageWorkerData;
let policy: CompiledPolicy = compilePolicy(init.policy);
let generation = init.generation;

function triage(batch: BatchView): void {
  if (!batch.claim()) return; // the main thread got there first
  // One private copy of the events: text decoding does not take shared memory.
  const payload = batch.payload.slice();
  const now = batch.now;
  try {
    for (let i = 0; i < batch.count; i++) {
      const parsed = parseEvent(payload.subarray(batch.offsets[i], batch.offsets[i + 1]));
      if (!parsed.ok) continue; // the main thread validates again and dead-letters it
      const decision = decideNow(eventToInput(parsed.value), policy, now, NO_INCIDENTS);
      if (decision instanceof Promise) {
        // An answer that waits on json-rules-engine is left to the main thread, which also
        // reports what goes wrong with it.
        decision.catch(() => undefined);
        continue;
      }
      if (changesNothing(decision)) batch.verdicts[i] = Verdict.Skip;
      // Recorded or suppressed: what the queue sheds first when it must (core.ts). A resolve or a
      // page (with or without an open incident, which only fills `incident`) stays Decide.
      else if (!decision.paged && decision.resolves === null) batch.verdicts[i] = Verdict.Minor;
    }
    batch.generation = generation;
  } catch (err) {
    batch.generation = -1; // no verdict is used; the error ends the worker (triage.ts falls back)
    throw err;
  } finally {
    batch.markDone();
  }
}

port.on('message', (request: TriageRequest) => {
  if (request.type === 'policy') {
    policy = compilePolicy(request.policy);
    generation = request.generation;
    return;
  }
  triage(new BatchView(request.buffer));
});
port.postMessage({ type: 'ready' } satisfies TriageReady);
