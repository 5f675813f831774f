// One condition leaf `{fact, operator, value, path?}` after the schema has checked its shape. A
// wrong value here never raises an error at run time: the rule just silently never matches, so
// the loader refuses it instead (unknown team, severity typo, bad regex, unknown time window).
import { LOG_LEVELS } from '../../domain/log-event.js';
import { SEVERITIES, isSeverity } from '../../domain/severity.js';
import { compilePattern } from '../patterns.js';
import { CRITICALITIES, FACTS, UNKNOWN_CRITICALITY, UNOWNED_TEAM, type LeafCondition } from '../types.js';
import { isKnown, type CheckContext } from './context.js';
import { isPlainObject } from './merge.js';
import type { Where } from './report.js';
import { didYouMean } from './suggest.js';

const LIST_DECORATORS = new Set(['someValue', 'everyValue']);
const NUMERIC = new Set(['lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive']);
const EQUALITY = new Set(['equal', 'notEqual']);
const MEMBERSHIP = new Set(['in', 'notIn']);

interface Leaf {
  ctx: CheckContext;
  leaf: LeafCondition;
  at: (...more: (string | number)[]) => Where;
  /** Whose condition this is: `classify rule "db"`. */
  label: string;
}

export function checkLeaf(ctx: CheckContext, leaf: LeafCondition, where: Where, label: string): void {
  const decorators = leaf.operator.split(':');
  const base = decorators.pop() as string;
  const at = (...more: (string | number)[]): Where => ({ file: where.file, path: [...where.path, ...more] });
  const l: Leaf = { ctx, leaf, at, label };
  if (leaf.path !== undefined && leaf.fact !== 'attributes') {
    ctx.report.error(at('path'), `${label}: "path" only applies to fact attributes, not ${leaf.fact}`);
  }
  if (base === 'within' && leaf.fact !== 'now') {
    ctx.report.error(
      at('fact'),
      `${label}: within tests the fact now (the evaluation instant), not ${leaf.fact}`,
    );
  }
  if ((base === 'contains' || base === 'doesNotContain') && leaf.fact !== 'attributes') {
    // json-rules-engine's contains only accepts array facts; on a string it is always false.
    ctx.report.error(
      at('operator'),
      `${label}: ${base} tests list membership and never matches the text fact ${leaf.fact}; use matches`,
    );
  }
  if (isFactReference(leaf.value)) return checkFactReference(l);
  // swap: the value is compared as the fact; nothing below would be meaningful.
  if (decorators.includes('swap')) return;
  if (!decorators.some((d) => LIST_DECORATORS.has(d))) return checkValue(l, base, leaf.value, ['value']);
  if (!Array.isArray(leaf.value))
    return void ctx.report.error(at('value'), `${label}: ${leaf.operator} needs a list of values`);
  leaf.value.forEach((v, i) => checkValue(l, base, v, ['value', i]));
}

function checkValue(l: Leaf, base: string, value: unknown, path: (string | number)[]): void {
  const error = (message: string, more: (string | number)[] = []): void =>
    l.ctx.report.error(l.at(...path, ...more), `${l.label}: ${message}`);
  if (base === 'matches') return checkPattern(l, value, path);
  if (base === 'within') return checkWindow(l, value, path);
  if (base === 'severityAtLeast' && !isSeverity(value))
    return error(`severityAtLeast needs a severity (${SEVERITIES.join(', ')})`);
  if (NUMERIC.has(base) && typeof value !== 'number') return error(`${base} needs a number`);
  if (EQUALITY.has(base)) return checkKnown(l, value, path);
  if (MEMBERSHIP.has(base)) {
    if (!Array.isArray(value)) return error(`${base} needs a list`);
    value.forEach((v, i) => checkKnown(l, v, [...path, i]));
  }
}

function checkPattern(l: Leaf, value: unknown, path: (string | number)[]): void {
  const where = l.at(...path);
  if (typeof value !== 'string')
    return l.ctx.report.error(where, `${l.label}: matches needs a regular expression (text)`);
  const compiled = compilePattern(value, l.ctx.verdicts.get(value));
  if (!compiled.ok) l.ctx.report.error(where, `${l.label}: ${compiled.message}`);
  else if (compiled.note !== null) l.ctx.report.note(where, compiled.note);
}

function checkWindow(l: Leaf, value: unknown, path: (string | number)[]): void {
  const windows = l.ctx.merged.maps.time_windows;
  if (typeof value !== 'string')
    return l.ctx.report.error(l.at(...path), `${l.label}: within needs the name of a time window`);
  l.ctx.used.windows.add(value);
  if (!isKnown(l.ctx, windows, value)) {
    l.ctx.report.error(
      l.at(...path),
      `${l.label}: unknown time window "${value}"${didYouMean(value, windows.keys())}`,
    );
  }
}

/** Values of the facts whose domain the policy knows; anything else would silently never match. */
function knownValues(l: Leaf): readonly string[] | null {
  if (l.leaf.path !== undefined) return null;
  switch (l.leaf.fact) {
    case 'team':
      return l.ctx.complete ? [...l.ctx.merged.maps.teams.keys(), UNOWNED_TEAM] : null;
    case 'severity':
      return SEVERITIES;
    case 'level':
      return LOG_LEVELS;
    case 'criticality':
      return [...CRITICALITIES, UNKNOWN_CRITICALITY];
    default:
      return null;
  }
}

function checkKnown(l: Leaf, value: unknown, path: (string | number)[]): void {
  const known = knownValues(l);
  if (known === null || (typeof value === 'string' && known.includes(value))) return;
  const hint = typeof value === 'string' ? didYouMean(value, known) : '';
  const what =
    l.leaf.fact === 'team'
      ? `no team ${JSON.stringify(value)} is defined`
      : `${JSON.stringify(value)} is not a ${l.leaf.fact}`;
  const list = l.leaf.fact === 'team' ? '' : ` (${known.join(', ')})`;
  l.ctx.report.error(
    l.at(...path),
    `${l.label}: ${what}${hint}${hint === '' ? list : ''}; this test could never match`,
  );
}

/** json-rules-engine compares against another fact when the value is `{fact: name, path?}`. */
function isFactReference(value: unknown): value is { fact: unknown } {
  return isPlainObject(value) && Object.hasOwn(value, 'fact');
}

function checkFactReference(l: Leaf): void {
  const fact = (l.leaf.value as { fact: unknown }).fact;
  if (typeof fact === 'string' && (FACTS as readonly string[]).includes(fact)) return;
  const hint = typeof fact === 'string' ? didYouMean(fact, FACTS) : '';
  l.ctx.report.error(
    l.at('value', 'fact'),
    `${l.label}: unknown fact ${JSON.stringify(fact)}${hint} in the value`,
  );
}
