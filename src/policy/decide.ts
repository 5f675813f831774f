// The decision: one function of (input, policy, now, open incidents) → Decision with its trace
// (docs/policy-language.md, "How a decision is made"). It serves live traffic, the dry-run endpoint and
// `incident-router test` alike.
//
// Every rule is first tested by its synchronous predicate (conditions.ts: json-rules-engine's own
// operators, no allocation); a rule that passes is then evaluated by json-rules-engine, whose
// answer is final. Most log lines match nothing and never reach the engine; a differential test
// proves the predicates never miss a match the engine would make.
import type { Almanac } from 'json-rules-engine';
import type {
  Decision,
  RouteChoice,
  RuleTrace,
  Stage,
  StageTrace,
  Suppression,
  Upgrade,
} from '../domain/decision.js';
import type { PipelineInput } from '../domain/log-event.js';
import { boundFingerprint, providerKey } from '../domain/provider-key.js';
import { isPagingSeverity, severityRank, type Severity } from '../domain/severity.js';
import type { CompiledClassifyRule, CompiledPolicy, CompiledRule } from './compile.js';
import type { Facts } from './conditions.js';
import { compileTemplate } from './templates.js';

/** What the decider may know of incident state: the open incident of a fingerprint, if any. */
export interface IncidentLookup {
  openIncident(fingerprint: string): { id: string } | null;
}

export const NO_INCIDENTS: IncidentLookup = { openIncident: () => null };

/**
 * The silences in force (docs/policy-language.md, "Silences"): the first active silence whose
 * matchers all match the suppress stage's facts, or null. Kept in memory (src/silences/view.ts).
 */
export interface SilenceLookup {
  silencing(
    facts: Facts,
    nowMs: number,
  ): { id: string; created_by: string; comment: string; ends_at: string } | null;
}

export interface DecideOptions {
  /** Dry-run: trace every rule, with json-rules-engine's evaluated conditions. */
  explain?: boolean;
  /** Reference mode: every rule goes to json-rules-engine, predicates unused (differential tests). */
  engineOnly?: boolean;
  /** false: ask json-rules-engine even when its answer is memoised (benchmarks of the cold path). */
  memo?: boolean;
  /** Called when the predicate and the engine disagree on a rule (a bug; the engine wins). */
  onDisagreement?: (stage: Stage, rule: string) => void;
  /** Silences made at run time, checked after the policy's own suppress rules. */
  silences?: SilenceLookup;
}

const DEFAULT_TITLE = compileTemplate('{service}: {message}');
const DEFAULT_FINGERPRINT = compileTemplate('{service}:{rule}');

/**
 * The facts of one stage (docs/policy-language.md, "Facts"), as one literal of a fixed shape (cheaper
 * than spreading).
 */
function stageFacts(
  input: PipelineInput,
  team: string,
  criticality: string,
  severity: Severity,
  rule: string | undefined,
  fingerprint: string | undefined,
  now: number,
): Facts {
  const e = input.event;
  return {
    message: e.message,
    level: e.level,
    source: e.source,
    service: e.service,
    host: e.host,
    trace_id: e.trace_id,
    attributes: e.attributes,
    timestamp: e.timestamp,
    team,
    criticality,
    severity,
    rule,
    fingerprint,
    now,
  };
}

let lastIsoMs = NaN;
let lastIso = '';
/** Events arrive in bursts at the same millisecond often enough to keep the last conversion. */
function isoTime(ms: number): string {
  if (ms !== lastIsoMs) {
    lastIso = new Date(ms).toISOString();
    lastIsoMs = ms;
  }
  return lastIso;
}

/** Evaluates rules of one stage against one set of facts; the Almanac is made only if the engine runs. */
class StageEvaluation {
  private almanac: Almanac | null = null;
  readonly trace: Readonly<RuleTrace>[] = [];

  constructor(
    readonly stage: Stage,
    private readonly policy: CompiledPolicy,
    private readonly facts: Facts,
    private readonly options: DecideOptions,
  ) {}

