// `${NAME}` and `${NAME:-default}` in string values, replaced from the environment at load time
// (docs/policy-language.md, "Environment interpolation"). `$${` writes a literal `${`. The syntax and
// the `:-` rule (unset or empty → default) are the shell's and docker compose's, which policy authors
// already know.
import { visit } from 'yaml';
import { setJsonKey } from '../../domain/json-shape.js';
import type { Document } from 'yaml';

export type Env = Readonly<Record<string, string | undefined>>;

export interface Interpolation {
  value: string;
  problems: string[];
}

/**
 * How references are looked up. `withhold`: a variable missing from `env` is withheld rather than
 * unset: it becomes the placeholder `$NAME` (no braces: titles use `{name}` templates) (a candidate policy from a request sees only the
 * variables the operator allowed, never the process environment: docs/http-api.md, "Secrets").
 */
export interface Lookup {
  env: Env;
  withhold: boolean;
}

/** A value holding a withheld variable's placeholder: a candidate's check of it would be a guess. */
export function holdsPlaceholder(value: string): boolean {
  return /\$[A-Za-z_]/.test(value);
}

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

export function interpolate(text: string, env: Env, withhold = false): Interpolation {
  const problems: string[] = [];
  let value = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar === -1) break;
    value += text.slice(i, dollar);
    if (text.startsWith('$${', dollar)) {
      value += '${';
      i = dollar + 3;
    } else if (text.startsWith('${', dollar)) {
      const close = text.indexOf('}', dollar + 2);
      if (close === -1) {
        problems.push('unterminated "${": write ${NAME} or ${NAME:-default}, or $${ for a literal ${');
        i = text.length;
        break;
      }
      value += resolve(text.slice(dollar + 2, close), env, withhold, problems);
      i = close + 1;
    } else {
      value += '$';
      i = dollar + 1;
    }
  }
  return { value: value + text.slice(i), problems };
}

function resolve(reference: string, env: Env, withhold: boolean, problems: string[]): string {
  const m = REFERENCE.exec(reference);
  if (m === null) {
    problems.push(
      `"\${${reference}}" is not a variable reference: write \${NAME} or \${NAME:-default}, or $\${ for a literal \${`,
    );
    return '';
  }
  const [, name, fallback] = m as unknown as [string, string, string | undefined];
  if (withhold && !Object.hasOwn(env, name)) return `$${name}`;
  const set = Object.hasOwn(env, name) ? env[name] : undefined;
  if (fallback !== undefined) return set === undefined || set === '' ? fallback : set;
  if (set === undefined) {
    problems.push(`environment variable ${name} is not set (write \${${name}:-} to allow it empty)`);
    return '';
  }
  return set;
}

// In YAML flow collections a plain scalar ends at `{` and `}`, so `{ routing_key: ${KEY} }`, the
// form docs/policy-language.md itself shows, is not YAML. Before parsing, references are hidden behind two
// private-use characters of the same length (so offsets, hence positions, do not move) and they
// are restored in every scalar before interpolation.
const OPEN = '\uE000';
const CLOSE = '\uE001';
const REFERENCE_IN_TEXT = /\$\{([A-Za-z_][A-Za-z0-9_]*(?::-[^{}\n"'\\]*)?)\}/g;
const SHIELDED = /[\uE000\uE001]/g;

/** Whether the text uses the characters the shield needs (a policy has no reason to). */
export function hasShieldCharacters(text: string): boolean {
  return text.includes(OPEN) || text.includes(CLOSE);
}

export function shieldReferences(text: string): string {
  return text.replace(REFERENCE_IN_TEXT, (_match, body: string) => `$${OPEN}${body}${CLOSE}`);
}

export function unshield(text: string): string {
  return text.replace(SHIELDED, (c) => (c === OPEN ? '{' : '}'));
}

export interface LocatedProblem {
  /** Offset of the scalar in the file's text. */
  offset: number;
  message: string;
}

/** Restore shielded references in every string scalar (keys and values), interpolating nothing. */
export function unshieldDocument(doc: Document.Parsed): void {
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && node.value.includes('$')) node.value = unshield(node.value);
    },
  });
}

/**
 * A fresh copy of a file's plain value (references restored) with every string value interpolated
 * (never keys); `failed` when a reference was a problem, which only the document can place
 * (`referenceProblems`).
 */
export function interpolateValue(root: unknown, lookup: Lookup): { value: unknown; failed: boolean } {
  let failed = false;
  const copy = (value: unknown): unknown => {
    if (typeof value === 'string') {
      if (!value.includes('$')) return value;
      const out = interpolate(value, lookup.env, lookup.withhold);
      if (out.problems.length > 0) failed = true;
      return out.value;
    }
    if (Array.isArray(value)) return value.map(copy);
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      // A `__proto__` key is data, as yaml reads it.
      for (const [k, v] of Object.entries(value)) setJsonKey(out, k, copy(v));
      return out;
    }
    return value;
  };
  const value = copy(root);
  return { value, failed };
}

/**
 * Where `interpolateValue` found problems: each string value's (never a key's) reference problems,
 * at its scalar's offset. Reads the document, changes nothing.
 */
export function referenceProblems(doc: Document.Parsed, lookup: Lookup): LocatedProblem[] {
  const located: LocatedProblem[] = [];
  visit(doc, {
    Scalar(key, node) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('$')) return;
      const { problems } = interpolate(unshield(node.value), lookup.env, lookup.withhold);
      for (const message of problems) located.push({ offset: node.range?.[0] ?? 0, message });
    },
  });
  return located;
}
