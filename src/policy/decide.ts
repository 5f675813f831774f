// The decision: one function of (input, policy, now, open incidents) → Decision with its trace
// (docs/policy-language.md, "How a decision is made"). It serves live traffic, the dry-run endpoint and
// `incident-router test` alike.
//
// Every rule is first tested by its synchronous predicate (conditions.ts: json-rules-engine's own
// operators, no allocation); a rule that passes is then evaluated by json-rules-engine, whose
// answer is final. Most log lines match nothing and never reach the engine; a differential test
// proves the predicates never miss a match the engine would make.
//
// The decision runs synchronously, as plain functions: a rule whose answer only json-rules-engine
// can give (asynchronously; not memoised) stops the run with an `EngineQuestion`; the answer is
// awaited, kept for this decision, and the decision runs again from the start, now knowing it. A
// decision is a pure function of its inputs, so the runs agree up to the question; most decisions
// ask none and allocate no generator or promise (docs/performance.md, "Against Alertmanager").
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
  /**
   * A paged event whose incident is open (a repeat) takes no route: routes are chosen when an
   * incident opens, and a repeat sends nothing. Only for a decision made synchronously (no
   * json-rules-engine question), which the pipeline applies in the same turn (see `isRepeatLite`).
   */
  repeatsTakeNoRoute?: boolean;
}

const DEFAULT_TITLE = compileTemplate('{service}: {message}');
/** The route stage of a repeat decided with `repeatsTakeNoRoute` (its incident: `decision.incident`). */
const REPEAT_ROUTE_TRACE: StageTrace = Object.freeze({
  stage: 'route',
  rules: Object.freeze([]) as unknown as RuleTrace[],
  skipped: 'a repeat of an open incident: routes are chosen when an incident opens',
});
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

/**
 * What one decision has learnt from json-rules-engine so far (kept across its runs): each asked
 * rule's trace entry, and the Almanac of each stage (built once from the stage's facts, which every
 * run makes alike). Made at the first question: a decision that asks none has none.
 */
class Answers {
  readonly traces = new Map<CompiledRule, Readonly<RuleTrace>>();
  readonly almanacs = new Map<Stage, Almanac>();
}

/** Thrown by a run that needs json-rules-engine's answer for `rule`; the decision asks and runs again. */
class EngineQuestion {
  constructor(
    readonly rule: CompiledRule,
    private readonly ev: StageEvaluation,
  ) {}

  /** The rule's trace entry as json-rules-engine answers it (and its memo remembers). */
  async ask(answers: Answers): Promise<Readonly<RuleTrace>> {
    const { rule, ev } = this;
    const result = await rule.engineRule.evaluate(ev.almanac(answers));
    const matched = result.result === true;
    if (ev.options.explain) return { name: rule.name, matched, conditions: result.toJSON(false).conditions };
    const memo = ev.memoOf(rule);
    if (memo !== null) memo.set(memo.key(ev.facts), matched);
    return matched ? rule.traceMatched : rule.traceNotMatched;
  }
}

/** Evaluates rules of one stage against one set of facts; the Almanac is made only if the engine runs. */
class StageEvaluation {
  /**
   * The stage's trace, made at its first entry other than "not matched": until then, the first
   * `unmatched` rules of the stage did not match, and most stages end that way (a shared trace).
   */
  private trace: Readonly<RuleTrace>[] | null = null;
  private unmatched = 0;
  /** Rules whose predicate the engine contradicted, reported once the run completes. */
  private disagreed: string[] | null = null;

  constructor(
    readonly stage: Stage,
    private readonly policy: CompiledPolicy,
    private readonly rules: readonly CompiledRule[],
    readonly facts: Facts,
    readonly options: DecideOptions,
    private readonly answers: Answers | null,
  ) {}