  /** Synchronous when the predicate rules the rule out or the engine's answer is memoised. */
  matches(rule: CompiledRule): boolean | Promise<boolean> {
    let candidate = true;
    if (!this.options.engineOnly) {
      try {
        candidate = rule.test(this.facts);
      } catch {
        candidate = true; // let the engine decide (and report) what the predicate could not
      }
    }
    if (!candidate && !this.options.explain) {
      this.trace.push(rule.traceNotMatched);
      return false;
    }
    if (this.options.explain) return this.explainRule(rule).then((entry) => this.record(entry, candidate));
    const memo = this.options.engineOnly || this.options.memo === false ? null : rule.memo;
    const key = memo?.key(this.facts);
    const known = key === undefined ? undefined : memo?.get(key);
    if (known !== undefined) return this.record(known ? rule.traceMatched : rule.traceNotMatched, candidate);
    return rule.engineRule.evaluate(this.getAlmanac()).then((result) => {
      const matched = result.result === true;
      if (key !== undefined) memo?.set(key, matched);
      return this.record(matched ? rule.traceMatched : rule.traceNotMatched, candidate);
    });
  }

  private record(entry: Readonly<RuleTrace>, candidate: boolean): boolean {
    if (candidate !== entry.matched && !this.options.engineOnly) {
      this.options.onDisagreement?.(this.stage, entry.name);
      entry = {
        ...entry,
        reason: `predicate said ${candidate}, json-rules-engine said ${entry.matched}; the engine's answer stands`,
      };
    }
    this.trace.push(entry);
    return entry.matched;
  }

  /** Dry-run: always ask the engine, and keep its evaluated condition tree for the trace. */
  private async explainRule(rule: CompiledRule): Promise<RuleTrace> {
    const result = await rule.engineRule.evaluate(this.getAlmanac());
    return { name: rule.name, matched: result.result === true, conditions: result.toJSON(false).conditions };
  }

  notEvaluated(rule: CompiledRule, reason: string): void {
    if (this.options.explain) this.trace.push({ name: rule.name, matched: false, reason });
  }

  result(): StageTrace {
    return { stage: this.stage, rules: this.trace as RuleTrace[] };
  }

  private getAlmanac(): Almanac {
    this.almanac ??= this.policy.engine.almanac(this.facts);
    return this.almanac;
  }
}

interface Classified {
  rule: string;
  severity: Severity;
  applied: CompiledClassifyRule[];
}

/**
 * The stages are generators that yield only a pending engine answer and receive it back, so a
 * decision whose every answer is known (predicate or memo) runs to the end in one synchronous call:
 * no promise and no microtask turn per event. `settle` drives them.
 */
type Steps<T> = Generator<Promise<boolean>, T, boolean>;

function* classify(
  ev: StageEvaluation,
  policy: CompiledPolicy,
  level: string,
  initial: Severity,
): Steps<Classified> {
  const applied: CompiledClassifyRule[] = [];
  let severity = initial;
  let stopAt: string | null = null;
  for (const rule of policy.classify) {
    if (stopAt !== null) {
      ev.notEvaluated(rule, `not evaluated: "${stopAt}" matched first`);
      continue;
    }
    const answer = ev.matches(rule);
    if (!(typeof answer === 'boolean' ? answer : yield answer)) continue;
    applied.push(rule);
    // A resolve rule without a severity of its own never pages.
    severity = rule.severity ?? (rule.resolve ? 'info' : severity);
    if (!rule.continue) stopAt = rule.name;
  }
  const last = applied.at(-1);
  return { rule: last ? last.name : `level:${level}`, severity, applied };
}

/** Every matching upgrade applies; severity only goes up. All see the classified severity. */
function* upgrade(ev: StageEvaluation, policy: CompiledPolicy, severity: Severity): Steps<Upgrade[]> {
  const upgrades: Upgrade[] = [];
  let current = severity;
  for (const rule of policy.upgrade) {
    const answer = ev.matches(rule);
    if (!(typeof answer === 'boolean' ? answer : yield answer)) continue;
    if (severityRank(rule.severity) > severityRank(current)) {
      upgrades.push({ rule: rule.name, from: current, to: rule.severity });
      current = rule.severity;
    }
  }
  return upgrades;
}

