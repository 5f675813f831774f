// The cheap pre-check of load shedding (docs/nats.md, "Load shedding"): from the raw bytes of a
// message, without parsing it, whether it may page or resolve under the policy in force. Core mode
// asks it only for messages that arrive while the queue is full (core.ts): those it clears are
// dropped as noise, the rest are kept. It must never clear an event that would page or resolve, so
// it is built to say "may" whenever it is unsure:
//
// - Every classify rule that may page or resolve (a resolve rule, one without a severity of its own,
//   one whose severity pages or may be upgraded to one that does) yields what the text of any event
//   it matches must contain: words (a literal run of each alternative of a `matches` pattern, the
//   value of `equal` and `in`) combined as its `all` and `any` combine its conditions. A message is
//   kept when it holds what some such rule needs. A rule none of whose conditions can be bounded
//   that way turns the filter off (null: every message is kept, as before). Rules that only record
//   are left out: what they match is noise here.
// - An event no classify rule matches takes its severity from `settings.level_severity`; its level
//   may matter when that severity pages, or when an upgrade rule could raise it to one that does
//   (conditions on `severity` are read, every other condition is assumed to hold).
// - A message with a backslash (a JSON escape could spell any word), a non-ASCII byte (case folding
//   beyond ASCII) or a level it cannot read is kept.
import { isPagingSeverity, type Severity } from '../../domain/severity.js';
import { LOG_LEVELS, type LogLevel } from '../../domain/log-event.js';
import type { PatternLookup } from '../../policy/operators.js';
import type { Condition, PolicyDocument } from '../../policy/types.js';

/** Words an event must contain, any one of them (case-insensitive); null: no bound known. */
type Words = string[] | null;

