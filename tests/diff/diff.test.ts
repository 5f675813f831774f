// The diff core (docs/policy-diff.md): over a generated day, it reports exactly the events that the
// two policies, each deciding alone, decide differently; time windows at each event's own timestamp;
// fingerprint changes flagged; rules located.
import { describe, expect, it } from 'vitest';
import { generateEvents } from '../../scripts/gen-log-events.mjs';
import { diffEvents, type DiffSide, type SourceItem } from '../../src/diff/diff.js';
import { formatMarkdown, formatTable } from '../../src/diff/format.js';
import { eventsOfLines } from '../../src/diff/ndjson.js';
import { eventToInput, type LogEvent } from '../../src/domain/log-event.js';
import { decide, NO_INCIDENTS } from '../../src/policy/decide.js';
import { FINGERPRINT, ROUTE, sideWith, THRESHOLD, WINDOW } from './fixtures.js';

// One day from Saturday 2026-11-21 12:00 UTC: a Sunday maintenance window, nights, a Monday morning.
const DAY = generateEvents({
  count: 20_000,
  seed: 17,
  alerting: 6,
  start: '2026-11-21T12:00:00Z',
  rate: 0.23,
});
const items = (lines: readonly string[]): SourceItem[] =>
  lines.map((l, i) => ({ input: eventToInput(JSON.parse(l) as LogEvent), ref: `day:${i + 1}` }));

/** The reference: each policy decides each event on its own; the fields a reviewer compares. */
async function outcome(side: DiffSide, event: LogEvent): Promise<string> {
  const d = await decide(eventToInput(event), side.policy, Date.parse(event.timestamp), NO_INCIDENTS);
  const providers = d.paged ? [...new Set(d.routes.flatMap((r) => r.providers))] : [];
  return JSON.stringify([
    d.paged,
    d.severity,
    d.suppressed_by?.rule,
    d.fingerprint,
    providers,
    d.route?.name,
  ]);
}

