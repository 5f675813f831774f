// /api/v1/policy: what is active, validate a candidate, reload, and dry-run (docs/http-api.md, "Policy").
import { previewEscalation } from '../../escalation/view.js';
import type { ProviderType } from '../../providers/spec.js';
import Router from '@koa/router';
import { ruleLocations } from '../../diff/locations.js';
import type { Context } from 'koa';
import type { Clock } from '../../domain/clock.js';
import { alertToInput, eventToInput, type PipelineInput } from '../../domain/log-event.js';
import { AppError, formatProblem } from '../../errors.js';
import { validateAlert, validateEvent } from '../../ingest/validate.js';
import { preparePolicyAsync, type ActivePolicy } from '../../policy/active.js';
import { CheckRefused, type PatternChecker } from '../../policy/redos.js';
import { decide, NO_INCIDENTS, type IncidentLookup, type SilenceLookup } from '../../policy/decide.js';
import type { Decision, FlapDamping } from '../../domain/decision.js';
import type { IncidentFlap } from '../../domain/incident.js';
import { formatDuration } from '../../domain/duration.js';
import type { PolicySource } from '../../policy/load.js';
import type { PolicyManager } from '../../policy/manager.js';
import { redactPolicyDocument } from '../../policy/redact.js';
import { bodyText, parseJson, readJson, readRawBody } from '../body.js';
import { answer, checkToken, requireToken } from '../middleware.js';

export interface PolicyRoutesDeps {
  policies: PolicyManager;
  clock: Clock;
  apiToken: string | null;
  sandbox: boolean;
  /** What a candidate policy may read (POLICY_CANDIDATE_ENV); any other `${NAME}` becomes `$NAME`. */
  candidateEnv: Readonly<Record<string, string>>;
  checker: PatternChecker;
  incidents?: IncidentLookup;
  /** The silences in force: a dry-run names the one that would suppress the event. */
  silences?: SilenceLookup;
  /** What flap damping would make of a new incident of a fingerprint now (src/incidents/flap.ts). */
  flaps?: (fingerprint: string, damping: FlapDamping, nowMs: number) => IncidentFlap | null;
}

const CANDIDATE_LIMIT = 2 * 1024 * 1024;
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.ya?ml$/;

/** A candidate policy: YAML text, `{yaml: text}` or `{files: {"name.yaml": text}}`. */
export function candidateSources(value: unknown, where: string): PolicySource[] {
  if (typeof value === 'string') return [{ name: 'candidate.yaml', text: value }];
  const yaml = (value as { yaml?: unknown } | null)?.yaml;
  if (typeof yaml === 'string') return [{ name: 'candidate.yaml', text: yaml }];
  const files = (value as { files?: unknown } | null)?.files;
  if (files === null || typeof files !== 'object' || Array.isArray(files)) {
    throw new AppError(
      'validation_failed',
      `${where} must be YAML text, {"yaml": "..."} or {"files": {"name.yaml": "..."}}`,
    );
  }
  const sources = Object.entries(files).map(([name, text]) => {
    if (!FILE_NAME.test(name) || typeof text !== 'string') {
      throw new AppError(
        'validation_failed',
        `${where}.files["${name}"] must be a *.yaml file name mapped to YAML text`,
      );
    }
    return { name, text };
  });
  if (sources.length === 0) throw new AppError('validation_failed', `${where}.files is empty`);
  return sources.sort((a, b) => a.name.localeCompare(b.name));
}

/** The dry-run body's input: `event` (a log event) or `alert` (the brief's shape), exactly one. */
export function dryRunInput(body: Record<string, unknown>, receivedAt: Date): PipelineInput {
  if ('event' in body === 'alert' in body)
    throw new AppError('validation_failed', 'send exactly one of "event" or "alert"');
  if ('event' in body) {
    const v = validateEvent(body['event']);
    if (!v.ok)
      throw new AppError('validation_failed', 'the event is invalid', {
        details: { errors: v.errors.map((e) => `event.${e}`) },
      });
    return eventToInput(v.value);
  }
  const v = validateAlert(body['alert']);
  if (!v.ok)
    throw new AppError('validation_failed', 'the alert is invalid', {
      details: { errors: v.errors.map((e) => `alert.${e}`) },
    });
  return alertToInput(v.value, receivedAt);
}

export function parseInstant(value: unknown, field: string): number {
  if (
    typeof value !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) ||
    Number.isNaN(Date.parse(value)) ||
    !onCalendar(value)
  ) {
    throw new AppError('validation_failed', `${field} must be an RFC 3339 time such as 2026-11-24T02:00:00Z`);
  }
  return Date.parse(value);
}

/** Date.parse rolls 2026-02-30 over to March 2: the day must exist in its month. */
function onCalendar(value: string): boolean {
  const [year, month, day] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day && month >= 1 && month <= 12;
}

function describe(policy: ActivePolicy) {
  const { loaded, loadedAt } = policy;
  return {
    version: loaded.version,
    revision: loaded.revision,
    files: loaded.files,
    loaded_at: loadedAt,
    warnings: loaded.warnings,
    notes: loaded.notes,
  };
}