  /** The rule's answer, or an `EngineQuestion` thrown when only json-rules-engine knows it yet. */
  matches(rule: CompiledRule): boolean {
    let candidate = true;
    if (!this.options.engineOnly) {
      try {
        candidate = rule.test(this.facts);
      } catch {
        candidate = true; // let the engine decide (and report) what the predicate could not
      }
    }
    if (!candidate && !this.options.explain) {
      if (this.trace === null) this.unmatched++;
      else this.trace.push(rule.traceNotMatched);
      return false;
    }
    const asked = this.answers?.traces.get(rule);
    if (asked !== undefined) return this.record(asked, candidate);
    if (!this.options.explain) {
      const memo = this.memoOf(rule);
      const known = memo?.get(memo.key(this.facts));
      if (known !== undefined)
        return this.record(known ? rule.traceMatched : rule.traceNotMatched, candidate);
    }
    throw new EngineQuestion(rule, this);
  }

  /** The rule's memo, unless this decision must ask the engine (reference mode, cold benchmarks). */
  memoOf(rule: CompiledRule): CompiledRule['memo'] {
    return this.options.engineOnly || this.options.memo === false ? null : rule.memo;
  }

  private record(entry: Readonly<RuleTrace>, candidate: boolean): boolean {
    if (candidate !== entry.matched && !this.options.engineOnly) {
      (this.disagreed ??= []).push(entry.name);
      entry = {
        ...entry,
        reason: `predicate said ${candidate}, json-rules-engine said ${entry.matched}; the engine's answer stands`,
      };
    }
    this.add(entry);
    return entry.matched;
  }

  notEvaluated(rule: CompiledRule, reason: string): void {
    if (this.options.explain) this.add({ name: rule.name, matched: false, reason });
  }

  add(entry: Readonly<RuleTrace>): void {
    this.trace ??= this.rules.slice(0, this.unmatched).map((r) => r.traceNotMatched);
    this.trace.push(entry);
  }

  result(): StageTrace {
    return {
      stage: this.stage,
      rules: (this.trace ?? unmatchedTrace(this.rules, this.unmatched)) as RuleTrace[],
    };
  }

  almanac(answers: Answers): Almanac {
    let almanac = answers.almanacs.get(this.stage);
    if (almanac === undefined) {
      almanac = this.policy.engine.almanac(this.facts);
      answers.almanacs.set(this.stage, almanac);
    }
    return almanac;
  }

  /** Reports what the engine contradicted (a completed run only: a stopped one runs again). */
  reportDisagreements(): void {
    if (this.disagreed === null) return;
    for (const rule of this.disagreed) this.options.onDisagreement?.(this.stage, rule);
  }
}

const unmatchedTraces = new WeakMap<readonly CompiledRule[], readonly Readonly<RuleTrace>[]>();

/** The trace of a stage whose first `n` rules did not match: shared and frozen when that is all of them. */
function unmatchedTrace(rules: readonly CompiledRule[], n: number): readonly Readonly<RuleTrace>[] {
  if (n < rules.length) return rules.slice(0, n).map((r) => r.traceNotMatched);
  let trace = unmatchedTraces.get(rules);
  if (trace === undefined) {
    trace = Object.freeze(rules.map((r) => r.traceNotMatched));
    unmatchedTraces.set(rules, trace);
  }
  return trace;
}

interface Classified {
  rule: string;
  severity: Severity;
  applied: CompiledClassifyRule[];
}

function classify(ev: StageEvaluation, policy: CompiledPolicy, level: string, initial: Severity): Classified {
  const applied: CompiledClassifyRule[] = [];
  let severity = initial;
  let stopAt: string | null = null;
  for (const rule of policy.classify) {
    if (stopAt !== null) {
      ev.notEvaluated(rule, `not evaluated: "${stopAt}" matched first`);
      continue;
    }
    if (!ev.matches(rule)) continue;
    applied.push(rule);
    // A resolve rule without a severity of its own never pages.
    severity = rule.severity ?? (rule.resolve ? 'info' : severity);
    if (!rule.continue) stopAt = rule.name;
  }
  const last = applied.at(-1);
  return { rule: last ? last.name : `level:${level}`, severity, applied };
}

