// The policy diff (docs/policy-diff.md): every event decided at its own timestamp by both policies,
// with the same `decide` as live traffic, and every change grouped by its kind and direction. Pure:
// events come in as an (async) iterable, a report comes out; the sources and the formats live beside.
import type { Decision, PolicyStamp } from '../domain/decision.js';
import type { PipelineInput } from '../domain/log-event.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { decideNow, NO_INCIDENTS } from '../policy/decide.js';
import type { RuleLocations } from './locations.js';
import { changesOf, sameOutcome, type Change, type ChangeKind } from './outcome.js';

/** A policy to compare: compiled, and where its rules are written. */
export interface DiffSide {
  policy: CompiledPolicy;
  locations: RuleLocations;
}

/** One event of a source, with where it came from (an NDJSON line, a stream sequence, a ring slot). */
export interface DiffEvent {
  input: PipelineInput;
  /** e.g. "events.ndjson:17" or "stream EVENTS seq 42". */
  ref: string;
}

/** A line or message a source could not read: reported, skipped. */
export interface SourceProblem {
  ref: string;
  message: string;
}

export type SourceItem = DiffEvent | { problem: SourceProblem };

export interface RuleRef {
  name: string;
  at: string | null;
}

export interface Example {
  ref: string;
  at: string;
  service: string;
  level: string;
  message: string;
  old: { value: string; rule: RuleRef | null };
  new: { value: string; rule: RuleRef | null };
}

const MESSAGE_CHARS = 160;

/** An event whose outcome changed: what the report keeps of it (small enough to pass between threads). */
export interface ChangedEvent {
  ref: string;
  at: string;
  service: string;
  level: string;
  /** Cut to MESSAGE_CHARS. */
  message: string;
  changes: Change[];
}

/** What changed between two decisions of one event, or null when nothing a reviewer compares did. */
function changedEvent(event: DiffEvent, a: Decision, b: Decision): ChangedEvent | null {
  if (sameOutcome(a, b)) return null;
  const e = event.input.event;
  const changes = changesOf(a, b, e);
  if (changes.length === 0) return null;
  return {
    ref: event.ref,
    at: a.at,
    service: e.service,
    level: e.level,
    message: e.message.length > MESSAGE_CHARS ? `${e.message.slice(0, MESSAGE_CHARS - 1)}…` : e.message,
    changes,
  };
}

/**
 * One event decided by both policies at its own timestamp, compared (here or in a worker thread,
 * src/diff/diff-worker.ts); synchronous unless json-rules-engine must be asked.
 */
export function decideBoth(
  event: DiffEvent,
  prev: CompiledPolicy,
  next: CompiledPolicy,
): ChangedEvent | null | Promise<ChangedEvent | null> {
  const atMs = Date.parse(event.input.event.timestamp);
  const a = decideNow(event.input, prev, atMs, NO_INCIDENTS);
  const b = decideNow(event.input, next, atMs, NO_INCIDENTS);
  if (a instanceof Promise || b instanceof Promise)
    return Promise.all([a, b]).then(([x, y]) => changedEvent(event, x, y));
  return changedEvent(event, a, b);
}

/** All changes of one kind from one value to another, e.g. route `default` → `low-urgency`. */
export interface ChangeGroup {
  kind: ChangeKind;
  from: string;
  to: string;
  count: number;
  /** A changed fingerprint orphans open incidents: the reviewer must not miss it. */
  loud: boolean;
  examples: Example[];
}

export interface DiffReport {
  old: PolicyStamp;
  new: PolicyStamp;
  events: number;
  changed: number;
  groups: ChangeGroup[];
  /** Every changed event: its ref and the kinds of change. */
  changes: { ref: string; kinds: ChangeKind[] }[];
  problems: SourceProblem[];
  /** Set when more problems were found than the report keeps. */
  problems_total?: number;
}

export interface DiffOptions {
  examplesPerGroup?: number;
  /** Problems kept in the report (all are counted); default 100. */
  maxProblems?: number;
}

