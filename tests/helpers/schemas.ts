// Validates what incident-router sends against the outbound schemas in `schemas/`, plus what JSON Schema
// cannot say (OpsGenie details: 8000 characters in total, docs.opsgenie.com/docs/alert-api). Lengths are
// counted in UTF-16 code units (ajv `unicode: false`): the providers do not say which unit, and this is
// the stricter reading for JavaScript strings.
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

export type OutboundKind =
  'pagerduty-event' | 'opsgenie-create-alert' | 'opsgenie-action' | 'opsgenie-note' | 'webhook-incident';

/** OpsGenie create alert: details "8000 characters in total", counted as the sum of key and value lengths. */
export const OPSGENIE_DETAILS_TOTAL_CHARS = 8000;

const ajv = new Ajv2020({ allErrors: true, strict: true });
(addFormatsModule as unknown as { default: (a: Ajv2020, formats: string[]) => void }).default(ajv, [
  'date-time',
  'uri',
]);

const validators = new Map<OutboundKind, ValidateFunction>();

function validator(kind: OutboundKind): ValidateFunction {
  let validate = validators.get(kind);
  if (validate === undefined) {
    const url = new URL(`../../schemas/${kind}.schema.json`, import.meta.url);
    validate = ajv.compile(JSON.parse(readFileSync(url, 'utf8')) as object);
    validators.set(kind, validate);
  }
  return validate;
}

function describe(errors: readonly ErrorObject[] | null | undefined): string[] {
  return (errors ?? [])
    .filter((e) => e.keyword !== 'if')
    .map((e) => {
      const at = e.instancePath === '' ? '(root)' : e.instancePath;
      const extra =
        e.keyword === 'additionalProperties' ? ` "${String(e.params['additionalProperty'])}"` : '';
      return `${at} ${e.message ?? 'is invalid'}${extra}`;
    });
}

function detailsTotal(body: unknown): string[] {
  if (typeof body !== 'object' || body === null) return [];
  const details = (body as { details?: unknown }).details;
  if (typeof details !== 'object' || details === null) return [];
  const total = Object.entries(details).reduce(
    (sum, [k, v]) => sum + k.length + (typeof v === 'string' ? v.length : 0),
    0,
  );
  return total > OPSGENIE_DETAILS_TOTAL_CHARS
    ? [
        `/details must be at most ${OPSGENIE_DETAILS_TOTAL_CHARS} characters in total (keys + values), got ${total}`,
      ]
    : [];
}

/** The reasons `body` is not a valid outbound `kind` request; empty when it is valid. */
export function validateOutbound(kind: OutboundKind, body: unknown): string[] {
  const validate = validator(kind);
  const errors = validate(body) ? [] : describe(validate.errors);
  return kind === 'opsgenie-create-alert' ? [...errors, ...detailsTotal(body)] : errors;
}
