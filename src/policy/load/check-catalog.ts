// Providers, teams and services after the merge: keys and URLs that providers would refuse,
// team overrides that fit the provider they override, services owned by defined teams.
import { UNOWNED_TEAM, type ProviderType } from '../types.js';
import { isKnown, isWithheld, type CheckContext } from './context.js';
import { isPlainObject } from './merge.js';
import type { Where } from './report.js';
import { keyOf } from './check-settings.js';
import { didYouMean } from './suggest.js';

// PagerDuty Events API v2 answers 400 "Length of 'routing_key' is incorrect (should be 32
// characters)" to anything else (developer.pagerduty.com/docs/events-api-v2/trigger-events).
const ROUTING_KEY = /^[A-Za-z0-9]{32}$/;

/** Which override fields apply to which provider type. */
const OVERRIDE_FIELDS: Readonly<Record<ProviderType, readonly string[]>> = {
  pagerduty: ['routing_key'],
  opsgenie: ['api_key', 'responders'],
  webhook: ['url'],
};
/** Keys the schema knows; any other key is already reported as unknown. */
const OVERRIDE_KEYS = new Set(Object.values(OVERRIDE_FIELDS).flat());

export type At = (...more: (string | number)[]) => Where;
type Fields = Record<string, unknown>;

// These checks are defensive (each field is checked when it has the right type) so that they run
// on items with schema errors too: one typo must not hide a bad key next to it.

export function checkProviders(ctx: CheckContext): void {
  for (const [name, item] of ctx.merged.maps.providers) {
    if (!isPlainObject(item.value)) continue;
    const spec = item.value;
    const at: At = (...more) => ({ file: item.file, path: [...item.path, ...more] });
    const label = `provider "${name}"`;
    if (typeof spec['url'] === 'string') checkUrl(ctx, spec['url'], at('url'), label);
    if (spec['type'] === 'pagerduty') checkSecret(ctx, spec, 'routing_key', at, label);
    if (spec['type'] === 'opsgenie') {
      checkSecret(ctx, spec, 'api_key', at, label);
      checkResponders(ctx, spec['responders'], at, label);
    }
  }
}

export function checkTeams(ctx: CheckContext): void {
  const providers = ctx.merged.maps.providers;
  for (const [team, item] of ctx.merged.maps.teams) {
    if (team === UNOWNED_TEAM)
      ctx.report.error(
        keyOf(item),
        `team "${UNOWNED_TEAM}" is reserved for services missing from the catalog`,
      );
    if (!isPlainObject(item.value)) continue;
    for (const [provider, override] of Object.entries(item.value)) {
      const at: At = (...more) => ({ file: item.file, path: [...item.path, provider, ...more] });
      const label = `team "${team}"`;
      const target = providers.get(provider);
      if (target === undefined) {
        if (isKnown(ctx, providers, provider)) continue; // only because some file could not be read
        ctx.report.error(
          { ...at(), key: true },
          `${label}: unknown provider "${provider}"${didYouMean(provider, providers.keys())}`,
        );
        continue;
      }
      const type = isPlainObject(target.value) ? target.value['type'] : undefined;
      if (isPlainObject(override) && isProviderType(type))
        checkOverride(ctx, override, type, at, `${label}, provider "${provider}"`);
    }
  }
}

function checkOverride(ctx: CheckContext, override: Fields, type: ProviderType, at: At, label: string): void {
  const allowed = OVERRIDE_FIELDS[type];
  for (const field of Object.keys(override)) {
    if (allowed.includes(field) || !OVERRIDE_KEYS.has(field)) continue;
    ctx.report.error(
      { ...at(field), key: true },
      `${label}: ${field} does not apply to ${type} providers (they take ${allowed.join(', ')})`,
    );
  }
  // An empty override is no override (the provider's own key applies), so it is never an error.
  if (type === 'pagerduty') checkSecret(ctx, override, 'routing_key', at, label, true);
  if (type === 'opsgenie') {
    checkSecret(ctx, override, 'api_key', at, label, true);
    checkResponders(ctx, override['responders'], at, label);
  }
  if (type === 'webhook' && typeof override['url'] === 'string')
    checkUrl(ctx, override['url'], at('url'), label);
}

