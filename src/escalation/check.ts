// The `escalations:` section and the routes' `escalation:` after the merge (docs/policy-language.md,
// "Escalations"): tiers start at 0m and strictly increase, name defined providers, people and
// schedules, carry keys and URLs providers would take; routes name defined escalations. Every
// problem is located as `file:line:col`. Defensive like the other checks: each field is looked at
// when it has the right type, so one typo does not hide the next.
import { parseDuration } from '../domain/duration.js';
import { isKnown, type CheckContext } from '../policy/load/context.js';
import { checkResponders, checkSecret, checkUrl, type At } from '../policy/load/check-catalog.js';
import { keyOf } from '../policy/load/check-settings.js';
import { isPlainObject, type NamedItem } from '../policy/load/merge.js';
import { didYouMean } from '../policy/load/suggest.js';

const TARGET_KINDS = ['person', 'schedule', 'pagerduty', 'opsgenie', 'webhook'] as const;

export function checkEscalations(ctx: CheckContext): void {
  for (const [name, item] of ctx.merged.maps.escalations) {
    if (!isPlainObject(item.value)) continue;
    const at: At = (...more) => ({ file: item.file, path: [...item.path, ...more] });
    const tiers = item.value['tiers'];
    if (Array.isArray(tiers)) checkTiers(ctx, `escalation "${name}"`, tiers, at);
  }
  checkRouteEscalations(ctx);
}

function checkTiers(ctx: CheckContext, label: string, tiers: unknown[], at: At): void {
  let previous: { ms: number; tier: number } | null = null;
  tiers.forEach((tier: unknown, i) => {
    if (!isPlainObject(tier)) return;
    const tierAt: At = (...more) => at('tiers', i, ...more);
    const tierLabel = `${label}, tier ${i + 1}`;
    const ms = afterMs(tier['after']);
    if (ms !== null) {
      const problem = afterProblem(ms, i, previous);
      if (problem !== null) ctx.report.error(tierAt('after'), `${tierLabel}: ${problem}`);
      if (previous === null || ms > previous.ms) previous = { ms, tier: i + 1 };
    }
    const deliver = tier['deliver'];
    const providers = isPlainObject(deliver) ? deliver['providers'] : undefined;
    if (Array.isArray(providers))
      providers.forEach((p: unknown, j) => {
        const known = ctx.merged.maps.providers;
        if (typeof p === 'string' && !isKnown(ctx, known, p))
          ctx.report.error(
            tierAt('deliver', 'providers', j),
            `${tierLabel}: unknown provider "${p}"${didYouMean(p, known.keys())}`,
          );
      });
    const targets = tier['targets'];
    if (Array.isArray(targets))
      targets.forEach((t: unknown, j) => {
        if (isPlainObject(t)) checkTarget(ctx, tierLabel, t, (...more) => tierAt('targets', j, ...more));
      });
  });
}

/** `after` in ms, negative when written with a leading `-` (refused below with its reason). */
function afterMs(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const negative = value.startsWith('-');
  const ms = parseDuration(negative ? value.slice(1) : value);
  return ms === null ? null : negative ? -ms : ms;
}

function afterProblem(
  ms: number,
  index: number,
  previous: { ms: number; tier: number } | null,
): string | null {
  if (index === 0)
    return ms === 0 ? null : 'the first tier must have "after: 0m" (it fires when the incident opens)';
  if (ms <= 0) return `"after" must be longer than zero (only the first tier fires at 0m)`;
  if (previous !== null && ms <= previous.ms)
    return `"after" must be later than tier ${previous.tier}'s (times count from the trigger and strictly increase)`;
  return null;
}

function checkTarget(ctx: CheckContext, label: string, target: Record<string, unknown>, at: At): void {
  const kinds = TARGET_KINDS.filter((k) => Object.hasOwn(target, k));
  if (kinds.length !== 1)
    ctx.report.error(
      at(),
      `${label}: a target names exactly one of ${TARGET_KINDS.join(', ')}${kinds.length > 1 ? `, not ${kinds.join(' and ')}` : ''}`,
    );
  const person = target['person'];
  if (typeof person === 'string')
    checkName(ctx, label, 'person', person, ctx.merged.maps.people, at('person'));
  const schedule = target['schedule'];
  if (typeof schedule === 'string')
    checkName(ctx, label, 'schedule', schedule, ctx.merged.maps.schedules, at('schedule'));
  const pagerduty = target['pagerduty'];
  if (isPlainObject(pagerduty))
    checkSecret(ctx, pagerduty, 'routing_key', (...m) => at('pagerduty', ...m), label);
  const opsgenie = target['opsgenie'];
  if (isPlainObject(opsgenie))
    checkResponders(ctx, opsgenie['responders'], (...m) => at('opsgenie', ...m), label);
  const webhook = target['webhook'];
  if (isPlainObject(webhook) && typeof webhook['url'] === 'string')
    checkUrl(ctx, webhook['url'], at('webhook', 'url'), label);
}

function checkName(
  ctx: CheckContext,
  label: string,
  noun: string,
  name: string,
  defined: ReadonlyMap<string, NamedItem>,
  where: ReturnType<At>,
): void {
  if (isKnown(ctx, defined, name)) return;
  ctx.report.error(where, `${label}: unknown ${noun} "${name}"${didYouMean(name, defined.keys())}`);
}

/** Routes name defined escalations; an escalation no route names is a warning. */
function checkRouteEscalations(ctx: CheckContext): void {
  const defined = ctx.merged.maps.escalations;
  const used = new Set<string>();
  for (const route of ctx.merged.rules.routes) {
    const name = isPlainObject(route.value) ? route.value['escalation'] : undefined;
    if (typeof name !== 'string') continue;
    used.add(name);
    if (isKnown(ctx, defined, name)) continue;
    ctx.report.error(
      { file: route.file, path: [...route.path, 'escalation'] },
      `route "${route.name ?? '?'}": unknown escalation "${name}"${didYouMean(name, defined.keys())}`,
    );
  }
  if (!ctx.complete) return;
  for (const [name, item] of defined)
    if (!used.has(name)) ctx.report.warn(keyOf(item), `escalation "${name}" is never used by a route`);
}
