// A Bloom filter of the keys one sublevel holds (docs/performance.md, "Delivery path"): "no" is
// certain, "maybe" means read the disk. A webhook asks three times for what nearly never exists (is
// its id a replay; which incident has the provider's id it carries, before the incident has learned
// it; the incident's provider marks), and each such LevelDB read costs trips through the libuv
// thread pool. The filter is filled once, in the background, by a scan of the sublevel's keys,
// started at the first question (so a start never waits for it), and every committed write adds to
// it from the store's start on; until the scan ends it answers "maybe". Deletes leave their keys
// in: a false "maybe" only costs a read. 2^23 bits (1 MiB) with 7 hashes: about 0.1% false "maybe"
// at 300,000 keys.

const BITS_LOG2 = 23;
const HASHES = 7;

export class KeyFilter {
  private readonly bits = new Uint32Array((1 << BITS_LOG2) / 32);
  private state: 'empty' | 'scanning' | 'ready' = 'empty';

  /** `scan` yields every key the sublevel holds (once asked for, in the background). */
  constructor(
    private readonly scan: () => AsyncIterable<string>,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** A key committed to the sublevel. */
  add(key: string): void {
    const [h1, h2] = hashes(key);
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + i * h2) >>> (32 - BITS_LOG2);
      this.bits[bit >>> 5] = (this.bits[bit >>> 5] as number) | (1 << (bit & 31));
    }
  }

  /** False only when the sublevel certainly does not hold `key`. */
  mayHave(key: string): boolean {
    if (this.state !== 'ready') {
      this.start();
      return true;
    }
    const [h1, h2] = hashes(key);
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + i * h2) >>> (32 - BITS_LOG2);
      if (((this.bits[bit >>> 5] as number) & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }

  private start(): void {
    if (this.state !== 'empty') return;
    this.state = 'scanning';
    void (async () => {
      try {
        for await (const key of this.scan()) this.add(key);
        this.state = 'ready';
      } catch (err) {
        this.state = 'empty'; // asked again later
        this.onError(err);
      }
    })();
  }
}

/** Two 32-bit hashes of a string (FNV-1a, and FNV-1a over the string reversed, made odd). */
function hashes(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  const n = key.length;
  for (let i = 0; i < n; i++) {
    a = Math.imul(a ^ key.charCodeAt(i), 0x01000193);
    b = Math.imul(b ^ key.charCodeAt(n - 1 - i), 0x5bd1e995);
  }
  return [a >>> 0, (b | 1) >>> 0];
}
