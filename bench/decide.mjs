// Decisions per second for the shipped policy over 200k generated events (3% paging), beside a
// ceiling measured in the same run: the same events through UTF-8 decoding, JSON.parse and schema
// validation only. Paging and non-paging costs are reported separately.
import { generateEvents } from '../scripts/gen-log-events.mjs';
import { parseEvent } from '../dist/ingest/validate.js';
import { decide, NO_INCIDENTS } from '../dist/policy/decide.js';
import { eventToInput } from '../dist/domain/log-event.js';
import { preparePolicy } from '../dist/policy/active.js';
import { readPolicyDir } from '../dist/policy/load.js';
import { fmt, pass, repeat, table } from './lib.mjs';

export async function benchDecide({ count = 200_000 } = {}) {
  const sources = await readPolicyDir(new URL('../policies', import.meta.url).pathname);
  const prepared = preparePolicy(sources, { env: {}, sandbox: true }, new Date());
  if (!prepared.ok) throw new Error('shipped policy invalid');
  const policy = prepared.policy.compiled;
  const buffers = generateEvents({ count, seed: 2026, alerting: 3 }).map((l) => Buffer.from(l));
  const now = Date.parse('2026-11-24T15:00:00Z'); // Tuesday, business hours in New York

  const ceiling = await repeat(3, async () => {
    const t = performance.now();
    for (const b of buffers) parseEvent(b);
    return count / ((performance.now() - t) / 1000);
  });
  let paged = 0;
  const full = await repeat(3, async () => {
    paged = 0;
    const t = performance.now();
    for (const b of buffers) {
      const v = parseEvent(b);
      if (v.ok && (await decide(eventToInput(v.value), policy, now, NO_INCIDENTS)).paged) paged++;
    }
    return count / ((performance.now() - t) / 1000);
  });

  // Cost per event of `decide` alone, for events that page and for those that do not.
  const events = buffers.map((b) => parseEvent(b).value);
  const paging = [];
  const quiet = [];
  for (const e of events)
    ((await decide(eventToInput(e), policy, now, NO_INCIDENTS)).paged ? paging : quiet).push(e);
  const costUs = async (set, options = {}) =>
    repeat(3, async () => {
      const t = performance.now();
      for (const e of set) await decide(eventToInput(e), policy, now, NO_INCIDENTS, options);
      return ((performance.now() - t) * 1000) / set.length;
    });
  const pagingUs = await costUs(paging);
  const pagingColdUs = await costUs(paging, { memo: false });
  const quietUs = await costUs(quiet);
  const quietColdUs = await costUs(quiet, { memo: false });

  const ratio = full / ceiling;
  const info = (figure, measured) => ({
    figure,
    measured,
    ceiling: '',
    ratio: '',
    target: 'reported',
    met: '',
  });
  const rows = [
    {
      figure: `decisions/s, ${fmt(count)} events, ${((paged / count) * 100).toFixed(1)}% paging`,
      measured: fmt(full),
      ceiling: fmt(ceiling),
      ratio: ratio.toFixed(3),
      target: '≥ 100,000/s and ratio ≥ 0.15',
      met: pass(full >= 100_000 && ratio >= 0.15),
    },
    info(`decide() per paging event (${fmt(paging.length)})`, `${pagingUs.toFixed(1)} µs`),
    info('  same, json-rules-engine asked every time (no memo)', `${pagingColdUs.toFixed(1)} µs`),
    info(`decide() per non-paging event (${fmt(quiet.length)})`, `${quietUs.toFixed(2)} µs`),
    info('  same, json-rules-engine asked every time (no memo)', `${quietColdUs.toFixed(2)} µs`),
  ];
  table('Policy decisions (issue 2)', rows);
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) await benchDecide();