describe('policy diff', () => {
  it('over a generated day reports exactly the events each policy decides differently', async () => {
    const [prev, next] = [await sideWith([]), await sideWith([THRESHOLD, WINDOW, ROUTE])];
    const report = await diffEvents(items(DAY), prev, next);
    const expected: string[] = [];
    for (const [i, line] of DAY.entries()) {
      const e = JSON.parse(line) as LogEvent;
      if ((await outcome(prev, e)) !== (await outcome(next, e))) expected.push(`day:${i + 1}`);
    }
    expect(report.events).toBe(DAY.length);
    expect(expected.length).toBeGreaterThan(10);
    expect(report.changes.map((c) => c.ref)).toEqual(expected);
    expect(report.changed).toBe(expected.length);
    // Each of the three edits shows up, attributed to its rule and file:line.
    const kinds = report.groups.map((g) => `${g.kind} ${g.from} → ${g.to}`);
    // The threshold: 95-96% no longer matches disk-almost-full, so those events fall back to their
    // level, and their fingerprint changes with it (loud: open disk incidents would be orphaned).
    expect(kinds).toContain('fingerprint {service}:disk:{host} → {service}:level:error');
    expect(report.groups[0]).toMatchObject({ kind: 'fingerprint', loud: true });
    const threshold = report.groups.find((g) => g.kind === 'severity' && g.from === 'high');
    expect(threshold?.examples[0]?.old.rule).toEqual({ name: 'disk-almost-full', at: 'classify.yaml:71' });
    expect(threshold?.examples[0]?.message).toMatch(/disk usage at 9[56]%/);
    // The route.
    expect(kinds).toContain('providers opsgenie,pagerduty → opsgenie');
    const route = report.groups.find((g) => g.to === 'opsgenie');
    expect(route?.examples[0]?.new.rule).toEqual({ name: 'payments-off-hours', at: 'paging.yaml:47' });
    // The window: only Sunday 03:00-04:00 changes.
    const window = report.groups.find((g) => g.kind === 'suppression');
    expect(window).toMatchObject({ from: 'db-maintenance', to: 'none' });
    expect(window?.examples[0]?.old.rule?.at).toBe('paging.yaml:25');
    for (const e of window?.examples ?? []) expect(e.at).toMatch(/^2026-11-22T03:/);
  });

  it('the same policy twice changes nothing', async () => {
    const side = await sideWith([]);
    const report = await diffEvents(items(DAY.slice(0, 2000)), side, side);
    expect(report).toMatchObject({ events: 2000, changed: 0, groups: [], changes: [] });
  });

  it('decides each event at its own timestamp: 03:00 on Sunday changes only where the window differs', async () => {
    const [prev, next] = [await sideWith([]), await sideWith([WINDOW])];
    const at = (timestamp: string): SourceItem => ({
      ref: timestamp,
      input: eventToInput({
        timestamp,
        service: 'order-service',
        level: 'error',
        source: 'database',
        message: 'connection refused to postgres at 10.0.0.7:5432',
      }),
    });
    const report = await diffEvents(
      [
        at('2026-11-22T02:30:00Z'), // Sunday, inside both windows
        at('2026-11-22T03:00:00Z'), // Sunday, inside the old window only
        at('2026-11-22T03:59:00Z'), // Sunday, inside the old window only
        at('2026-11-21T03:00:00Z'), // Saturday: no window either side
        at('2026-11-29T03:00:00Z'), // the next Sunday, old window only
      ],
      prev,
      next,
    );
    expect(report.changes).toEqual([
      { ref: '2026-11-22T03:00:00Z', kinds: ['paged', 'suppression'] },
      { ref: '2026-11-22T03:59:00Z', kinds: ['paged', 'suppression'] },
      { ref: '2026-11-29T03:00:00Z', kinds: ['paged', 'suppression'] },
    ]);
    const paged = report.groups.find((g) => g.kind === 'paged');
    expect(paged).toMatchObject({ from: 'does not page', to: 'pages', count: 3 });
    expect(paged?.examples[0]?.old.rule).toEqual({ name: 'db-maintenance', at: 'paging.yaml:25' });
    expect(paged?.examples[0]?.new.rule).toEqual({ name: 'db-connection-failure', at: 'classify.yaml:12' });
  });

  it('flags a changed fingerprint loudly, first, in every format', async () => {
    const [prev, next] = [await sideWith([]), await sideWith([FINGERPRINT])];
    const report = await diffEvents(items(DAY.slice(0, 5000)), prev, next);
    const first = report.groups[0];
    expect(first).toMatchObject({ kind: 'fingerprint', loud: true });
    expect(first).toMatchObject({ from: '{service}:db-connection', to: '{service}:db-conn' });
    expect(first?.examples[0]?.new.rule).toEqual({ name: 'db-connection-failure', at: 'classify.yaml:12' });
    expect(report.groups.every((g) => g.kind === 'fingerprint')).toBe(true);
    expect(formatTable(report)).toContain('!! fingerprint');
    expect(formatMarkdown(report)).toMatch(/\[!WARNING\][\s\S]*would be orphaned/);
  });

  it('reports a malformed NDJSON line with its line number and skips it', async () => {
    const lines = [
      DAY[0] as string,
      '{"timestamp": "2026-11-21T12:00:00Z", "service": ',
      '',
      DAY[1] as string,
    ];
    lines.push('{"timestamp":"2026-11-21T12:00:00Z","service":"x","level":"loud","message":"m"}');
    async function* source(): AsyncGenerator<string> {
      yield* lines;
    }
    const side = await sideWith([]);
    const report = await diffEvents(eventsOfLines(source(), 'events.ndjson'), side, side);
    expect(report.events).toBe(2);
    expect(report.problems.map((p) => p.ref)).toEqual(['events.ndjson:2', 'events.ndjson:5']);
    expect(report.problems[0]?.message).toMatch(/^not JSON/);
    expect(report.problems[1]?.message).toMatch(/level/);
  });
});