const MIN_WORD = 3;
const LITERAL = /[A-Za-z0-9 _\-:/=,;'"<>@#%&!~`]/;
/** Facts that are event fields written verbatim in the raw JSON. */
const RAW_FACTS = new Set(['message', 'source', 'service', 'host', 'trace_id', 'level']);

/**
 * Required literals of a regular expression, one per top-level alternative (the longest literal
 * run of each); null if any alternative has none of at least MIN_WORD characters, or the pattern
 * uses what this reader does not follow (groups with `(?`, numeric or unicode escapes).
 */
export function requiredWords(source: string): string[] | null {
  if (source.includes('(?')) return null;
  const words: string[] = [];
  let best = '';
  let run = '';
  let depth = 0;
  const endRun = (): void => {
    if (run.length > best.length) best = run;
    run = '';
  };
  const endAlternative = (): boolean => {
    endRun();
    if (best.length < MIN_WORD) return false;
    words.push(best);
    best = '';
    return true;
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    if (c === '\\') {
      const next = source[i + 1] ?? '';
      if (/[xucpPk0-9]/.test(next)) return null;
      endRun();
      i++;
      continue;
    }
    if (c === '[') {
      endRun();
      for (i++; i < source.length && source[i] !== ']'; i++) if (source[i] === '\\') i++;
      continue;
    }
    if (c === '(') {
      endRun();
      depth++;
      continue;
    }
    if (c === ')') {
      depth--;
      continue;
    }
    if (depth > 0) continue; // inside a group: nothing there is counted on
    if (c === '|') {
      if (!endAlternative()) return null;
      continue;
    }
    if (c === '?' || c === '*' || c === '{') {
      run = run.slice(0, -1); // the character before is optional (or its count unknown)
      endRun();
      if (c === '{') while (i < source.length && source[i] !== '}') i++;
      continue;
    }
    if (c === '+') {
      endRun(); // the character before is there at least once: the run up to it stands
      continue;
    }
    if (LITERAL.test(c)) run += c;
    else endRun();
  }
  if (depth !== 0 || !endAlternative()) return null;
  return words;
}

/**
 * Words one of which any event matching `condition` contains: a list of groups that must all be
 * present (each group: any one word). An empty list means nothing is known; null means a condition
 * this cannot bound where a bound was needed.
 */
function wordsOf(condition: Condition, doc: PolicyDocument, depth = 0): Words[] {
  if (depth > 16) return [];
  if ('all' in condition) return condition.all.flatMap((c) => wordsOf(c, doc, depth + 1));
  if ('any' in condition) {
    const union: string[] = [];
    for (const child of condition.any) {
      const group = narrowest(wordsOf(child, doc, depth + 1));
      if (group === undefined) return []; // this branch may match anything
      union.push(...group);
    }
    return [union];
  }
  if ('not' in condition) return [];
  if ('condition' in condition) {
    const named = doc.conditions[condition.condition];
    return named === undefined ? [] : wordsOf(named, doc, depth + 1);
  }
  if (!RAW_FACTS.has(condition.fact) || condition.path !== undefined) return [];
  const { operator, value } = condition;
  if (operator === 'matches' && typeof value === 'string') return [requiredWords(value)];
  if (operator === 'equal' && typeof value === 'string' && value.length > 0) return [[value]];
  if (operator === 'in' && Array.isArray(value) && value.every((v) => typeof v === 'string' && v !== ''))
    return [value as string[]];
  return [];
}

/**
 * What the raw text of an event matching `condition` must hold, as a formula over "contains one of
 * these words" (null: nothing known, it may hold for any text). Finer than `wordsOf`, which keeps one
 * group per `any`: here each branch keeps all its groups, so `source: database` and a level of error
 * is not satisfied by `database` alone.
 */
type Need =
  | { words: RegExp }
  | { all: Need[] }
  | { any: Need[] }
  /** The policy's own pattern, run on the field's value read from the raw text. */
  | { field: string; matches: { test(text: string): boolean } };

function needOf(
  condition: Condition,
  doc: PolicyDocument,
  patterns: PatternLookup | null,
  depth = 0,
): Need | null {
  if (depth > 16) return null;
  if ('all' in condition) {
    const parts = condition.all
      .map((c) => needOf(c, doc, patterns, depth + 1))
      .filter((n): n is Need => n !== null);
    return parts.length === 0 ? null : parts.length === 1 ? (parts[0] as Need) : { all: parts };
  }
  if ('any' in condition) {
    const parts: Need[] = [];
    for (const child of condition.any) {
      const need = needOf(child, doc, patterns, depth + 1);
      if (need === null) return null; // this branch may hold for any text
      parts.push(need);
    }
    return parts.length === 0 ? null : { any: parts };
  }
  if ('not' in condition) return null;
  if ('condition' in condition) {
    const named = doc.conditions[condition.condition];
    return named === undefined ? null : needOf(named, doc, patterns, depth + 1);
  }
  const [group] = wordsOf(condition, doc, depth);
  const words: Need | null =
    group === undefined || group === null || group.length === 0
      ? null
      : { words: new RegExp(group.map(escape).join('|'), 'i') };
  // A pattern on a field, as the policy runs it, where the field's value can be read exactly.
  if (patterns !== null && 'operator' in condition && condition.operator === 'matches') {
    const check = typeof condition.value === 'string' ? patterns(condition.value) : null;
    if (check?.ok === true && condition.path === undefined && RAW_FACTS.has(condition.fact)) {
      const exact: Need = { field: condition.fact, matches: check.matcher };
      return words === null ? exact : { all: [words, exact] };
    }
  }
  return words;
}

function holds(need: Need, text: string): boolean {
  if ('words' in need) return need.words.test(text);
  if ('all' in need) return need.all.every((n) => holds(n, text));
  if ('any' in need) return need.any.some((n) => holds(n, text));
  const value = fieldOf(text, need.field);
  // Absent, or not a string: the pattern cannot match it; unreadable: it may.
  return value === UNREADABLE ? true : value !== null && need.matches.test(value);
}

const UNREADABLE = Symbol('unreadable');

/**
 * The string value of key `field` in the raw text of an event (known to hold no backslash, so the
 * text between the quotes is the value itself); null when no such key has a string value;
 * UNREADABLE when the key appears with different values (a nested object's, or repeated) or with a
 * value that is not a plain string.
 */
function fieldOf(text: string, field: string): string | null | typeof UNREADABLE {
  const key = `"${field}"`;
  let found: string | null = null;
  for (let at = text.indexOf(key); at !== -1; at = text.indexOf(key, at + key.length)) {
    const rest = text.slice(at + key.length);
    const colon = /^\s*:\s*/.exec(rest);
    if (colon === null) continue; // the word as a value, not a key
    const value = /^"([^"]*)"/.exec(rest.slice(colon[0].length));
    if (value === null) return UNREADABLE;
    if (found !== null && found !== value[1]) return UNREADABLE;
    found = value[1] as string;
  }
  return found;
}

