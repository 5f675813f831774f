// The fast path must give json-rules-engine's exact answers. Two proofs over a generated corpus:
// (1) every rule's synchronous predicate agrees with json-rules-engine's public Engine#run, rule by
//     rule, for every stage's rules and facts that vary severity, rule and time;
// (2) whole decisions are identical whether predicates skip rules or every rule goes to the engine.
import { Engine } from 'json-rules-engine';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventToInput, alertToInput, type LogEvent } from '../../src/domain/log-event.js';
import { SEVERITIES } from '../../src/domain/severity.js';
import type { ActivePolicy } from '../../src/policy/active.js';
import { decide, NO_INCIDENTS } from '../../src/policy/decide.js';
import { compilePattern } from '../../src/policy/patterns.js';
import { customOperators, resolvePath } from '../../src/policy/operators.js';
import type { CompiledRule } from '../../src/policy/compile.js';
import { generateEvents } from '../../scripts/gen-log-events.mjs';
import { shippedPolicy } from '../helpers/policy.js';
import { rng } from '../helpers/random.js';

const YEAR_START = Date.parse('2026-01-01T00:00:00Z');
const YEAR_MS = 365 * 86_400_000;

/** A public-API json-rules-engine for one stage's rules, with our operators and named conditions. */
function referenceEngine(
  policy: ActivePolicy,
  stage: 'classify' | 'upgrade' | 'suppress' | 'routes',
): Engine {
  const doc = policy.compiled.document;
  const engine = new Engine([], { allowUndefinedFacts: true, pathResolver: resolvePath });
  const patterns = (source: string) => compilePattern(source, policy.loaded.verdicts.get(source));
  for (const op of customOperators(policy.compiled.windows, patterns)) {
    engine.addOperator(op.name, (a: unknown, b: unknown) => op.accepts(a) && op.evaluate(a, b));
  }
  for (const [name, c] of Object.entries(doc.conditions)) engine.setCondition(name, c);
  for (const rule of doc[stage]) {
    engine.addRule({ name: rule.name, conditions: rule.when ?? { all: [] }, event: { type: rule.name } });
  }
  return engine;
}

describe('differential: predicates versus json-rules-engine', () => {
  let policy: ActivePolicy;
  const corpus: LogEvent[] = [];

  beforeAll(async () => {
    policy = await shippedPolicy();
    // 30% alerting so that every rule matches many times; noise and recoveries fill the rest.
    for (const line of generateEvents({ count: 6000, seed: 11, alerting: 30 }))
      corpus.push(JSON.parse(line) as LogEvent);
    for (const line of generateEvents({ count: 6000, seed: 12, alerting: 3 }))
      corpus.push(JSON.parse(line) as LogEvent);
  });

  it('agrees rule by rule with Engine#run over 12,000 events with varied severity, rule and time', async () => {
    const random = rng(99);
    const stages = ['classify', 'upgrade', 'suppress', 'routes'] as const;
    const engines = Object.fromEntries(stages.map((s) => [s, referenceEngine(policy, s)]));
    const compiled: Record<(typeof stages)[number], readonly CompiledRule[]> = {
      classify: policy.compiled.classify,
      upgrade: policy.compiled.upgrade,
      suppress: policy.compiled.suppress,
      routes: policy.compiled.routes,
    };
    const ruleNames = [...policy.compiled.classify.map((r) => r.name), 'level:error', 'level:info'];
    let comparisons = 0;
    let positives = 0;
    for (const event of corpus) {
      const { team, criticality } = policy.compiled.catalog(event.service);
      const facts = {
        ...event,
        team,
        criticality,
        severity: SEVERITIES[Math.floor(random() * SEVERITIES.length)],
        rule: ruleNames[Math.floor(random() * ruleNames.length)],
        fingerprint: `${event.service}:x`,
        now: YEAR_START + Math.floor(random() * YEAR_MS),
      };
      for (const stage of stages) {
        const result = await engines[stage]!.run(facts);
        const engineMatched = new Set(result.results.map((r) => r.name));
        for (const rule of compiled[stage]) {
          const predicate = rule.test(facts);
          comparisons++;
          if (predicate) positives++;
          if (predicate !== engineMatched.has(rule.name)) {
            expect.fail(
              `${stage} rule "${rule.name}": predicate ${predicate}, engine ${!predicate} for ${JSON.stringify(facts)}`,
            );
          }
        }
      }
    }
    expect(comparisons).toBeGreaterThan(12_000 * 20);
    expect(positives).toBeGreaterThan(5_000); // the corpus exercises matches, not only misses
  });

  it('decides identically with and without predicates over 12,000 events and alerts at random times', async () => {
    const random = rng(7);
    let paged = 0;
    for (const [i, event] of corpus.entries()) {
      const now = YEAR_START + Math.floor(random() * YEAR_MS);
      const input =
        i % 10 === 0
          ? alertToInput(
              {
                title: event.message,
                source: event.source ?? 'app',
                severity: SEVERITIES[i % 5]!,
                service_name: event.service,
              },
              new Date(now),
            )
          : eventToInput(event);
      const fast = await decide(input, policy.compiled, now, NO_INCIDENTS);
      const reference = await decide(input, policy.compiled, now, NO_INCIDENTS, { engineOnly: true });
      const strip = ({ trace: _trace, ...rest }: typeof fast) => rest;
      expect(strip(fast)).toEqual(strip(reference));
      // Where both evaluated a rule, they agree; the reference evaluated every rule it reached.
      if (fast.paged) paged++;
    }
    expect(paged).toBeGreaterThan(1_000);
  });

  it('reports nothing as a disagreement on the corpus', async () => {
    const disagreements: string[] = [];
    for (const event of corpus.slice(0, 3000)) {
      await decide(eventToInput(event), policy.compiled, Date.parse(event.timestamp), NO_INCIDENTS, {
        onDisagreement: (stage, rule) => disagreements.push(`${stage}:${rule}`),
      });
    }
    expect(disagreements).toEqual([]);
  });
});