export function checkServices(ctx: CheckContext): void {
  const teams = ctx.merged.maps.teams;
  const owned = new Set<string>();
  for (const [service, item] of ctx.merged.maps.services) {
    const team = isPlainObject(item.value) ? item.value['team'] : undefined;
    if (typeof team !== 'string') continue;
    owned.add(team);
    const where: Where = { file: item.file, path: [...item.path, 'team'] };
    if (team === UNOWNED_TEAM) {
      ctx.report.error(
        where,
        `service "${service}": team "${UNOWNED_TEAM}" is reserved for services missing from the catalog`,
      );
    } else if (!isKnown(ctx, teams, team)) {
      const hint = didYouMean(team, teams.keys()) || ` (define it under teams:, even as "${team}: {}")`;
      ctx.report.error(where, `service "${service}": unknown team "${team}"${hint}`);
    }
  }
  if (!ctx.complete) return;
  for (const [team, item] of teams) {
    if (!owned.has(team) && team !== UNOWNED_TEAM)
      ctx.report.warn(keyOf(item), `team "${team}" is not the team of any service`);
  }
}

function isProviderType(type: unknown): type is ProviderType {
  return typeof type === 'string' && Object.hasOwn(OVERRIDE_FIELDS, type);
}

/** routing_key (PagerDuty) or api_key (OpsGenie), when it is a string. */
export function checkSecret(
  ctx: CheckContext,
  fields: Fields,
  key: 'routing_key' | 'api_key',
  at: At,
  label: string,
  emptyMeansUnset = false,
): void {
  const value = fields[key];
  if (typeof value !== 'string' || isWithheld(ctx, value)) return;
  if (value === '') {
    if (!ctx.sandbox && !emptyMeansUnset)
      ctx.report.error(at(key), `${label}: ${key} is empty (allowed only in sandbox mode)`);
  } else if (key === 'routing_key') {
    checkRoutingKey(ctx, value, at(key), label);
  }
}

function checkRoutingKey(ctx: CheckContext, key: string, where: Where, label: string): void {
  if (ROUTING_KEY.test(key)) return;
  // Never echo the key: it is a secret, and problems are logged and shown.
  const why =
    key.length === 32 ? 'has characters other than letters and digits' : `has ${key.length} characters`;
  ctx.report.error(
    where,
    `${label}: routing_key must be a PagerDuty Events API v2 integration key of exactly 32 letters and digits; this one ${why}`,
  );
}

export function checkUrl(ctx: CheckContext, url: string, where: Where, label: string): void {
  if (isWithheld(ctx, url)) return;
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  if (
    parsed !== null &&
    (parsed.protocol === 'http:' || parsed.protocol === 'https:') &&
    parsed.hostname !== ''
  )
    return;
  // The URL itself is not shown: webhook URLs often carry a token in their path.
  ctx.report.error(where, `${label}: url must be an http:// or https:// URL`);
}

// OpsGenie Alert API: a team or escalation or schedule responder is named by id or name, a user
// by id or username (docs.opsgenie.com/docs/alert-api#create-alert).
export function checkResponders(ctx: CheckContext, responders: unknown, at: At, label: string): void {
  if (!Array.isArray(responders)) return;
  responders.forEach((r: unknown, i) => {
    if (!isPlainObject(r) || typeof r['type'] !== 'string') return;
    const user = r['type'] === 'user';
    if (r['id'] !== undefined || r[user ? 'username' : 'name'] !== undefined) return;
    ctx.report.error(
      at('responders', i),
      `${label}: a ${r['type']} responder needs ${user ? 'id or username' : 'id or name'}`,
    );
  });
}