function* suppress(
  ev: StageEvaluation,
  policy: CompiledPolicy,
  silences: SilenceLookup | undefined,
  facts: Facts,
  nowMs: number,
): Steps<Suppression | null> {
  let found: Suppression | null = null;
  for (const rule of policy.suppress) {
    if (found !== null) {
      ev.notEvaluated(rule, `not evaluated: "${found.rule}" matched first`);
      continue;
    }
    const answer = ev.matches(rule);
    if (typeof answer === 'boolean' ? answer : yield answer) found = { rule: rule.name, reason: rule.reason };
  }
  // Silences come after the policy's rules: a planned window keeps its own name in the trace.
  if (found !== null || silences === undefined) return found;
  const silence = silences.silencing(facts, nowMs);
  if (silence === null) return null;
  const name = `silence:${silence.id}`;
  const reason = `silence ${silence.id} by ${silence.created_by} until ${silence.ends_at}: ${silence.comment}`;
  ev.trace.push({ name, matched: true, reason });
  return { rule: name, reason: silence.comment, silence: silence.id };
}

function* route(ev: StageEvaluation, policy: CompiledPolicy): Steps<RouteChoice[]> {
  const chosen: RouteChoice[] = [];
  let stopAt: string | null = null;
  for (const rule of policy.routes) {
    if (stopAt !== null) {
      ev.notEvaluated(rule, `not evaluated: "${stopAt}" matched first`);
      continue;
    }
    const answer = ev.matches(rule);
    if (!(typeof answer === 'boolean' ? answer : yield answer)) continue;
    chosen.push({
      name: rule.name,
      mode: rule.mode,
      providers: [...rule.providers],
      ...(rule.escalation === null ? {} : { escalation: rule.escalation }),
      ...(rule.flap === null ? {} : { flap: rule.flap }),
    });
    if (!rule.continue) stopAt = rule.name;
  }
  return chosen;
}

function lastTemplate(applied: readonly CompiledClassifyRule[], key: 'title' | 'fingerprint' | 'resolve') {
  for (let i = applied.length - 1; i >= 0; i--) {
    const t = (applied[i] as CompiledClassifyRule)[key];
    if (t !== null) return t;
  }
  return null;
}

export async function decide(
  input: PipelineInput,
  policy: CompiledPolicy,
  nowMs: number,
  incidents: IncidentLookup,
  options: DecideOptions = {},
): Promise<Decision> {
  return decideNow(input, policy, nowMs, incidents, options);
}

/** `decide`, but synchronous when no rule has to wait for json-rules-engine (the common case). */
export function decideNow(
  input: PipelineInput,
  policy: CompiledPolicy,
  nowMs: number,
  incidents: IncidentLookup,
  options: DecideOptions = {},
): Decision | Promise<Decision> {
  return settle(decision(input, policy, nowMs, incidents, options));
}

/** Runs steps until one waits on a pending answer; from there on, asynchronously. */
function settle<T>(steps: Steps<T>, answer = false): T | Promise<T> {
  const step = steps.next(answer);
  return step.done ? step.value : step.value.then((next) => settle(steps, next));
}

