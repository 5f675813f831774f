// Policy files already read, by the SHA-256 of their text (docs/architecture.md, "Policy load"):
// the plain value YAML gave (references restored, `${NAME}` not yet replaced, so no secret from the
// environment is ever kept) and the file's warnings. A restart with an unchanged policy then reads no
// YAML: the parse was 30-40 ms of every start, code running for the first time. The document with
// positions is parsed only when a problem needs a line (source.ts).
//
// Kept in memory for this process, saved in DATA_DIR for the policy on disk (`persist`), and shipped
// for the bundled policy by the build (scripts/ship-verdicts.mjs), as the regular-expression verdicts
// are (redos.ts). A saved file of another format, yaml version or build is ignored.
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { projectFile } from '../../project-files.js';
import type { SourceProblem } from './yaml.js';

/** What was read from one file whose YAML had no problem. */
export interface CachedParse {
  /** Plain value before interpolation; frozen, shared by every load. */
  readonly value: unknown;
  readonly warnings: readonly SourceProblem[];
}

interface SavedParses {
  format: number;
  yaml: string;
  /**
   * The build that made the shipped file (a random id, new with every `npm run build`); a file saved
   * in DATA_DIR carries the build it was saved by and is believed by that build only, so a change
   * to how our code reads a file never meets a parse an older build made.
   */
  build: string | null;
  files: Record<string, { value: unknown; warnings: SourceProblem[] }>;
}

/** What a saved file holds; bump when what the file gives changes shape. */
const FORMAT = 1;
/** The parser's version: another one may read the same text differently. */
const YAML_VERSION = (createRequire(import.meta.url)('yaml/package.json') as { version: string }).version;

/** The parses the build saved for the shipped policy (`npm run build`). */
export const SHIPPED_PARSES = projectFile('dist/policy-parses.json');

export class ParseCache {
  private readonly entries = new Map<string, CachedParse & { chars: number }>();
  private chars = 0;
  private shippedRead = false;
  /** The shipped file's build, once read (null: none, as when the tests run the sources). */
  private build: string | null = null;

  /**
   * At most `maxEntries` files and `maxChars` of their text (oldest forgotten first): a policy
   * directory holds a few dozen files of a few KB, and candidates sent to the API pass through too.
   */
  constructor(
    private readonly maxEntries = 512,
    private readonly maxChars = 4 * 1024 * 1024,
    /** Also believe the parses the build shipped (the process's cache does). */
    private readonly shipped = false,
  ) {}

  get size(): { entries: number; chars: number } {
    return { entries: this.entries.size, chars: this.chars };
  }

  /** Files answered from the cache, since this cache was made. */
  hits = 0;
  /** Of those, documents parsed after all because a position was asked for (a problem, a warning). */
  lateParses = 0;

  get(sha256: string): CachedParse | undefined {
    this.readShipped();
    const entry = this.entries.get(sha256);
    if (entry !== undefined) this.hits++;
    return entry;
  }

  /**
   * Keeps `value` if JSON gives it back exactly (so a saved copy is the same value): plain objects
   * and arrays, strings, booleans, null and finite numbers other than -0. YAML's `.inf`, `.nan` and
   * `-0`, or a `__proto__` key (as a key or as the object's prototype), are read afresh each time.
   */
  set(sha256: string, value: unknown, warnings: readonly SourceProblem[], chars: number): void {
    if (this.entries.has(sha256) || chars > this.maxChars || !faithful(value)) return;
    while (this.entries.size >= this.maxEntries || this.chars + chars > this.maxChars) {
      const [oldest, entry] = this.entries.entries().next().value as [string, { chars: number }];
      this.entries.delete(oldest);
      this.chars -= entry.chars;
    }
    this.entries.set(sha256, { value: deepFreeze(value), warnings: Object.freeze([...warnings]), chars });
    this.chars += chars;
  }

  /**
   * Reads a saved file; a missing or unreadable one, or one of another format, yaml version or
   * build, is only a slower load.
   */
  believe(file: string | URL): void {
    this.readShipped();
    this.read(file, (saved) => saved.build === this.build);
  }

  private readShipped(): void {
    if (this.shippedRead) return;
    this.shippedRead = true;
    if (this.shipped)
      this.read(SHIPPED_PARSES, (saved) => {
        this.build = saved.build;
        return true;
      });
  }

  private read(file: string | URL, accept: (saved: SavedParses) => boolean): void {
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as SavedParses;
      if (saved.format !== FORMAT || saved.yaml !== YAML_VERSION || !accept(saved)) return;
      for (const [sha256, entry] of Object.entries(saved.files))
        if (Array.isArray(entry.warnings))
          this.set(sha256, entry.value, entry.warnings, JSON.stringify(entry.value).length);
    } catch {
      // not there (yet), or not ours to trust
    }
  }

  /** The saved form of the files named (those in the cache), as made by `build` (this one's by default). */
  serialize(sha256s: Iterable<string>, build: string | null = this.build): string {
    const files: SavedParses['files'] = {};
    for (const sha256 of sha256s) {
      const entry = this.entries.get(sha256);
      if (entry !== undefined) files[sha256] = { value: entry.value, warnings: [...entry.warnings] };
    }
    return JSON.stringify({ format: FORMAT, yaml: YAML_VERSION, build, files } satisfies SavedParses);
  }

  /**
   * Saves the parses of `sha256s` (the policy on disk's files) to `file`, replacing it (a crash
   * mid-write leaves the old one). No mkdir: DATA_DIR is the store's to create (src/store/data-dir.ts).
   */
  async persist(file: string, sha256s: Iterable<string>): Promise<void> {
    try {
      await writeFile(`${file}.tmp`, this.serialize(sha256s));
      await rename(`${file}.tmp`, file);
    } catch {
      // only a slower next start
    }
  }
}

/** Shared by every load of this process. */
export const parseCache = new ParseCache(512, 4 * 1024 * 1024, true);

function faithful(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value === 'string' || typeof value === 'boolean') continue;
    if (typeof value === 'number') {
      if (!Number.isFinite(value) || Object.is(value, -0)) return false;
    } else if (Array.isArray(value)) {
      stack.push(...(value as unknown[]));
    } else if (
      typeof value === 'object' &&
      Object.getPrototypeOf(value) === Object.prototype &&
      !Object.hasOwn(value, '__proto__')
    ) {
      stack.push(...Object.values(value as object));
    } else return false;
  }
  return true;
}

function deepFreeze<T>(root: T): T {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value !== 'object' || Object.isFrozen(value)) continue;
    Object.freeze(value);
    stack.push(...Object.values(value as object));
  }
  return root;
}
