// Silence requests (docs/http-api.md, "Silences"), validated once at the boundary: every refusal is
// a 400 whose message and `details.field` name the field (`matchers[1].value`, `ends_at`, …).
import { parseDuration } from '../domain/duration.js';
import { AppError } from '../errors.js';
import { isDateTime } from '../ingest/date-time.js';
import { MAX_PATTERN_CHARS } from '../policy/patterns.js';
import type { ReDoSVerdict, Verdicts } from '../policy/redos.js';
import { ALWAYS_PRESENT, SILENCE_FACTS, type Matcher, type SilenceFact } from './model.js';

const MAX_MATCHERS = 32;
const MAX_TEXT = 1_024;
const MAX_COMMENT = 4_096;
const PATH = /^(\$\.)?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** A matcher before its regex is checked. */
export type MatcherDraft = Omit<Matcher, 'verdict'> & { op: 'equal' | 'matches' };

export interface CreateRequest {
  matchers: MatcherDraft[];
  startsMs: number | null;
  endsMs: number | null;
  durationMs: number | null;
  created_by: string;
  comment: string;
  force: boolean;
}

export interface ChangeRequest {
  startsMs: number | null;
  endsMs: number | null;
  durationMs: number | null;
  by: string;
  comment: string;
}

export function invalid(field: string, message: string): AppError {
  return new AppError('validation_failed', `${field}: ${message}`, { details: { field } });
}

function objectOf(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw invalid('body', 'send a JSON object');
  return body as Record<string, unknown>;
}

function refuseUnknown(body: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(body).find((k) => !allowed.includes(k));
  if (unknown !== undefined) throw invalid(unknown, `unknown field (allowed: ${allowed.join(', ')})`);
}

function text(body: Record<string, unknown>, field: string, max: number, required: boolean): string | null {
  const v = body[field];
  if (v === undefined && !required) return null;
  if (typeof v !== 'string' || v.trim() === '') throw invalid(field, 'must be a non-empty string');
  if (v.length > max) throw invalid(field, `must be at most ${max} characters`);
  return v;
}

/** RFC 3339 with a real calendar date (2026-02-30 is refused, not rolled over into March). */
export function instant(value: unknown, field: string): number | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || !isDateTime(value))
    throw invalid(field, 'must be an RFC 3339 time such as 2026-11-24T02:00:00Z');
  return Date.parse(value);
}

function duration(value: unknown, field: string): number | null {
  if (value === undefined) return null;
  const ms = typeof value === 'string' ? parseDuration(value) : null;
  if (ms === null || ms <= 0) throw invalid(field, 'must be a positive duration such as 90m or 2h');
  return ms;
}

function matcherOf(raw: unknown, i: number): MatcherDraft {
  const at = `matchers[${i}]`;
  const m = objectOf(raw === undefined ? null : raw);
  refuseUnknown(m, ['fact', 'op', 'value', 'path']);
  const fact = m['fact'];
  if (typeof fact !== 'string' || !(SILENCE_FACTS as readonly string[]).includes(fact))
    throw invalid(`${at}.fact`, `unknown fact ${JSON.stringify(fact)} (known: ${SILENCE_FACTS.join(', ')})`);
  const op = m['op'] ?? 'equal';
  if (op !== 'equal' && op !== 'matches') throw invalid(`${at}.op`, 'must be "equal" or "matches"');
  const value = m['value'];
  if (typeof value !== 'string') throw invalid(`${at}.value`, 'must be a string');
  const max = op === 'matches' ? MAX_PATTERN_CHARS : MAX_TEXT;
  if (value.length > max) throw invalid(`${at}.value`, `must be at most ${max} characters`);
  const path = m['path'];
  if (fact === 'attributes') {
    if (typeof path !== 'string' || !PATH.test(path))
      throw invalid(`${at}.path`, 'attributes need a dotted path such as "$.region" or "http.status"');
    return { fact, op, value, path };
  }
  if (path !== undefined) throw invalid(`${at}.path`, 'only the attributes fact takes a path');
  return { fact: fact as SilenceFact, op, value };
}

