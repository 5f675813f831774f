// The OpsGenie Alert API's semantic checks (its 422s), hand-written from the limits table of
// docs.opsgenie.com/docs/alert-api — NOT from our JSON Schemas, so the sidecar meets an independent
// encoding of the contract. The real service answers 422 with `errors: {field: message}`; the messages
// here are ours except where quoted. The docs hint that over-long tags may be shortened rather than
// refused [obs]; the simulator refuses, which is the useful choice for catching a sidecar bug.
import { isPlainObject } from './json.js';

/** docs.opsgenie.com/docs/alert-api, "Create Alert" field table. */
export const OPSGENIE_LIMITS = {
  message: 130,
  alias: 512,
  description: 15_000,
  entity: 512,
  source: 100,
  user: 100,
  note: 25_000,
  responders: 50,
  visibleTo: 50,
  actions: 10,
  actionChars: 50,
  tags: 20,
  tagChars: 50,
  /** "8000 characters in total": counted as the sum of key and value lengths (the docs do not say). */
  detailsTotalChars: 8_000,
} as const;

export const OPSGENIE_PRIORITIES = ['P1', 'P2', 'P3', 'P4', 'P5'] as const;
export type OpsGeniePriority = (typeof OPSGENIE_PRIORITIES)[number];

export interface Responder {
  type: string;
  id?: string;
  name?: string;
  username?: string;
}

export interface CreateAlertInput {
  message: string;
  alias?: string;
  description?: string;
  responders: Responder[];
  tags: string[];
  details: Record<string, string>;
  entity?: string;
  source?: string;
  /** Default P3 (alert-api docs). */
  priority: OpsGeniePriority;
  user?: string;
  note?: string;
}

export interface ActionInput {
  user?: string;
  source?: string;
  note?: string;
  /** Add responder: whom. */
  responder?: Responder;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; errors: Record<string, string> };

type Errors = Record<string, string>;

const CAPITALISED: Record<string, string> = {
  user: 'User',
  source: 'Source',
  note: 'Note',
  message: 'Message',
};

function label(field: string): string {
  return CAPITALISED[field] ?? field.charAt(0).toUpperCase() + field.slice(1);
}

/** An optional string field within its limit (UTF-16 code units: the stricter reading). */
function checkText(body: Record<string, unknown>, field: keyof typeof OPSGENIE_LIMITS, errors: Errors): void {
  const value = body[field];
  if (value === undefined || value === null) return;
  if (typeof value !== 'string') errors[field] = `${label(field)} must be a string`;
  else if (value.length > OPSGENIE_LIMITS[field]) {
    errors[field] = `${label(field)} can not be longer than ${OPSGENIE_LIMITS[field]} characters`;
  }
}

function checkStringList(
  value: unknown,
  field: 'tags' | 'actions',
  max: number,
  maxChars: number,
  errors: Errors,
): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    errors[field] = `${label(field)} must be a list of strings`;
  else if (value.length > max) errors[field] = `${label(field)} can not contain more than ${max} items`;
  else if (value.some((v: string) => v.length > maxChars))
    errors[field] = `${label(field)} items can not be longer than ${maxChars} characters`;
}

function checkDetails(value: unknown, errors: Errors): void {
  if (value === undefined) return;
  if (!isPlainObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    errors['details'] = 'Details must be an object of string values';
    return;
  }
  const total = Object.entries(value).reduce((sum, [k, v]) => sum + k.length + (v as string).length, 0);
  if (total > OPSGENIE_LIMITS.detailsTotalChars)
    errors['details'] = 'Details can not be longer than 8000 characters in total';
}

/** docs: responders `{id|name, type}` for team/escalation/schedule, `{id|username, type: "user"}`;
 *  visibleTo only team and user. Message modelled on the observed "id or username should be provided". */
