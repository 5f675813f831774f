// ajv's errors in the words of someone writing a policy: `classify[2].severity: must be one of info,
// low, medium, high, critical`, `unknown key "severty" (did you mean "severity"?)`. Errors raised by
// a named `$defs` schema (a name, a duration, an operator) get that definition's own message.
import type { ErrorObject } from 'ajv/dist/2020.js';
import { atPath } from './report.js';
import type { SchemaIssue } from './schema.js';
import type { Path } from './source.js';
import { didYouMean } from './suggest.js';

/** `$defs` schema objects → their names, to recognise which definition an error came from. */
export type SchemaDefs = ReadonlyMap<unknown, string>;

const NAME_RULE =
  'lowercase letters, digits, "_", "." and "-", starting with a letter or digit, at most 64 characters';
const BASE_OPERATORS = [
  'equal',
  'notEqual',
  'in',
  'notIn',
  'contains',
  'doesNotContain',
  'lessThan',
  'lessThanInclusive',
  'greaterThan',
  'greaterThanInclusive',
  'matches',
  'within',
  'severityAtLeast',
];
const DECORATORS = 'not:, someFact:, someValue:, everyFact:, everyValue:, swap:';

/** Messages of named definitions, for the keywords whose generic message would be cryptic. */
const DEF_MESSAGES: Readonly<Record<string, (data: unknown) => string>> = {
  name: (data) => `${show(data)} is not a valid name: use ${NAME_RULE}`,
  duration: (data) => `${show(data)} is not a duration: write e.g. 500ms, 30s, 5m, 2h or 1h30m`,
  operator: (data) => {
    const base = typeof data === 'string' ? (data.split(':').pop() ?? data) : '';
    return `unknown operator ${show(data)}${didYouMean(base, BASE_OPERATORS)}: use one of ${BASE_OPERATORS.join(', ')}, optionally after decorators ${DECORATORS}`;
  },
  attributePath: (data) =>
    `${show(data)} is not a path into attributes: write e.g. $.http.status or http.status`,
  apiVersion: (data) => `must be "incident-router/v1", not ${show(data)}`,
  headerName: (data) => `${show(data)} is not a valid HTTP header name`,
  conditionPriority: () =>
    'must be a whole number of at least 1 (json-rules-engine condition priorities start at 1)',
  leafAtTop: () =>
    'a rule\'s top condition must be all, any, not or condition (json-rules-engine): put this test inside "all: [ ... ]"',
  notACondition: () => 'is not a condition: use a map with one of all, any, not, condition or fact',
  severityOrResolve: () => 'a classify rule must set "severity" or "resolve" (or both)',
};

/** Keywords whose failure a definition's own message explains better than the generic one. */
const DEF_KEYWORDS = new Set([
  'pattern',
  'const',
  'false schema',
  'required',
  'minimum',
  'type',
  'maxLength',
]);

export function describeError(error: ErrorObject, path: (string | number)[], defs: SchemaDefs): SchemaIssue {
  const named = error.propertyName;
  if (named !== undefined) {
    // A map key broke its `propertyNames` schema: point at the key.
    return { path: [...path, named], key: true, message: atPath(path, keyMessage(error, named, defs)) };
  }
  if (error.keyword === 'additionalProperties') {
    const key = String((error.params as { additionalProperty: string }).additionalProperty);
    const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
    return {
      path: [...path, key],
      key: true,
      message: atPath(path, `unknown key "${key}"${didYouMean(key, known)}`),
    };
  }
  const def = defName(error, defs);
  const special = def !== undefined && DEF_KEYWORDS.has(error.keyword) ? DEF_MESSAGES[def] : undefined;
  const message = special !== undefined ? special(error.data) : genericMessage(error, path);
  // A missing key is reported at the key of the map that lacks it (`pd2:`), not its first entry.
  return { path, key: error.keyword === 'required', message: atPath(path, message) };
}

function keyMessage(error: ErrorObject, key: string, defs: SchemaDefs): string {
  if (defName(error, defs) === 'serviceName') return `service name ${show(key)} must be 1 to 128 characters`;
  return (DEF_MESSAGES[defName(error, defs) ?? ''] ?? (() => `${show(key)} is not allowed as a key here`))(
    key,
  );
}

function defName(error: ErrorObject, defs: SchemaDefs): string | undefined {
  // `false` schemas are all the same value, so those are told apart by their schema path.
  if (error.keyword === 'false schema') return /\$defs\/([^/]+)\/false schema$/.exec(error.schemaPath)?.[1];
  return defs.get(error.parentSchema);
}

function genericMessage(error: ErrorObject, path: Path): string {
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return requiredMessage(String(p['missingProperty']), path);
    case 'type':
      return path.length === 0
        ? `a policy file must be a map of sections starting with "apiVersion: incident-router/v1", not ${kindOf(error.data)}`
        : typeMessage(String(p['type']), error.data);
    case 'enum': {
      const allowed = (p['allowedValues'] as unknown[]).map(String);
      const hint = typeof error.data === 'string' ? didYouMean(error.data, allowed) : '';
      return `must be one of ${allowed.join(', ')}${hint}`;
    }
    case 'const':
      return `must be ${show(p['allowedValue'])}`;
    case 'minimum':
      return `must be at least ${String(p['limit'])}`;
    case 'exclusiveMinimum':
      return `must be greater than ${String(p['limit'])}`;
    case 'maximum':
      return `must be at most ${String(p['limit'])}`;
    case 'minItems':
      return p['limit'] === 1 ? 'must not be empty' : `must have at least ${String(p['limit'])} items`;
    case 'minLength':
      return p['limit'] === 1 ? 'must not be empty' : `must be at least ${String(p['limit'])} characters`;
    case 'maxLength':
      return `must be at most ${String(p['limit'])} characters`;
    case 'uniqueItems':
      return `lists ${show((error.data as unknown[])[Number(p['j'])])} twice`;
    case 'pattern':
      return `${show(error.data)} must match ${String(p['pattern'])}`;
    default:
      return error.message ?? `fails ${error.keyword}`;
  }
}

function requiredMessage(key: string, path: Path): string {
  if (path.length === 0 && key === 'apiVersion') {
    return 'missing "apiVersion: incident-router/v1" (every policy file starts with it)';
  }
  return `missing required key "${key}"`;
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'a map',
  array: 'a list',
  null: 'empty',
};

function typeMessage(expected: string, data: unknown): string {
  const want = expected
    .split(',')
    .map((t) => TYPE_WORDS[t] ?? t)
    .join(' or ');
  const quote =
    expected === 'string' && (typeof data === 'number' || typeof data === 'boolean')
      ? ' (put it in quotes)'
      : '';
  return `must be ${want}, not ${kindOf(data)}${quote}`;
}

function kindOf(data: unknown): string {
  if (data === null || data === undefined) return 'empty';
  if (Array.isArray(data)) return 'a list';
  if (typeof data === 'object') return 'a map';
  if (typeof data === 'string') return `a string (${show(data)})`;
  return `${typeof data === 'boolean' ? 'true/false' : 'a number'} (${String(data)})`;
}

function show(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (value === null || value === undefined) return 'empty';
  if (typeof value === 'object') return Array.isArray(value) ? 'a list' : 'a map';
  return String(value);
}