export class PolicyDiff {
  private readonly groups = new Map<string, ChangeGroup>();
  private readonly changes: DiffReport['changes'] = [];
  private readonly problems: SourceProblem[] = [];
  private events = 0;
  private problemCount = 0;
  private readonly examples: number;
  private readonly maxProblems: number;

  constructor(
    private readonly prev: DiffSide,
    private readonly next: DiffSide,
    options: DiffOptions = {},
  ) {
    this.examples = options.examplesPerGroup ?? 3;
    this.maxProblems = options.maxProblems ?? 100;
  }

  /** Decide one event with both policies at its own timestamp; synchronous unless the engine waits. */
  add(event: DiffEvent): void | Promise<void> {
    const changed = decideBoth(event, this.prev.policy, this.next.policy);
    if (changed instanceof Promise) return changed.then((c) => this.decided(c));
    this.decided(changed);
  }

  problem(p: SourceProblem): void {
    this.problemCount++;
    if (this.problems.length < this.maxProblems) this.problems.push(p);
  }

  private decided(changed: ChangedEvent | null): void {
    this.events++;
    if (changed !== null) this.addChanged(changed);
  }

  /** Events decided elsewhere (a worker thread): counted here. */
  count(events: number): void {
    this.events += events;
  }

  /** An event whose outcome changed, decided here or in a worker thread, in source order. */
  addChanged(changed: ChangedEvent): void {
    this.changes.push({ ref: changed.ref, kinds: changed.changes.map((c) => c.kind) });
    for (const change of changed.changes) this.tally(changed, change);
  }

  private tally(changed: ChangedEvent, change: Change): void {
    const key = `${change.kind}\u0000${change.old.group}\u0000${change.new.group}`;
    let group = this.groups.get(key);
    if (group === undefined) {
      group = {
        kind: change.kind,
        from: change.old.group,
        to: change.new.group,
        count: 0,
        loud: change.kind === 'fingerprint',
        examples: [],
      };
      this.groups.set(key, group);
    }
    group.count++;
    if (group.examples.length >= this.examples) return;
    group.examples.push({
      ref: changed.ref,
      at: changed.at,
      service: changed.service,
      level: changed.level,
      message: changed.message,
      old: { value: change.old.value, rule: this.ruleRef(change.old.rule, this.prev) },
      new: { value: change.new.value, rule: this.ruleRef(change.new.rule, this.next) },
    });
  }

  private ruleRef(name: string | null, side: DiffSide): RuleRef | null {
    return name === null ? null : { name, at: side.locations.get(name) ?? null };
  }

  report(): DiffReport {
    const order = (g: ChangeGroup): number => (g.loud ? 0 : 1);
    return {
      old: this.prev.policy.stamp,
      new: this.next.policy.stamp,
      events: this.events,
      changed: this.changes.length,
      groups: [...this.groups.values()].sort((x, y) => order(x) - order(y) || y.count - x.count),
      changes: this.changes,
      problems: this.problems,
      ...(this.problemCount > this.problems.length ? { problems_total: this.problemCount } : {}),
    };
  }
}

/** Diff every item of a source. */
export async function diffEvents(
  source: Iterable<SourceItem> | AsyncIterable<SourceItem>,
  prev: DiffSide,
  next: DiffSide,
  options: DiffOptions = {},
): Promise<DiffReport> {
  const diff = new PolicyDiff(prev, next, options);
  if (Symbol.iterator in source) {
    // A synchronous source (a ring read into memory, a test's array): no microtask per event.
    for (const item of source) {
      if ('problem' in item) diff.problem(item.problem);
      else {
        const pending = diff.add(item);
        if (pending !== undefined) await pending; // only when json-rules-engine must be asked
      }
    }
    return diff.report();
  }
  for await (const item of source) {
    if ('problem' in item) diff.problem(item.problem);
    else {
      const pending = diff.add(item);
      if (pending !== undefined) await pending;
    }
  }
  return diff.report();
}