export function parseCreate(body: unknown): CreateRequest {
  const b = objectOf(body);
  refuseUnknown(b, ['matchers', 'starts_at', 'ends_at', 'duration', 'created_by', 'comment', 'force']);
  if (!Array.isArray(b['matchers'])) throw invalid('matchers', 'must be an array of {fact, op, value}');
  if (b['matchers'].length > MAX_MATCHERS) throw invalid('matchers', `at most ${MAX_MATCHERS} matchers`);
  const matchers = (b['matchers'] as unknown[]).map(matcherOf);
  if (b['force'] !== undefined && typeof b['force'] !== 'boolean')
    throw invalid('force', 'must be a boolean');
  return {
    matchers,
    ...span(b),
    created_by: text(b, 'created_by', MAX_TEXT, true) as string,
    comment: text(b, 'comment', MAX_COMMENT, true) as string,
    force: b['force'] === true,
  };
}

export function parseChange(body: unknown): ChangeRequest {
  const b = objectOf(body);
  refuseUnknown(b, ['starts_at', 'ends_at', 'duration', 'updated_by', 'comment']);
  const s = span(b);
  if (s.endsMs === null && s.durationMs === null && s.startsMs === null)
    throw invalid('ends_at', 'send ends_at or duration (or starts_at) to change');
  return {
    ...s,
    by: text(b, 'updated_by', MAX_TEXT, true) as string,
    comment: text(b, 'comment', MAX_COMMENT, true) as string,
  };
}

/** Who expires a silence and why (a DELETE's query, or its optional body). */
export function parseExpire(query: Record<string, unknown>): { by: string; comment: string } {
  const pick = (k: string, fallback: string): string => {
    const v = query[k];
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_TEXT)
      throw invalid(k, `must be a non-empty string of at most ${MAX_TEXT} characters`);
    return v;
  };
  return { by: pick('by', 'api'), comment: pick('comment', 'expired by request') };
}

function span(b: Record<string, unknown>): Pick<CreateRequest, 'startsMs' | 'endsMs' | 'durationMs'> {
  const startsMs = instant(b['starts_at'], 'starts_at');
  const endsMs = instant(b['ends_at'], 'ends_at');
  const durationMs = duration(b['duration'], 'duration');
  if (endsMs !== null && durationMs !== null) throw invalid('duration', 'send ends_at or duration, not both');
  if (startsMs !== null && endsMs !== null && endsMs <= startsMs)
    throw invalid('ends_at', 'must be after starts_at');
  return { startsMs, endsMs, durationMs };
}

/** Whether a matcher narrows what a silence matches (one that does not would match every event). */
export function narrows(m: MatcherDraft, compiled: { test(text: string): boolean } | null): boolean {
  if (m.op === 'equal') return true;
  if (!ALWAYS_PRESENT.has(m.fact)) return true; // absent on some events: those never match
  // `matches` searches: a pattern that finds the empty text finds something in every text.
  return compiled === null || !compiled.test('');
}

/** The matchers with their verdicts; a pattern that is invalid or catastrophic is refused, named. */
export function withVerdicts(
  drafts: readonly MatcherDraft[],
  verdicts: Verdicts,
  compile: (
    source: string,
    verdict: ReDoSVerdict | undefined,
  ) => { ok: true; matcher: { test(text: string): boolean } } | { ok: false; message: string },
): { matchers: Matcher[]; narrowing: boolean } {
  let narrowing = false;
  const matchers = drafts.map((m, i): Matcher => {
    if (m.op === 'equal') {
      narrowing ||= narrows(m, null);
      return { ...m, op: 'equal' };
    }
    const verdict = verdicts.get(m.value) ?? { status: 'unknown', error: 'not checked' };
    const checked = compile(m.value, verdict);
    if (!checked.ok) throw invalid(`matchers[${i}].value`, checked.message);
    narrowing ||= narrows(m, checked.matcher);
    return { ...m, op: 'matches', verdict };
  });
  return { matchers, narrowing };
}
