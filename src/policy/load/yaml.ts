// YAML text → a document with positions, and every problem in it. The `yaml` package keeps each
// node's offsets and collects errors instead of stopping at the first. Its steps are run one by one
// here so that nesting depth is measured on the tokens before the (recursive) composer sees them.
import { Composer, isAlias, isCollection, isMap, isNode, isScalar, Parser, visit } from 'yaml';
import type { CST, Document, LineCounter, Node as YamlNode, YAMLError } from 'yaml';
import { unshield } from './interpolate.js';

/**
 * yaml's composer and ajv recurse per nesting level. Deep enough nesting exhausts the stack, and
 * when that happens inside V8's regexp compiler the process aborts instead of throwing. Real
 * policies nest about 10 deep.
 */
export const MAX_DEPTH = 64;
/** `*alias` uses per file; also the bound on how far aliases may expand (yaml's maxAliasCount). */
export const MAX_ALIASES = 100;

export interface Position {
  line: number;
  col: number;
}
export interface SourceProblem extends Position {
  message: string;
}

export type YamlRead =
  | { ok: true; doc: Document.Parsed; problems: SourceProblem[]; warnings: SourceProblem[] }
  | { ok: false; problem: SourceProblem };

export function readYaml(text: string, lines: LineCounter): YamlRead {
  const tokens = [...new Parser(lines.addNewLine).parse(text)];
  if (tokenDepth(tokens) > MAX_DEPTH)
    return { ok: false, problem: { line: 1, col: 1, message: `file nests deeper than ${MAX_DEPTH} levels` } };
  // YAML 1.2 core schema; no `<<` merge keys (the schema refuses them as unknown keys); no 1.1
  // tags (!!binary, !!set) that would turn values into objects the schema cannot describe.
  const composer = new Composer({ uniqueKeys: false, merge: false, resolveKnownTags: false });
  const [doc, second] = composer.compose(tokens, true, text.length);
  if (doc === undefined)
    return { ok: false, problem: { line: 1, col: 1, message: 'file could not be read as YAML' } };
  const at = (offset: number): Position => lines.linePos(offset);
  const problems = doc.errors.map((e) => located(e, at));
  const warnings: SourceProblem[] = [];
  // An unresolved tag (`!Ref x`) silently becomes a string: the author meant something else.
  for (const w of doc.warnings) (w.code === 'TAG_RESOLVE_FAILED' ? problems : warnings).push(located(w, at));
  if (second !== undefined) {
    problems.push({
      ...at(second.range[0]),
      message: 'a policy file holds one YAML document; a second one starts here',
    });
  }
  problems.push(...duplicateKeys(doc, at), ...checkAliases(doc, at));
  return { ok: true, doc, problems, warnings };
}

function located(error: YAMLError, at: (offset: number) => Position): SourceProblem {
  return { ...at(error.pos[0]), message: `${unshield(error.message)} (${error.code})` };
}

/** What a key that is a list, a map or an alias is told (policy files and policy test files alike). */
export const COMPLEX_KEY = 'a key must be a plain name, not a list, a map or an alias';

/** A map key that is not a plain scalar: no key of ours is one (src/policy/test-cases.ts asks too). */
export function isComplexKey(key: unknown): key is YamlNode {
  return isNode(key) && !isScalar(key);
}

/**
 * Our own check, linear in the number of keys (yaml's `uniqueKeys` compares every pair). A key
 * that is a list, a map or an alias is refused here too: no policy key is one, and converting it
 * would make a string of it with a process warning and no position.
 */
function duplicateKeys(doc: Document.Parsed, at: (offset: number) => Position): SourceProblem[] {
  const found: SourceProblem[] = [];
  visit(doc, {
    Map(_key, map) {
      if (!isMap(map)) return;
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (isComplexKey(pair.key)) {
          found.push({ ...at(pair.key.range?.[0] ?? 0), message: COMPLEX_KEY });
          continue;
        }
        if (!isScalar(pair.key)) continue;
        const key = unshield(String(pair.key.value));
        if (seen.has(key)) found.push({ ...at(pair.key.range?.[0] ?? 0), message: `duplicate key "${key}"` });
        seen.add(key);
      }
    },
  });
  return found;
}

/**
 * yaml reports an alias without its anchor only when converting, and without a position. Each
 * alias costs yaml a walk of the whole document when converting, so their number is bounded too.
 */
function checkAliases(doc: Document.Parsed, at: (offset: number) => Position): SourceProblem[] {
  const found: SourceProblem[] = [];
  const anchors = new Set<string>();
  let aliases = 0;
  visit(doc, (_key, node) => {
    if (isAlias(node)) {
      aliases++;
      if (anchors.has(node.source)) return;
      const name = unshield(node.source);
      const message = `unknown alias *${name}: define the anchor &${name} before using it`;
      found.push({ ...at(node.range?.[0] ?? 0), message });
    } else if ((isScalar(node) || isCollection(node)) && node.anchor !== undefined) {
      anchors.add(node.anchor);
    }
  });
  if (aliases > MAX_ALIASES)
    found.push({
      line: 1,
      col: 1,
      message: `file uses ${aliases} aliases; at most ${MAX_ALIASES} are allowed`,
    });
  return found;
}

/** Deepest collection nesting in the token stream, measured without recursion. */
function tokenDepth(tokens: readonly CST.Token[]): number {
  let max = 0;
  const stack: [CST.Token | undefined | null, number][] = tokens.map((t) => [t, 0]);
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [token, depth] = top;
    if (token === undefined || token === null) continue;
    if (token.type === 'document') stack.push([token.value, depth]);
    if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      if (depth + 1 > max) max = depth + 1;
      if (max > MAX_DEPTH) return max;
      for (const item of token.items) {
        if ('key' in item) stack.push([item.key, depth + 1]);
        stack.push([item.value, depth + 1]);
      }
    }
  }
  return max;
}