export function policyRouter(deps: PolicyRoutesDeps): Router {
  const router = new Router({ prefix: '/api/v1/policy' });
  // A candidate never sees the process environment (docs/http-api.md, "Secrets").
  const prepare = (sources: PolicySource[]) =>
    preparePolicyAsync(
      sources,
      { env: deps.candidateEnv, candidate: true, sandbox: deps.sandbox },
      new Date(deps.clock.now()),
      (patterns) => deps.checker.verdicts(patterns, 'candidate'),
    ).catch(refusedCheck);
  const auth = requireToken(deps.apiToken);

  router.get('/', (ctx) => {
    const active = deps.policies.current();
    answer(ctx, {
      ...describe(active),
      last_reload: deps.policies.lastReload(),
      // Where each rule is written, so a decision's trace can point into the files (the dashboard).
      rules: Object.fromEntries(ruleLocations(active.loaded)),
      document: redactPolicyDocument(active.compiled.document),
    });
  });

  router.post('/validate', auth, async (ctx) => {
    const prepared = await prepare(await readCandidate(ctx));
    answer(
      ctx,
      prepared.ok
        ? { valid: true, errors: [], ...describe(prepared.policy) }
        : { valid: false, errors: prepared.problems.map(formatProblem), warnings: prepared.warnings },
    );
  });

  router.post('/reload', auth, async (ctx) => {
    const outcome = await deps.policies.reload('api');
    if (!outcome.ok) {
      throw new AppError(
        'policy_invalid',
        `the policy on disk is invalid (${outcome.errors.length} problem(s)); the active policy ${outcome.version} keeps serving`,
        { details: outcome },
      );
    }
    answer(ctx, outcome);
  });

  router.post('/dry-run', async (ctx) => {
    const body = await readJson(ctx, CANDIDATE_LIMIT);
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new AppError('validation_failed', 'send a JSON object {event | alert, at?, policy?}');
    const request = body as Record<string, unknown>;
    const unknownKeys = Object.keys(request).filter((k) => !['event', 'alert', 'at', 'policy'].includes(k));
    if (unknownKeys.length > 0)
      throw new AppError('validation_failed', `unknown field(s): ${unknownKeys.join(', ')}`);
    const now = request['at'] === undefined ? deps.clock.now() : parseInstant(request['at'], 'at');
    const input = dryRunInput(request, new Date(now));
    let policy = deps.policies.current();
    if (request['policy'] !== undefined) {
      checkToken(ctx, deps.apiToken); // it evaluates submitted YAML
      const prepared = await prepare(candidateSources(request['policy'], 'policy'));
      if (!prepared.ok)
        throw new AppError('policy_invalid', 'the candidate policy is invalid', {
          details: { errors: prepared.problems.map(formatProblem) },
        });
      policy = prepared.policy;
    }
    const decision = await decide(input, policy.compiled, now, deps.incidents ?? NO_INCIDENTS, {
      explain: true,
      ...(deps.silences === undefined ? {} : { silences: deps.silences }),
    });
    const compiled = policy.compiled;
    const typeOf = (p: string): ProviderType | undefined => compiled.providers[p]?.type;
    const escalation = previewEscalation(decision, compiled, typeOf, now);
    const flap = decision.route?.flap;
    answer(ctx, {
      ...decision,
      ...(escalation === null ? {} : { escalation }),
      ...(flap === undefined
        ? {}
        : {
            flap_damping: flapDamping(decision, flap, deps.flaps?.(decision.fingerprint, flap, now) ?? null),
          }),
      candidate: request['policy'] !== undefined,
    });
  });

  return router;
}

export async function readCandidate(ctx: Context): Promise<PolicySource[]> {
  if (ctx.is('application/json'))
    return candidateSources(parseJson(await readRawBody(ctx, CANDIDATE_LIMIT)), 'body');
  if (ctx.is('application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'text/plain')) {
    return candidateSources(bodyText(await readRawBody(ctx, CANDIDATE_LIMIT)), 'body');
  }
  throw new AppError(
    'unsupported_media_type',
    'send the candidate policy as application/yaml text or JSON {"files": {...}}',
  );
}

/** The pattern checker's bounds, as answers: 503 when it is busy, 400 for too many new patterns. */
export function refusedCheck(err: unknown): never {
  if (!(err instanceof CheckRefused)) throw err;
  if (err.reason === 'busy') throw new AppError('busy', err.message);
  throw new AppError('validation_failed', err.message);
}

/**
 * The dry-run's account of a route's flap damping (docs/policy-language.md, "Flap damping"): the
 * rule in words, and what it would do to this event now, from the fingerprint's recent history.
 */
function flapDamping(decision: Decision, flap: FlapDamping, outlook: IncidentFlap | null) {
  const rule = explainFlap(decision.route?.name ?? '', flap);
  if (decision.incident.open)
    return {
      explanation: rule,
      this_event: 'repeat',
      note: 'an incident of this fingerprint is open: counted on it',
    };
  if (outlook === null) return { explanation: rule, this_event: 'pages', recent_retriggers: 0 };
  const held = outlook.release_at !== null;
  return {
    explanation: rule,
    this_event: held ? 'held' : 'pages',
    recent_retriggers: outlook.retriggers.length,
    ...(held ? { held_until: new Date(outlook.release_at as number).toISOString() } : {}),
  };
}

function explainFlap(route: string, flap: FlapDamping): string {
  const repages = `${flap.max_repages} re-page${flap.max_repages === 1 ? '' : 's'}`;
  return (
    `route "${route}" damps flapping: after ${repages} of this fingerprint within ${formatDuration(flap.window_ms)} ` +
    `(a trigger after its incident resolved), a further re-trigger is held open, not paged, for ` +
    `${formatDuration(flap.hold_ms)}; it pages then if its incident is still open, and a resolve meanwhile ` +
    `closes it without a word to the providers`
  );
}
