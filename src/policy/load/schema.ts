// Each policy file against schemas/policy.schema.json (JSON Schema 2020-12, ajv, all errors), file by
// file so every error points into the file it came from. ajv's errors become policy-author
// language in schema-messages.ts; this module decides which of them to show.
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
// The schema compiled ahead of time into plain code (scripts/compile-schemas.mjs; committed, and a test
// fails when it differs from the schema): a start neither loads ajv's compiler nor compiles. All
// errors, each with its data and schema (`verbose`).
import * as compiled from './policy-schema.generated.js';
import { describeError, type SchemaDefs } from './schema-messages.js';
import type { Path } from './source.js';

export interface SchemaIssue {
  path: Path;
  /** Point at the key at `path` rather than its value (unknown keys, bad names). */
  key: boolean;
  message: string;
}

const validate = compiled.validatePolicyFile as unknown as ValidateFunction;
/** One condition leaf alone, so leaves can be checked inside a rule that has other errors. */
const validateLeaf = compiled.validateLeafCondition as unknown as ValidateFunction;
const defs = compiled.schemaDefNames as SchemaDefs;

export function isValidLeaf(value: unknown): boolean {
  return validateLeaf(value) === true;
}

export function validateFile(value: unknown): SchemaIssue[] {
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