function* decision(
  input: PipelineInput,
  policy: CompiledPolicy,
  nowMs: number,
  incidents: IncidentLookup,
  options: DecideOptions,
): Steps<Decision> {
  const event = input.event;
  const { team, criticality } = policy.catalog(event.service);
  const initial = input.initialSeverity ?? policy.levelSeverity[event.level] ?? 'info';
  const facts = stageFacts(input, team, criticality, initial, undefined, undefined, nowMs);
  const trace: StageTrace[] = [];

  const builtIn = input.builtIn;
  let classified: Classified;
  if (builtIn === undefined) {
    const classifyEval = new StageEvaluation('classify', policy, facts, options);
    classified = yield* classify(classifyEval, policy, event.level, initial);
    trace.push(classifyEval.result());
  } else {
    // The sidecar's own alert (a coverage gap): classified by the sidecar, routed by the policy.
    classified = { rule: builtIn.rule, severity: builtIn.severity, applied: [] };
    trace.push({
      stage: 'classify',
      rules: [],
      skipped: `raised by incident-router itself (${builtIn.rule})`,
    });
  }
  // The classified facts are made only when a classify rule's template needs them (most events are
  // classified by their level).
  const fingerprint = boundFingerprint(
    builtIn !== undefined
      ? builtIn.fingerprint
      : classified.applied.length === 0
        ? `${event.service}:${classified.rule}`
        : (lastTemplate(classified.applied, 'fingerprint') ?? DEFAULT_FINGERPRINT)(
            stageFacts(input, team, criticality, classified.severity, classified.rule, undefined, nowMs),
          ),
  );

  const upgradeFacts = stageFacts(
    input,
    team,
    criticality,
    classified.severity,
    classified.rule,
    fingerprint,
    nowMs,
  );
  const upgradeEval = new StageEvaluation('upgrade', policy, upgradeFacts, options);
  const upgrades = yield* upgrade(upgradeEval, policy, classified.severity);
  trace.push(upgradeEval.result());
  const severity = upgrades.at(-1)?.to ?? classified.severity;
  // Suppress and route rules, title and resolve templates see the final severity.
  const finalFacts =
    severity === classified.severity
      ? upgradeFacts
      : stageFacts(input, team, criticality, severity, classified.rule, fingerprint, nowMs);

  const pages = isPagingSeverity(severity);
  let suppressedBy: Suppression | null = null;
  if (pages) {
    const suppressEval = new StageEvaluation('suppress', policy, finalFacts, options);
    suppressedBy = yield* suppress(suppressEval, policy, options.silences, finalFacts, nowMs);
    trace.push(suppressEval.result());
  } else {
    trace.push({ stage: 'suppress', rules: [], skipped: `severity ${severity} does not page` });
  }

  const paged = pages && suppressedBy === null;
  let routes: RouteChoice[] = [];
  if (paged) {
    const routeEval = new StageEvaluation('route', policy, finalFacts, options);
    routes = yield* route(routeEval, policy);
    trace.push(routeEval.result());
  } else {
    trace.push({
      stage: 'route',
      rules: [],
      skipped: suppressedBy ? `suppressed by "${suppressedBy.rule}"` : `severity ${severity} does not page`,
    });
  }

  const resolveTemplate = lastTemplate(classified.applied, 'resolve');
  const resolves =
    builtIn !== undefined
      ? builtIn.resolves
      : resolveTemplate === null
        ? null
        : boundFingerprint(resolveTemplate(finalFacts));
  const open = incidents.openIncident(resolves ?? fingerprint);
  return {
    policy: policy.stamp,
    at: isoTime(nowMs),
    service: event.service,
    level: event.level,
    team,
    criticality,
    classification: { rule: classified.rule, severity: classified.severity },
    upgrades,
    severity,
    suppressed: suppressedBy !== null,
    suppressed_by: suppressedBy,
    paged,
    recorded: classified.applied.length > 0 && severity === 'info' && resolves === null,
    title: builtIn?.title ?? (lastTemplate(classified.applied, 'title') ?? DEFAULT_TITLE)(finalFacts),
    fingerprint,
    provider_key: cachedProviderKey(fingerprint),
    route: routes[0] ?? null,
    routes,
    resolves,
    resolves_provider_key: resolves === null ? null : cachedProviderKey(resolves),
    incident: { open: open !== null, id: open?.id ?? null },
    trace,
  };
}

// Fingerprints repeat heavily (that is what dedup is for); hashing each one once is enough. The
// cache is cleared when full: 10,000 keys hold about 1.4 MB.
const keyCache = new Map<string, string>();
const KEY_CACHE_LIMIT = 10_000;

function cachedProviderKey(fingerprint: string): string {
  let key = keyCache.get(fingerprint); // fingerprints are bounded (boundFingerprint): so is the cache
  if (key === undefined) {
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
    key = providerKey(fingerprint);
    keyCache.set(fingerprint, key);
  }
  return key;
}
