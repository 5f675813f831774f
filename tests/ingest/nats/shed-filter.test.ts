// The load-shedding pre-check (src/ingest/nats/shed-filter.ts, docs/nats.md "Load shedding"): it
// may keep noise, but must never clear an event that would page or resolve.
import { describe, expect, it } from 'vitest';
import { eventToInput } from '../../../src/domain/log-event.js';
import { decideNow, NO_INCIDENTS } from '../../../src/policy/decide.js';
import { requiredWords, shedFilter } from '../../../src/ingest/nats/shed-filter.js';
import { parseEvent } from '../../../src/ingest/validate.js';
import { generateEvents } from '../../../scripts/gen-log-events.mjs';
import { compileSources, shippedPolicy } from '../../helpers/policy.js';
import { readPolicyDir, type PolicySource } from '../../../src/policy/load.js';
import { SHIPPED_POLICY_DIR } from '../../helpers/policy.js';

const NOW = Date.parse('2026-11-24T15:00:00Z');
const encode = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('requiredWords', () => {
  it('takes the longest literal run of each top-level alternative', () => {
    expect(requiredWords('replica lag \\d+s exceeds')).toEqual(['replica lag ']);
    expect(requiredWords('connection refused|database connection (failed|lost)')).toEqual([
      'connection refused',
      'database connection ',
    ]);
    expect(requiredWords('colou?r fade')).toEqual([
      // "u" is optional: the runs are "colo" and "r fade"
      'r fade',
    ]);
  });

  it('gives up when an alternative has no word or the pattern is beyond it', () => {
    expect(requiredWords('ab|connection refused')).toBeNull();
    expect(requiredWords('(?i)panic')).toBeNull();
    expect(requiredWords('\\x41bc timeout')).toBeNull();
    expect(requiredWords('.*')).toBeNull();
  });
});

