// Coverage of every schedule over the horizon, and the `coverage_gap` alerts that say so
// (docs/policy-language.md, "Coverage gaps"). Pure: the checker (coverage-checker.ts) runs it and
// sends what it returns through the pipeline.
import { IANAZone } from 'luxon';
import { durationMs } from '../domain/duration.js';
import type { PipelineInput } from '../domain/log-event.js';
import type { Severity } from '../domain/severity.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { IntervalSpec } from '../policy/types.js';
import type { CompiledSchedule, Restriction } from './model.js';
import { restrictionOf } from './restriction.js';
import { gaps, type Gap } from './timeline.js';

const MINUTE_MS = 60_000;

/** The service and rule of the alerts the coverage check raises; routes match on them. */
export const COVERAGE_SERVICE = 'incident-router';
export const COVERAGE_RULE = 'coverage_gap';
export const coverageFingerprint = (schedule: string): string => `${COVERAGE_RULE}:${schedule}`;

export interface GapJson {
  start: string;
  end: string;
  required: number;
  fewest: number;
  on_call: string[];
}

export interface CoverageReport {
  schedule: string;
  from: string;
  to: string;
  required: number;
  gaps: GapJson[];
}

export function gapJson(gap: Gap): GapJson {
  return {
    start: new Date(gap.startMs).toISOString(),
    end: new Date(gap.endMs).toISOString(),
    required: gap.required,
    fewest: gap.fewest,
    on_call: gap.onCall,
  };
}

/** The schedule's gaps in [fromMs, toMs), clipped to its `coverage_during` window when it has one. */
export function scheduleGaps(
  policy: CompiledPolicy,
  schedule: CompiledSchedule,
  fromMs: number,
  toMs: number,
): Gap[] {
  return gaps(
    schedule,
    fromMs,
    toMs,
    schedule.coverageDuring === null ? null : duringOf(policy, schedule.coverageDuring),
  );
}

/**
 * A time window as a restriction: interval entries change only at their wall-clock bounds
 * (restriction.ts); a window with cron entries is asked minute by minute.
 */
function duringOf(policy: CompiledPolicy, name: string): Restriction | null {
  const window = policy.windows.get(name);
  if (window === undefined) return null;
  const entries = policy.document.time_windows[name] ?? [];
  if (entries.every((e) => !('cron' in e) && !('duration' in e)))
    return restrictionOf(window, entries as IntervalSpec[], IANAZone.create(policy.settings.timezone));
  return {
    contains: (atMs) => window.contains(atMs),
    boundaries(fromMs, toMs) {
      const out: number[] = [];
      for (let at = Math.ceil(fromMs / MINUTE_MS) * MINUTE_MS; at < toMs; at += MINUTE_MS) out.push(at);
      return out;
    },
  };
}

/** Every schedule checked over [nowMs, nowMs + horizon). */
export function coverageReports(policy: CompiledPolicy, nowMs: number): CoverageReport[] {
  const toMs = nowMs + durationMs(policy.settings.coverage_check.horizon);
  return [...policy.schedules.values()].map((schedule) => ({
    schedule: schedule.name,
    from: new Date(nowMs).toISOString(),
    to: new Date(toMs).toISOString(),
    required: schedule.minCoverage,
    gaps: scheduleGaps(policy, schedule, nowMs, toMs).map(gapJson),
  }));
}

/** The alert a report raises (it has gaps) or the resolve it sends (it has none). */
export function coverageInput(report: CoverageReport, severity: Severity, nowMs: number): PipelineInput {
  const fingerprint = coverageFingerprint(report.schedule);
  const first = report.gaps[0];
  const title =
    first === undefined
      ? `Coverage restored on schedule ${report.schedule}`
      : `Coverage gap on schedule ${report.schedule}: fewer than ${report.required} on call ` +
        `from ${first.start} to ${first.end}` +
        (report.gaps.length > 1 ? ` and ${report.gaps.length - 1} more interval(s)` : '');
  const open = first !== undefined;
  return {
    event: {
      timestamp: new Date(nowMs).toISOString(),
      service: COVERAGE_SERVICE,
      level: open ? 'error' : 'info',
      message: title,
      source: 'coverage_check',
      attributes: {
        schedule: report.schedule,
        required: report.required,
        from: report.from,
        to: report.to,
        gaps: report.gaps,
      },
    },
    initialSeverity: open ? severity : 'info',
    builtIn: {
      rule: COVERAGE_RULE,
      severity: open ? severity : 'info',
      title,
      fingerprint,
      resolves: open ? null : fingerprint,
    },
  };
}

/** Every coverage gap within the horizon from `nowMs`, one line each (`incident-router validate` warns with them). */
export function coverageWarnings(policy: CompiledPolicy, nowMs: number): string[] {
  return coverageReports(policy, nowMs).flatMap((report) =>
    report.gaps.map(
      (g) =>
        `schedule "${report.schedule}": ${g.fewest} of ${g.required} required on call from ${g.start} to ${g.end}` +
        (g.on_call.length > 0 ? ` (on call throughout: ${g.on_call.join(', ')})` : ''),
    ),
  );
}
