// What a reviewer compares between two decisions of one event (docs/policy-diff.md, "What counts as
// a change"): whether it pages, its severity, route, providers, suppression and fingerprint, and the
// rule on each side that made it so.
import type { Decision, RouteChoice } from '../domain/decision.js';
import type { LogEvent } from '../domain/log-event.js';

export const CHANGE_KINDS = [
  'fingerprint',
  'paged',
  'severity',
  'suppression',
  'route',
  'providers',
] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** One side of a change: the value compared, and the rule behind it (null: a built-in default). */
export interface SideOf {
  value: string;
  rule: string | null;
  /** What changes are grouped by: the value, or for a fingerprint its shape (`{service}:disk:{host}`). */
  group: string;
}

export interface Change {
  kind: ChangeKind;
  old: SideOf;
  new: SideOf;
}

const providersOf = (d: Decision): string =>
  d.paged ? [...new Set(d.routes.flatMap((r) => r.providers))].join(',') : '';
const routeOf = (d: Decision): string => (d.paged ? d.routes.map((r) => r.name).join('+') : '');

/** The rule that set the final severity: the last upgrade that raised it, else the classify rule. */
function severityRule(d: Decision): string | null {
  const up = d.upgrades.at(-1);
  if (up !== undefined) return up.rule;
  return d.classification.rule.startsWith('level:') ? null : d.classification.rule;
}

/** Why an event pages or not: its suppression when suppressed, else what set its severity. */
const pagedRule = (d: Decision): string | null => d.suppressed_by?.rule ?? severityRule(d);

/** A fingerprint with its event's service and host put back as placeholders: one group per shape. */
function shapeOf(fingerprint: string, event: LogEvent): string {
  // The host first: it often contains the service's name.
  const out = event.host ? fingerprint.split(event.host).join('{host}') : fingerprint;
  return out.split(event.service).join('{service}');
}

function side(kind: ChangeKind, d: Decision, event: LogEvent): SideOf {
  if (kind === 'fingerprint') {
    const rule = d.classification.rule.startsWith('level:') ? null : d.classification.rule;
    return { value: d.fingerprint, rule, group: shapeOf(d.fingerprint, event) };
  }
  const { value, rule } = valueOf(kind, d);
  return { value, rule, group: value };
}

function valueOf(
  kind: Exclude<ChangeKind, 'fingerprint'>,
  d: Decision,
): { value: string; rule: string | null } {
  switch (kind) {
    case 'paged':
      return { value: d.paged ? 'pages' : 'does not page', rule: pagedRule(d) };
    case 'severity':
      return { value: d.severity, rule: severityRule(d) };
    case 'suppression':
      return { value: d.suppressed_by?.rule ?? 'none', rule: d.suppressed_by?.rule ?? null };
    case 'route':
      return { value: routeOf(d) || 'none', rule: d.route?.name ?? null };
    case 'providers':
      return { value: providersOf(d) || 'none', rule: d.route?.name ?? null };
  }
}

function sameRoutes(a: readonly RouteChoice[], b: readonly RouteChoice[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as RouteChoice;
    const y = b[i] as RouteChoice;
    if (x.name !== y.name || x.providers.length !== y.providers.length) return false;
    for (let j = 0; j < x.providers.length; j++) if (x.providers[j] !== y.providers[j]) return false;
  }
  return true;
}

/**
 * Whether nothing a reviewer compares differs: most events of a diff, checked without allocating
 * (what `changesOf` would find empty, and what the diff benchmark's throughput rests on).
 */
export function sameOutcome(a: Decision, b: Decision): boolean {
  return (
    a.paged === b.paged &&
    a.severity === b.severity &&
    a.fingerprint === b.fingerprint &&
    (a.suppressed_by?.rule ?? null) === (b.suppressed_by?.rule ?? null) &&
    (!a.paged || sameRoutes(a.routes, b.routes))
  );
}

/**
 * Every way `next` differs from `prev` for the same event. When paging itself changed, route and
 * providers follow from it and are not listed again.
 */
export function changesOf(prev: Decision, next: Decision, event: LogEvent): Change[] {
  const changes: Change[] = [];
  const pagedChanged = prev.paged !== next.paged;
  for (const kind of CHANGE_KINDS) {
    if (pagedChanged && (kind === 'route' || kind === 'providers')) continue;
    const a = side(kind, prev, event);
    const b = side(kind, next, event);
    if (a.value !== b.value) changes.push({ kind, old: a, new: b });
  }
  return changes;
}