/** Of groups that must all be present, the one least likely to be (its shortest word the longest). */
function narrowest(groups: readonly Words[]): string[] | undefined {
  let best: string[] | undefined;
  let bestLength = -1;
  for (const group of groups) {
    if (group === null || group.length === 0) continue;
    const shortest = Math.min(...group.map((w) => w.length));
    if (shortest > bestLength) [best, bestLength] = [group, shortest];
  }
  return best;
}

/** Whether `condition` could hold for an event of classified severity `severity` (other facts: maybe). */
function mayHold(condition: Condition, severity: Severity, doc: PolicyDocument, depth = 0): boolean {
  if (depth > 16) return true;
  if ('all' in condition) return condition.all.every((c) => mayHold(c, severity, doc, depth + 1));
  if ('any' in condition) return condition.any.some((c) => mayHold(c, severity, doc, depth + 1));
  if ('not' in condition) return true;
  if ('condition' in condition) {
    const named = doc.conditions[condition.condition];
    return named === undefined || mayHold(named, severity, doc, depth + 1);
  }
  if (condition.fact !== 'severity' || condition.path !== undefined) return true;
  const { operator, value } = condition;
  if (operator === 'equal') return value === severity;
  if (operator === 'notEqual') return value !== severity;
  if (operator === 'in' && Array.isArray(value)) return value.includes(severity);
  if (operator === 'notIn' && Array.isArray(value)) return !value.includes(severity);
  return true;
}

const escape = (word: string): string => word.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
const decoder = new TextDecoder();

export interface ShedFilter {
  /** False only for a message that certainly neither pages nor resolves. */
  mayMatter(raw: Uint8Array): boolean;
}

/** The filter for a policy, or null when some classify rule cannot be bounded (keep everything). */
export function shedFilter(doc: PolicyDocument, patterns: PatternLookup | null = null): ShedFilter | null {
  // A severity may page if it does, or if an upgrade rule could raise it to one that does.
  const mayPage = (severity: Severity): boolean =>
    isPagingSeverity(severity) ||
    doc.upgrade.some((u) => isPagingSeverity(u.severity) && mayHold(u.when, severity, doc));
  const words = new Set<string>();
  /** Per rule that may page or resolve: what the text of an event it matches holds. */
  const needs: Need[] = [];
  for (const rule of doc.classify) {
    // A rule that only records (its own severity cannot page, it resolves nothing) needs no words.
    if (rule.resolve === undefined && rule.severity !== undefined && !mayPage(rule.severity)) continue;
    if (rule.when === undefined) return null; // matches every event
    // It must have a readable group; its narrowest one makes the quick first check.
    const group = narrowest(wordsOf(rule.when, doc));
    const need = needOf(rule.when, doc, patterns);
    if (group === undefined || need === null) return null;
    for (const w of group) words.add(w);
    needs.push(need);
  }
  const levels = new Set<string>();
  for (const level of LOG_LEVELS) {
    if (mayPage(doc.settings.level_severity[level as LogLevel] ?? 'info')) levels.add(level);
  }
  const any = words.size === 0 ? null : new RegExp([...words].map(escape).join('|'), 'i');
  const quiet = LOG_LEVELS.filter((l) => !levels.has(l));
  return {
    mayMatter(raw: Uint8Array): boolean {
      const text = decoder.decode(raw);
      if (text.length !== raw.byteLength || text.includes('\\')) return true;
      // A word of some rule's narrowest group, then all that one such rule needs.
      if (any?.test(text) && needs.some((need) => holds(need, text))) return true;
      return !quietLevel(text, quiet);
    },
  };
}

/** Whether the text's `"level"` key has one of the `quiet` levels (false when unsure or absent). */
function quietLevel(text: string, quiet: readonly string[]): boolean {
  const level = fieldOf(text, 'level');
  return typeof level === 'string' && quiet.includes(level);
}
