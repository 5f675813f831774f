// Issue 11, findings 3 and 4: each new pattern in a submitted policy froze the process for about a
// second (recheck ran with spawnSync), and every pattern ever checked stayed in memory (31 requests
// with five random 50 KB patterns: 102 → 678 MB RSS). Now the check runs off the event loop, one
// child at a time, with bounds on waiting requests and on new patterns per request, and verdicts
// live in a cache bounded by count and bytes.
import { describe, expect, it } from 'vitest';
import { VerdictCache, MAX_NEW_PATTERNS_PER_REQUEST, MAX_WAITING_CHECKS } from '../../src/policy/redos.js';
import { MAX_PATTERN_CHARS } from '../../src/policy/patterns.js';
import { get, startTestApp } from '../helpers/app.js';

const TOKEN = 'a-long-api-token-for-patterns';
const AUTH = { authorization: `Bearer ${TOKEN}` };

/** A one-file candidate whose classify rules use these patterns. */
function candidateWith(patterns: string[]): string {
  const rules = patterns
    .map(
      (p, i) =>
        `  - name: r${i}\n    when: { all: [{ fact: message, operator: matches, value: ${JSON.stringify(p)} }] }\n    severity: high`,
    )
    .join('\n');
  return `apiVersion: incident-router/v1\nversion: "p"\nproviders:\n  pagerduty: { type: pagerduty, routing_key: "", severity_map: { critical: critical, high: error, medium: warning, low: info } }\nteams: { t: {} }\nservices: { s: { team: t, criticality: low } }\nclassify:\n${rules}\nroutes:\n  - name: default\n    deliver: { mode: all, providers: [pagerduty] }\n`;
}

const fresh = (n: number, tag: string): string[] =>
  Array.from({ length: n }, (_, i) => `fresh-${tag}-${i}-${Math.random().toString(36).slice(2)}.*(a|b)+x`);

async function validate(url: string, yaml: string): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${url}/api/v1/policy/validate`, {
    method: 'POST',
    headers: { 'content-type': 'application/yaml', ...AUTH },
    body: yaml,
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

describe('regular-expression checks of submitted policies', () => {
  it('run off the event loop: /livez answers while a validate with new patterns is being checked', async () => {
    const t = await startTestApp({ API_TOKEN: TOKEN });
    try {
      const order: string[] = [];
      const checking = validate(t.url, candidateWith(fresh(4, 'loop'))).then((r) => {
        order.push('validate');
        return r;
      });
      await new Promise((r) => setTimeout(r, 50)); // the request is in: its child is starting
      const live = await get(`${t.url}/livez`);
      order.push('livez');
      expect(live.status).toBe(200);
      const result = await checking;
      expect(result.body).toMatchObject({ valid: true });
      // The checker's child needs far longer than an answer from an idle event loop.
      expect(order).toEqual(['livez', 'validate']);
    } finally {
      await t.stop();
    }
  });

  it('refuse a request with too many new patterns, naming the bound', async () => {
    const t = await startTestApp({ API_TOKEN: TOKEN });
    try {
      const res = await validate(t.url, candidateWith(fresh(MAX_NEW_PATTERNS_PER_REQUEST + 1, 'many')));
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(
        new RegExp(`${MAX_NEW_PATTERNS_PER_REQUEST + 1} regular expressions not checked before`),
      );
    } finally {
      await t.stop();
    }
  });

  it('refuse with 503 and Retry-After when too many checks are waiting', async () => {
    const t = await startTestApp({ API_TOKEN: TOKEN });
    try {
      const requests = Array.from({ length: MAX_WAITING_CHECKS + 2 }, (_, i) =>
        validate(t.url, candidateWith(fresh(1, `busy${i}`))),
      );
      // The ones over the bound are refused at once, while the first ones are still being checked.
      const first = await Promise.race(
        requests.map((r) => r.then((a) => (a.status === 503 ? a : new Promise<never>(() => {})))),
      );
      expect(first.headers.get('retry-after')).toBe('5');
      expect(first.body.error).toMatchObject({ code: 'busy' });
      expect((await requests[0]!).body.valid).toBe(true);
    } finally {
      await t.stop();
    }
  });

  it('refuse patterns longer than the limit without checking them', async () => {
    const t = await startTestApp({ API_TOKEN: TOKEN });
    try {
      const res = await validate(t.url, candidateWith(['x'.repeat(MAX_PATTERN_CHARS + 1)]));
      expect(res.body.valid).toBe(false);
      expect(res.body.errors).toEqual([expect.stringMatching(/longer than 4096/)]);
    } finally {
      await t.stop();
    }
  });
});

describe('the verdict cache', () => {
  it('stays within its count and its bytes, least recently used out', () => {
    const cache = new VerdictCache(100, 10_000);
    for (let i = 0; i < 1_000; i++) cache.set(`p${i}-${'x'.repeat(200)}`, { status: 'safe' });
    expect(cache.size.entries).toBeLessThanOrEqual(100);
    expect(cache.size.chars).toBeLessThanOrEqual(10_000);
    const small = new VerdictCache(3, 1_000_000);
    for (const p of ['a', 'b', 'c']) small.set(p, { status: 'safe' });
    small.get('a'); // used: b is now the oldest
    small.set('d', { status: 'safe' });
    expect(['a', 'b', 'c', 'd'].map((p) => small.get(p) !== undefined)).toEqual([true, false, true, true]);
  });

  it('keeps no unknown verdict and no pattern larger than its byte budget', () => {
    const cache = new VerdictCache(10, 100);
    cache.set('timeout', { status: 'unknown', error: 'timeout' });
    cache.set('y'.repeat(101), { status: 'safe' });
    expect(cache.size).toEqual({ entries: 0, chars: 0 });
  });
});
