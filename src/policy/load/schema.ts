// Each policy file against schemas/policy.schema.json (JSON Schema 2020-12, ajv, all errors), file by
// file so every error points into the file it came from. ajv's errors become policy-author
// language in schema-messages.ts; this module decides which of them to show.
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { describeError, type SchemaDefs } from './schema-messages.js';
import type { Path } from './source.js';

export const POLICY_SCHEMA_URL = new URL('../../../schemas/policy.schema.json', import.meta.url);

export interface SchemaIssue {
  path: Path;
  /** Point at the key at `path` rather than its value (unknown keys, bad names). */
  key: boolean;
  message: string;
}

interface Compiled {
  validate: ValidateFunction;
  /** One condition leaf alone, so leaves can be checked inside a rule that has other errors. */
  validateLeaf: ValidateFunction;
  defs: SchemaDefs;
}

let compiled: Compiled | null = null;

function compile(): Compiled {
  if (compiled !== null) return compiled;
  const schema = JSON.parse(readFileSync(POLICY_SCHEMA_URL, 'utf8')) as {
    $id: string;
    $defs: Record<string, unknown>;
  };
  // strictRequired stays off: `if: {required: [...]}` discriminators name keys defined in `then`.
  // allowUnionTypes: a range list item is text or a whole number (`$defs/rangeList`).
  const ajv = new Ajv2020({
    allErrors: true,
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
    verbose: true,
  });
  const defs = new Map<unknown, string>(Object.entries(schema.$defs).map(([name, def]) => [def, name]));
  const validate = ajv.compile(schema);
  const validateLeaf = ajv.getSchema(`${schema.$id}#/$defs/leafCondition`);
  if (validateLeaf === undefined) throw new Error('policy schema has no $defs/leafCondition');
  compiled = { validate, validateLeaf, defs };
  return compiled;
}

export function isValidLeaf(value: unknown): boolean {
  return compile().validateLeaf(value) === true;
}

export function validateFile(value: unknown): SchemaIssue[] {
  const { validate, defs } = compile();
  if (validate(value)) return [];
  const issues: SchemaIssue[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    if (isNoise(error)) continue;
    const issue = describeError(error, decodePointer(error.instancePath, value), defs);
    const id = `${JSON.stringify(issue.path)} ${issue.message}`;
    if (!seen.has(id)) issues.push(issue);
    seen.add(id);
  }
  return issues;
}

/**
 * `if` reports "must match then schema" beside the real errors of the branch it picked, and
 * `propertyNames` repeats the error its name schema already gave (with `propertyName` set).
 */
function isNoise(error: ErrorObject): boolean {
  return error.keyword === 'if' || error.keyword === 'propertyNames';
}

/** JSON pointer → path; segments index arrays as numbers, as the data says. */
function decodePointer(pointer: string, root: unknown): (string | number)[] {
  const path: (string | number)[] = [];
  let node = root;
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const index = Array.isArray(node) ? Number(segment) : NaN;
    path.push(Number.isInteger(index) ? index : segment);
    node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[segment] : undefined;
  }
  return path;
}