/** Every matching upgrade applies; severity only goes up. All see the classified severity. */
function upgrade(ev: StageEvaluation, policy: CompiledPolicy, severity: Severity): Upgrade[] {
  const upgrades: Upgrade[] = [];
  let current = severity;
  for (const rule of policy.upgrade) {
    if (!ev.matches(rule)) continue;
    if (severityRank(rule.severity) > severityRank(current)) {
      upgrades.push({ rule: rule.name, from: current, to: rule.severity });
      current = rule.severity;
    }
  }
  return upgrades;
}

function suppress(
  ev: StageEvaluation,
  policy: CompiledPolicy,
  silences: SilenceLookup | undefined,
  facts: Facts,
  nowMs: number,
): Suppression | null {
  let found: Suppression | null = null;
  for (const rule of policy.suppress) {
    if (found !== null) {
      ev.notEvaluated(rule, `not evaluated: "${found.rule}" matched first`);
      continue;
    }
    if (ev.matches(rule)) found = { rule: rule.name, reason: rule.reason };
  }
  // Silences come after the policy's rules: a planned window keeps its own name in the trace.
  if (found !== null || silences === undefined) return found;
  const silence = silences.silencing(facts, nowMs);
  if (silence === null) return null;
  const name = `silence:${silence.id}`;
  const reason = `silence ${silence.id} by ${silence.created_by} until ${silence.ends_at}: ${silence.comment}`;
  ev.add({ name, matched: true, reason });
  return { rule: name, reason: silence.comment, silence: silence.id };
}