function checkRecipients(
  value: unknown,
  field: 'responders' | 'visibleTo',
  types: readonly string[],
  errors: Errors,
): void {
  if (value === undefined) return;
  const max = OPSGENIE_LIMITS[field];
  if (!Array.isArray(value)) return void (errors[field] = `${label(field)} must be a list`);
  if (value.length > max)
    return void (errors[field] = `${label(field)} can not contain more than ${max} items`);
  for (const item of value) {
    const problem = recipientProblem(item, types);
    if (problem !== null) return void (errors[field] = problem);
  }
}

function recipientProblem(item: unknown, types: readonly string[]): string | null {
  if (!isPlainObject(item) || typeof item['type'] !== 'string' || !types.includes(item['type'])) {
    return `Recipient type should be one of [${types.join(', ')}]`;
  }
  const keys = item['type'] === 'user' ? ['id', 'username'] : ['id', 'name'];
  const filled = keys.some((k) => typeof item[k] === 'string' && item[k] !== '');
  return filled ? null : `${keys.join(' or ')} should be provided`;
}

export function checkCreate(body: Record<string, unknown>): Checked<CreateAlertInput> {
  const errors: Errors = {};
  const message = body['message'];
  if (typeof message !== 'string' || message.trim() === '') errors['message'] = 'Message can not be empty';
  else checkText(body, 'message', errors);
  for (const field of ['alias', 'description', 'entity', 'source', 'user', 'note'] as const)
    checkText(body, field, errors);
  checkRecipients(body['responders'], 'responders', ['team', 'user', 'escalation', 'schedule'], errors);
  checkRecipients(body['visibleTo'], 'visibleTo', ['team', 'user'], errors);
  checkStringList(body['actions'], 'actions', OPSGENIE_LIMITS.actions, OPSGENIE_LIMITS.actionChars, errors);
  checkStringList(body['tags'], 'tags', OPSGENIE_LIMITS.tags, OPSGENIE_LIMITS.tagChars, errors);
  checkDetails(body['details'], errors);
  const priority = body['priority'];
  if (priority !== undefined && !(OPSGENIE_PRIORITIES as readonly unknown[]).includes(priority)) {
    errors['priority'] = 'Priority should be one of [P1, P2, P3, P4, P5]';
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, value: toCreateInput(body) };
}

function toCreateInput(body: Record<string, unknown>): CreateAlertInput {
  const optional = (k: string): Record<string, string> =>
    typeof body[k] === 'string' ? { [k]: body[k] } : {};
  return {
    message: body['message'] as string,
    ...optional('alias'),
    ...optional('description'),
    ...optional('entity'),
    ...optional('source'),
    ...optional('user'),
    ...optional('note'),
    responders: (body['responders'] as Responder[] | undefined) ?? [],
    tags: (body['tags'] as string[] | undefined) ?? [],
    details: (body['details'] as Record<string, string> | undefined) ?? {},
    priority: (body['priority'] as OpsGeniePriority | undefined) ?? 'P3',
  };
}

/**
 * acknowledge / unacknowledge / close / notes / responders bodies: optional user, source, note (same
 * limits as create); add responder requires `responder`, one recipient of any type.
 */
export function checkAction(
  body: Record<string, unknown>,
  noteRequired: boolean,
  responderRequired = false,
): Checked<ActionInput> {
  const errors: Errors = {};
  for (const field of ['user', 'source', 'note'] as const) checkText(body, field, errors);
  const note = body['note'];
  if (noteRequired && (typeof note !== 'string' || note.trim() === ''))
    errors['note'] = 'Note can not be empty';
  if (responderRequired) {
    const problem =
      body['responder'] === undefined
        ? 'Responder can not be empty'
        : recipientProblem(body['responder'], ['team', 'user', 'escalation', 'schedule']);
    if (problem !== null) errors['responder'] = problem;
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const value: ActionInput = {};
  for (const field of ['user', 'source', 'note'] as const) {
    const text = body[field];
    if (typeof text === 'string') value[field] = text;
  }
  if (responderRequired) value.responder = body['responder'] as Responder;
  return { ok: true, value };
}