describe('shedFilter on the shipped policy', () => {
  it.each([
    ["the policy's patterns run on the fields they test", true, 0.95],
    ['words alone', false, 0.85],
  ])(
    'never clears a generated event that pages or resolves, and clears most everyday noise: %s',
    async (_, exact, share) => {
      const policy = await shippedPolicy();
      const filter = shedFilter(policy.loaded.document, exact ? policy.compiled.patterns : null);
      expect(filter).not.toBeNull();
      let matters = 0;
      let noise = 0;
      let cleared = 0;
      for (const seed of [1, 2, 3]) {
        for (const line of generateEvents({ count: 20_000, alerting: 10, seed, invalid: 1 })) {
          const raw = encode(line);
          const parsed = parseEvent(raw);
          const mayMatter = filter!.mayMatter(raw);
          if (!parsed.ok) continue;
          const d = await decideNow(eventToInput(parsed.value), policy.compiled, NOW, NO_INCIDENTS);
          if (d.paged || d.resolves !== null) {
            matters++;
            expect(mayMatter, line).toBe(true);
          } else {
            noise++;
            if (!mayMatter) cleared++;
          }
        }
      }
      expect(matters).toBeGreaterThan(1_000);
      // Words alone: about 90% (80% while a rule's `any` was bounded by one word of each branch);
      // with the patterns run: nearly all.
      expect(cleared / noise).toBeGreaterThan(share);
    },
  );

  it('keeps what it cannot read: escapes, non-ASCII text, a missing or odd level', async () => {
    const filter = shedFilter((await shippedPolicy()).loaded.document)!;
    const line = (fields: Record<string, unknown>): Uint8Array =>
      encode(JSON.stringify({ timestamp: '2026-11-24T15:00:00Z', service: 'search', ...fields }));
    expect(filter.mayMatter(line({ level: 'info', message: 'cache hit' }))).toBe(false);
    expect(filter.mayMatter(line({ level: 'info', message: 'connection refused' }))).toBe(true);
    expect(filter.mayMatter(line({ level: 'info', message: 'CONNECTION REFUSED' }))).toBe(true);
    expect(filter.mayMatter(line({ level: 'info', message: 'pool \u0072ecovered' }))).toBe(false);
    expect(filter.mayMatter(encode('{"level":"info","message":"conn\\u0065ction refused"}'))).toBe(true);
    expect(filter.mayMatter(line({ level: 'info', message: 'caf\u00e9' }))).toBe(true);
    expect(filter.mayMatter(line({ message: 'no level' }))).toBe(true);
    expect(filter.mayMatter(encode('{"level":"info","level":"error","message":"x"}'))).toBe(true);
    expect(filter.mayMatter(encode('{"level":"info","attributes":{"level":"fatal"},"message":"x"}'))).toBe(
      true,
    );
    expect(filter.mayMatter(encode('{"level":"info","attributes":{"level":"info"},"message":"x"}'))).toBe(
      false,
    );
    expect(filter.mayMatter(encode('{"level":"INFO","message":"x"}'))).toBe(true);
    expect(filter.mayMatter(line({ level: 'error', message: 'anything' }))).toBe(true);
  });

  it("reads a rule's conditions together: `source: database` and an error level, not `database` alone", async () => {
    // db-connection: any of [a message pattern, all of [source database, level error|fatal|critical]].
    const filter = shedFilter((await shippedPolicy()).loaded.document)!;
    const db = (fields: Record<string, unknown>): Uint8Array =>
      encode(
        JSON.stringify({
          timestamp: '2026-11-24T15:00:00Z',
          service: 'search',
          source: 'database',
          ...fields,
        }),
      );
    expect(filter.mayMatter(db({ level: 'warn', message: 'query took 12ms: SELECT 1' }))).toBe(false);
    expect(filter.mayMatter(db({ level: 'warn', message: 'too many connections' }))).toBe(true);
    expect(filter.mayMatter(db({ level: 'warn', message: 'query failed', detail: 'CRITICAL path' }))).toBe(
      true,
    );
  });

  it("runs a rule's pattern on the field it tests when the raw text gives its value exactly", async () => {
    const policy = await shippedPolicy();
    const filter = shedFilter(policy.loaded.document, policy.compiled.patterns)!;
    const at = { timestamp: '2026-11-24T15:00:00Z', service: 'search', level: 'warn' };
    const line = (fields: Record<string, unknown>): Uint8Array =>
      encode(JSON.stringify({ ...at, ...fields }));
    // certificate-expiring pages at 0-3 days; later ones are only recorded (certificate-renewal-due).
    expect(
      filter.mayMatter(line({ message: 'tls certificate for api.example.com expires in 12 days' })),
    ).toBe(false);
    expect(filter.mayMatter(line({ message: 'tls certificate for api.example.com expires in 2 days' }))).toBe(
      true,
    );
    // The value cannot be read exactly: kept.
    const twice =
      '{"timestamp":"2026-11-24T15:00:00Z","service":"search","level":"warn","message":"tls certificate for a.example expires in 12 days","attributes":{"message":"tls certificate for a.example expires in 2 days"}}';
    expect(filter.mayMatter(encode(twice))).toBe(true);
    expect(
      filter.mayMatter(encode('{"level":"warn","message":["certificate for a expires in 2 days"]}')),
    ).toBe(true);
    // Without the policy's patterns: words only, so both are kept.
    const words = shedFilter(policy.loaded.document)!;
    expect(words.mayMatter(line({ message: 'tls certificate for api.example.com expires in 12 days' }))).toBe(
      true,
    );
  });

  it('turns itself off for a classify rule it cannot bound', async () => {
    const sources = (await readPolicyDir(SHIPPED_POLICY_DIR)) as PolicySource[];
    const edited = sources.map((s) =>
      s.name === 'classify.yaml' && 'text' in s
        ? {
            ...s,
            text: s.text.replace(
              'classify:\n',
              'classify:\n  - name: anything-from-search\n    priority: 1000\n    when: { all: [{ fact: criticality, operator: equal, value: low }] }\n    severity: high\n',
            ),
          }
        : s,
    );
    expect(shedFilter(compileSources(edited).loaded.document)).toBeNull();
  });
});