function route(ev: StageEvaluation, policy: CompiledPolicy): RouteChoice[] {
  const chosen: RouteChoice[] = [];
  let stopAt: string | null = null;
  for (const rule of policy.routes) {
    if (stopAt !== null) {
      ev.notEvaluated(rule, `not evaluated: "${stopAt}" matched first`);
      continue;
    }
    if (!ev.matches(rule)) continue;
    const choice: RouteChoice = { name: rule.name, mode: rule.mode, providers: rule.providers.slice() };
    if (rule.escalation !== null) choice.escalation = rule.escalation;
    if (rule.flap !== null) choice.flap = rule.flap;
    chosen.push(choice);
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
  const run = runDecision(input, policy, nowMs, incidents, options, null);
  return run instanceof EngineQuestion ? decideAsking(run, input, policy, nowMs, incidents, options) : run;
}

/** Asks json-rules-engine each question a run stops at, then runs the decision again knowing it. */
async function decideAsking(
  first: EngineQuestion,
  input: PipelineInput,
  policy: CompiledPolicy,
  nowMs: number,
  incidents: IncidentLookup,
  options: DecideOptions,
): Promise<Decision> {
  const answers = new Answers();
  let run: Decision | EngineQuestion = first;
  while (run instanceof EngineQuestion) {
    answers.traces.set(run.rule, await run.ask(answers));
    run = runDecision(input, policy, nowMs, incidents, options, answers);
  }
  return run;
}

/** One run of the decision: the decision, or the question it stopped at. */
function runDecision(
  input: PipelineInput,
  policy: CompiledPolicy,
  nowMs: number,
  incidents: IncidentLookup,
  options: DecideOptions,
  answers: Answers | null,
): Decision | EngineQuestion {
  try {
    return decision(input, policy, nowMs, incidents, options, answers);
  } catch (err) {
    if (err instanceof EngineQuestion) return err;
    throw err;
  }
}

/** One run of the decision; throws an `EngineQuestion` where it needs an answer not known yet. */
function decision(
  input: PipelineInput,
  policy: CompiledPolicy,
  nowMs: number,
  incidents: IncidentLookup,
  options: DecideOptions,
  answers: Answers | null,
): Decision {
  const event = input.event;
  const { team, criticality } = policy.catalog(event.service);
  const initial = input.initialSeverity ?? policy.levelSeverity[event.level] ?? 'info';
  const facts = stageFacts(input, team, criticality, initial, undefined, undefined, nowMs);
  const trace: StageTrace[] = [];

  const builtIn = input.builtIn;
  let classified: Classified;
  let classifyEval: StageEvaluation | null = null;
  if (builtIn === undefined) {
    classifyEval = new StageEvaluation('classify', policy, policy.classify, facts, options, answers);
    classified = classify(classifyEval, policy, event.level, initial);
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
  const upgradeEval = new StageEvaluation('upgrade', policy, policy.upgrade, upgradeFacts, options, answers);
  const upgrades = upgrade(upgradeEval, policy, classified.severity);
  trace.push(upgradeEval.result());
  const severity = upgrades.at(-1)?.to ?? classified.severity;
  // Suppress and route rules, title and resolve templates see the final severity.
  const finalFacts =
    severity === classified.severity
      ? upgradeFacts
      : stageFacts(input, team, criticality, severity, classified.rule, fingerprint, nowMs);

  const pages = isPagingSeverity(severity);
  let suppressedBy: Suppression | null = null;
  let suppressEval: StageEvaluation | null = null;
  if (pages) {
    suppressEval = new StageEvaluation('suppress', policy, policy.suppress, finalFacts, options, answers);
    suppressedBy = suppress(suppressEval, policy, options.silences, finalFacts, nowMs);
    trace.push(suppressEval.result());
  } else {
    trace.push({ stage: 'suppress', rules: [], skipped: `severity ${severity} does not page` });
  }

  const paged = pages && suppressedBy === null;
  const resolveTemplate = lastTemplate(classified.applied, 'resolve');
  const resolves =
    builtIn !== undefined
      ? builtIn.resolves
      : resolveTemplate === null
        ? null
        : boundFingerprint(resolveTemplate(finalFacts));
  const open = incidents.openIncident(resolves ?? fingerprint);

  let routes: RouteChoice[] = [];
  let routeEval: StageEvaluation | null = null;
  if (paged && resolves === null && open !== null && options.repeatsTakeNoRoute && answers === null) {
    trace.push(REPEAT_ROUTE_TRACE);
  } else if (paged) {
    routeEval = new StageEvaluation('route', policy, policy.routes, finalFacts, options, answers);
    routes = route(routeEval, policy);
    trace.push(routeEval.result());
  } else {
    trace.push({
      stage: 'route',
      rules: [],
      skipped: suppressedBy ? `suppressed by "${suppressedBy.rule}"` : `severity ${severity} does not page`,
    });
  }
  // The run is complete: what the engine contradicted is reported once.
  classifyEval?.reportDisagreements();
  upgradeEval.reportDisagreements();
  suppressEval?.reportDisagreements();
  routeEval?.reportDisagreements();
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

/**
 * Whether a decision made with `repeatsTakeNoRoute` took no route because its incident was open:
 * applied once that incident is gone, it must be decided again in full (it would open one).
 */
export function isRepeatLite(d: Decision): boolean {
  return d.paged && d.resolves === null && d.incident.open && d.routes.length === 0;
}

// Fingerprints repeat heavily (that is what dedup is for); hashing each one once is enough. Two
// generations of at most 10,000 keys each (about 1.4 MB apiece): when the newer fills it becomes the
// older, and a key found in the older moves to the newer. One map cleared when full hashed every event
// again once more than 10,000 fingerprints took turns (each miss cleared what the next event needed).
let keysNow = new Map<string, string>();
let keysBefore = new Map<string, string>();
const KEY_GENERATION_LIMIT = 10_000;

function cachedProviderKey(fingerprint: string): string {
  let key = keysNow.get(fingerprint); // fingerprints are bounded (boundFingerprint): so is the cache
  if (key !== undefined) return key;
  key = keysBefore.get(fingerprint) ?? providerKey(fingerprint);
  if (keysNow.size >= KEY_GENERATION_LIMIT) {
    keysBefore = keysNow;
    keysNow = new Map();
  }
  keysNow.set(fingerprint, key);
  return key;
}
