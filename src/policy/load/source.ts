// One policy file: YAML with positions (yaml.ts), `${ENV}` replaced (interpolate.ts), read into
// a plain value; and the means to turn a path inside the file (['classify', 2, 'when']) back into
// `line:col`. A file read before (same text) comes from the parse cache (parse-cache.ts) and its
// document is parsed only if a position is asked for.
import { createHash } from 'node:crypto';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import {
  hasShieldCharacters,
  interpolateValue,
  referenceProblems,
  shieldReferences,
  unshieldDocument,
  type Lookup,
} from './interpolate.js';
import { parseCache, type ParseCache } from './parse-cache.js';
import { MAX_ALIASES, MAX_DEPTH, readYaml, type Position, type SourceProblem } from './yaml.js';

export type { Position, SourceProblem } from './yaml.js';

/** A 300-rule policy is about 20 KB; this bounds parse time (yaml needs ~1 s for 256 KB of keys). */
export const MAX_FILE_CHARS = 262_144;

export type Path = readonly (string | number)[];

export interface PolicyFile {
  readonly name: string;
  readonly sha256: string;
  /**
   * The document with positions; null when the text never became one (too large, too deep). Parsed
   * on first use for a file that came from the parse cache (it fills `lines`).
   */
  readonly doc: Document.Parsed | null;
  readonly lines: LineCounter;
}

/** A file whose value came from the parse cache: its document is parsed when a position is asked for. */
function lazyFile(name: string, sha256: string, text: string, cache: ParseCache): PolicyFile {
  const lines = new LineCounter();
  let doc: Document.Parsed | null | undefined;
  return {
    name,
    sha256,
    lines,
    get doc(): Document.Parsed | null {
      if (doc === undefined) {
        cache.lateParses++;
        const read = readDocument(text, lines);
        doc = read.ok ? read.doc : null;
      }
      return doc;
    },
  };
}

/**
 * The file's YAML with positions, `${…}` shielded while YAML reads it and restored in every scalar
 * after (keys too: a path is found by them), the same document whether the file was read now or
 * came from the parse cache.
 */
function readDocument(text: string, lines: LineCounter): ReturnType<typeof readYaml> {
  const read = readYaml(shieldReferences(text), lines);
  if (read.ok) unshieldDocument(read.doc);
  return read;
}

export interface ParsedFile {
  file: PolicyFile;
  problems: SourceProblem[];
  warnings: SourceProblem[];
  /** The file's plain value, or undefined when the file cannot be used at all. */
  value: unknown;
  /** Nothing but comments: reported, but it cannot have held anything the other files need. */
  empty: boolean;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Parse, then replace `${NAME}` in string values (`lookup`), then read the plain value; a text
 * `cache` holds is not parsed (its document is, if a position is asked for).
 */
export function parseFile(
  name: string,
  text: string,
  lookup: Lookup,
  cache: ParseCache | null = parseCache,
): ParsedFile {
  const lines = new LineCounter();
  const sha256 = sha256Hex(text);
  const unusable = (problem: SourceProblem): ParsedFile => ({
    file: { name, sha256, doc: null, lines },
    problems: [problem],
    warnings: [],
    value: undefined,
    empty: false,
  });
  if (text.length > MAX_FILE_CHARS)
    return unusable({ line: 1, col: 1, message: `file is larger than ${MAX_FILE_CHARS} characters` });
  if (hasShieldCharacters(text))
    return unusable({ line: 1, col: 1, message: 'file contains the reserved characters U+E000 or U+E001' });
  const cached = cache?.get(sha256);
  if (cache && cached !== undefined) {
    const { value, failed } = interpolateValue(cached.value, lookup);
    if (!failed) {
      const file = lazyFile(name, sha256, text, cache);
      return { file, problems: [], warnings: [...cached.warnings], value, empty: false };
    }
    // A reference that is a problem needs its position: read the file as if for the first time.
  }
  const read = readDocument(text, lines);
  if (!read.ok) return unusable(read.problem);
  const { doc, problems, warnings } = read;
  const file: PolicyFile = { name, sha256, doc, lines };
  const empty = doc.contents === null;
  if (empty && problems.length === 0) {
    problems.push({
      line: 1,
      col: 1,
      message: 'file is empty: every policy file starts with "apiVersion: incident-router/v1"',
    });
  }
  if (problems.length > 0) return { file, problems, warnings, value: undefined, empty };
  const fail = (message: string): ParsedFile => ({
    file,
    problems: [{ line: 1, col: 1, message }],
    warnings,
    value: undefined,
    empty,
  });
  // The value before interpolation (kept for the next load of this text), then interpolated as a
  // copy; the document is read again only when a reference is a problem, for its position.
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    // toJS refuses to expand aliases beyond maxAliasCount ("billion laughs").
    return fail(`cannot read the file: ${(err as Error).message}`);
  }
  // Aliases can nest what the text did not.
  if (valueDepth(raw) > MAX_DEPTH)
    return fail(`file nests deeper than ${MAX_DEPTH} levels once aliases are expanded`);
  cache?.set(sha256, raw, warnings, text.length);
  const { value, failed } = interpolateValue(raw, lookup);
  if (failed)
    for (const p of referenceProblems(doc, lookup))
      problems.push({ ...lines.linePos(p.offset), message: p.message });
  return { file, problems, warnings, value, empty };
}

function valueDepth(root: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[root, 0]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [value, depth] = top;
    if (value === null || typeof value !== 'object') continue;
    if (depth + 1 > max) max = depth + 1;
    if (max > MAX_DEPTH) return max;
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
  return max;
}

/**
 * `line:col` of the node at `path` (of its key when `key` is set). Walks as deep as the path
 * exists, so a path into something missing points at its nearest existing parent.
 */
export function positionOf(file: PolicyFile, path: Path, key = false): Position {
  const doc = file.doc;
  if (doc === null) return { line: 1, col: 1 };
  let node: unknown = doc.contents;
  let found: unknown = node;
  for (let i = 0; i < path.length && node !== null && node !== undefined; i++) {
    if (isAlias(node)) node = node.resolve(doc);
    const segment = path[i] as string | number;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment),
      );
      if (pair === undefined) break;
      node = last && key ? pair.key : (pair.value ?? pair.key);
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
    } else {
      break;
    }
    if (node !== null && node !== undefined) found = node;
  }
  const range = (found as YamlNode | null)?.range;
  return range ? file.lines.linePos(range[0]) : { line: 1, col: 1 };
}
