// The V8 heap of `serve` (docs/runtime.md, "Memory flags"). V8 lets the heap grow to several times
// what is live while allocation is fast and keeps those pages afterwards; its memory reducer, meant
// to give them back once the process idles, did not in our runs (RSS flat for 60 s at rest). And it
// moves whole allocation sites to the old generation on evidence that does not last. So:
//
// - `tuneHeap` sets a fixed growth of 25% over live (`--heap-growing-percent`). V8 11 (Node 20)
//   has the flag; V8 13 (Node 24) dropped it, and there this does nothing.
// - `tuneHeap` turns allocation-site pretenuring off (`--no-allocation-site-pretenuring`). V8 allocates
//   the objects of a site (an object literal in optimised code) straight in the old generation once
//   most of them survived two young collections, and never goes back. A burst of new incidents
//   keeps each one's decision until it is written, so the decision's literals were pretenured; every
//   later decision (a repeat, a noise event) was then old-generation garbage: scavenges that grew
//   the heap by about 2.5 MB each, 2-7 ms apiece, and a full collection every 200 ms while repeats
//   arrived. Without it, the same repeats: scavenges of 0.5-1 ms, no growth, no full collection
//   (docs/performance.md, "Against Alertmanager").
// - `HeapAtRest`: once the process has been quiet for two looks in a row (its event loop busy less
//   than 2% of the time), the first time after start and then whenever its heap has grown by 32 MiB
//   since the last such collection, it drops the caches sized for bursts (`shed`) and runs one full
//   collection that also returns free pages to the system, as Chrome does when memory runs low
//   (V8's `LowMemoryNotification`, through the in-process inspector's
//   `HeapProfiler.collectGarbage`: no port is opened). It blocks the event loop for a few hundred
//   milliseconds at most (280 ms with 20,000 open incidents on the 2-core machine), and only when
//   nothing has been happening for 10 s. After a burst of 20,000 new incidents (`node --expose-gc
//   bench/nats.mjs rss 20000`, Node 24): 280-300 MB RSS at rest before, 165-180 MB with it.
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';

/** The V8 flags `serve` sets at start: each one that node's command line did not already set its way. */
export function heapFlags(execArgv: readonly string[]): string[] {
  const given = (name: string): boolean => execArgv.some((arg) => arg.includes(name));
  const flags: string[] = [];
  if (!given('heap-growing-percent')) flags.push('--heap-growing-percent=25');
  if (!given('allocation-site-pretenuring')) flags.push('--no-allocation-site-pretenuring');
  return flags;
}

/**
 * Sets `heapFlags` (both are read by V8 as it runs, so at start is early enough; Node refuses them
 * in NODE_OPTIONS, and an explicit one on node's command line wins).
 */
export function tuneHeap(): void {
  for (const flag of heapFlags(process.execArgv)) setFlagsFromString(flag);
}

/**
 * When to collect: a pure rule, so it can be tested without a heap. Once after start (what loading
 * the policy and the modules left behind, and the young generation that start grew: 102 -> 93 MB
 * idle RSS on Node 24), then whenever the heap has grown by `growthBytes` since the last collection.
 */
export class RestRule {
  private quietLooks = 0;
  /** The collection after start has not happened yet. */
  private started = false;

  constructor(
    private baselineBytes: number,
    private readonly growthBytes = 32 * 1024 * 1024,
    private readonly quietUtilization = 0.02,
    private readonly looks = 2,
  ) {}

  /** One look: the event loop's utilization since the last look and the heap's size now. */
  look(utilization: number, heapBytes: number): boolean {
    this.quietLooks = utilization < this.quietUtilization ? this.quietLooks + 1 : 0;
    if (heapBytes < this.baselineBytes) this.baselineBytes = heapBytes; // shrank by itself
    const grown = heapBytes >= this.baselineBytes + this.growthBytes;
    return this.quietLooks >= this.looks && (!this.started || grown);
  }

  /** The heap's size after a collection: growth is counted from it. */
  collected(heapBytes: number): void {
    this.baselineBytes = heapBytes;
    this.quietLooks = 0;
    this.started = true;
  }
}

interface Logger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

interface InspectorSession {
  connect(): void;
  post(method: string, callback: (err: Error | null) => void): void;
  disconnect(): void;
}

const MIB = 1024 * 1024;

export class HeapAtRest {
  private timer: NodeJS.Timeout | null = null;
  private last: EventLoopUtilization = performance.eventLoopUtilization();
  private readonly rule = new RestRule(getHeapStatistics().total_heap_size);
  private collecting = false;

  /**
   * `shed`: asked to drop its caches just before each collection; `collected`: told after each
   * collection (the metric); `everyMs`: between looks.
   */
  constructor(
    private readonly logger: Logger,
    private readonly options: { shed?: () => void; collected?: () => void; everyMs?: number } = {},
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.look(), this.options.everyMs ?? 5_000).unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private async look(): Promise<void> {
    const now = performance.eventLoopUtilization();
    const utilization = performance.eventLoopUtilization(now, this.last).utilization;
    this.last = now;
    if (this.collecting || !this.rule.look(utilization, getHeapStatistics().total_heap_size)) return;
    this.collecting = true;
    try {
      this.options.shed?.();
      const outcome = await collectGarbage();
      this.rule.collected(outcome.afterBytes);
      this.last = performance.eventLoopUtilization(); // the collection itself is not load
      this.options.collected?.();
      this.logger.info(
        {
          event: 'heap_collected_at_rest',
          before_mb: Math.round(outcome.beforeBytes / MIB),
          after_mb: Math.round(outcome.afterBytes / MIB),
          ms: Math.round(outcome.ms),
        },
        'the process was quiet: collected the heap and returned its free pages',
      );
    } catch (err) {
      this.stop(); // no inspector in this Node build: leave it to V8
      this.logger.warn({ event: 'heap_collection_unavailable', err }, 'cannot collect the heap at rest');
    } finally {
      this.collecting = false;
    }
  }
}

/** One full, memory-reducing collection; the heap's size before and after, and how long it took. */
export async function collectGarbage(): Promise<{ beforeBytes: number; afterBytes: number; ms: number }> {
  const { Session } = (await import('node:inspector')) as { Session: new () => InspectorSession };
  const session = new Session();
  session.connect();
  try {
    const beforeBytes = getHeapStatistics().total_heap_size;
    const started = performance.now();
    await new Promise<void>((resolve, reject) =>
      session.post('HeapProfiler.collectGarbage', (err) => (err ? reject(err) : resolve())),
    );
    return { beforeBytes, afterBytes: getHeapStatistics().total_heap_size, ms: performance.now() - started };
  } finally {
    session.disconnect();
  }
}
