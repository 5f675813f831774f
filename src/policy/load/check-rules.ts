// Rule lists after the merge and ordering: templates use known placeholders, routes deliver to
// defined providers, a catch-all route exists; rules that can never be reached are warned about.
import { isTemplateField } from '../templates.js';
import { keyOf } from './check-settings.js';
import { isKnown, type CheckContext } from './context.js';
import { isPlainObject, type RuleItem } from './merge.js';
import { didYouMean } from './suggest.js';

const TEMPLATE_KEYS = ['title', 'fingerprint', 'resolve'] as const;
const PLACEHOLDERS =
  '{service} {level} {source} {host} {message} {team} {criticality} {severity} {rule} {trace_id} {attributes.<key>}';
const BRACED = /\{([^{}]*)\}/g;

export function checkClassify(ctx: CheckContext): void {
  for (const item of ctx.merged.rules.classify) {
    if (!isPlainObject(item.value)) continue;
    for (const key of TEMPLATE_KEYS) {
      const template = item.value[key];
      if (typeof template !== 'string') continue;
      for (const [, field] of template.matchAll(BRACED)) {
        if (isTemplateField(field as string)) continue;
        ctx.report.error(
          { file: item.file, path: [...item.path, key] },
          `classify rule "${item.name ?? '?'}": ${key} uses unknown placeholder {${field as string}}; placeholders are ${PLACEHOLDERS}`,
        );
      }
    }
  }
  warnAfterCatchAll(ctx, ctx.merged.rules.classify, 'classify rule');
}

export function checkRoutes(ctx: CheckContext): void {
  const providers = ctx.merged.maps.providers;
  const routes = ctx.merged.rules.routes;
  for (const item of routes) {
    const deliver = isPlainObject(item.value) ? item.value['deliver'] : undefined;
    const listed = isPlainObject(deliver) ? deliver['providers'] : undefined;
    if (!Array.isArray(listed)) continue;
    listed.forEach((provider: unknown, i) => {
      if (typeof provider !== 'string' || isKnown(ctx, providers, provider)) return;
      const where = { file: item.file, path: [...item.path, 'deliver', 'providers', i] };
      ctx.report.error(
        where,
        `route "${item.name ?? '?'}": unknown provider "${provider}"${didYouMean(provider, providers.keys())}`,
      );
    });
  }
  const hasCatchAll = routes.some((r) => isCatchAll(r, false));
  if (!hasCatchAll && ctx.complete) {
    const last = routes.at(-1);
    const message =
      'no catch-all route: add a last route without "when" so every paging alert goes somewhere';
    ctx.report.error(
      last === undefined ? { file: ctx.firstFile, path: [] } : { file: last.file, path: last.path },
      message,
    );
  }
  warnAfterCatchAll(ctx, routes, 'route');
}

/** Named conditions no rule or condition refers to. */
export function warnUnusedConditions(ctx: CheckContext): void {
  if (!ctx.complete) return;
  for (const [name, item] of ctx.merged.maps.conditions) {
    if (!ctx.used.conditions.has(name)) ctx.report.warn(keyOf(item), `condition "${name}" is never used`);
  }
}

/** A rule without `when` matches everything; unless it continues, nothing after it is ever looked at. */
function warnAfterCatchAll(ctx: CheckContext, rules: readonly RuleItem[], noun: string): void {
  const stopper = rules.findIndex((r) => isCatchAll(r, true));
  const catchAll = rules[stopper];
  const unreachable = rules.slice(stopper + 1);
  if (catchAll === undefined || unreachable.length === 0) return;
  // Placed only when there is something to warn about: a file from the parse cache has no
  // document until a position is asked for (docs/architecture.md, "Policy load").
  const where = ctx.report.describe({ file: catchAll.file, path: catchAll.path });
  for (const rule of unreachable) {
    ctx.report.warn(
      { file: rule.file, path: rule.path },
      `${noun} "${rule.name ?? '?'}" is never reached: ${noun} "${catchAll.name ?? '?'}" at ${where} has no "when" and no "continue: true"`,
    );
  }
}

function isCatchAll(rule: RuleItem, stopping: boolean): boolean {
  if (!isPlainObject(rule.value)) return false;
  return rule.value['when'] === undefined && (!stopping || rule.value['continue'] !== true);
}
