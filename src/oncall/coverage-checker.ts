// The coverage check (docs/policy-language.md, "Coverage gaps"): at start, on every policy change
// and every `settings.coverage_check.every`, each schedule is checked over the horizon; a gap
// raises a `coverage_gap` alert through the pipeline (so the policy routes it), a clean check
// resolves it. The same fingerprint per schedule makes repeated checks, and the checks of every
// replica of a cluster, one incident. When a check is due is read from the injected clock: a
// real timer only polls, so tests move the clock and call `tick()`.
import type { Clock } from '../domain/clock.js';
import { durationMs } from '../domain/duration.js';
import { errorMessage } from '../errors.js';
import type { PipelineInput } from '../domain/log-event.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { Logger } from '../telemetry/logger.js';
import { coverageFingerprint, coverageInput, coverageReports, type CoverageReport } from './coverage.js';

const POLL_MS = 30_000;
/** After a failed alert (state unreachable), the next check is due this soon. */
const RETRY_MS = 60_000;
/** Checks asked for by escalation tiers that found a schedule empty: at most one this often. */
const SOON_AT_MOST_EVERY_MS = 60_000;

export interface CoverageCheckerDeps {
  policy: () => CompiledPolicy;
  pipeline: { process(input: PipelineInput): Promise<unknown> };
  clock: Clock;
  logger: Logger;
  /**
   * Whether an incident with this fingerprint is open (as this replica knows). A clean check sends
   * its resolve only then: otherwise every check would count a resolve of nothing as a decision.
   */
  isOpen?: (fingerprint: string) => boolean;
}

export class CoverageChecker {
  private nextDueMs = Number.NEGATIVE_INFINITY;
  private lastCheckMs = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<CoverageReport[]> = Promise.resolve([]);
  /** Schedules of the policy checked last: one that disappears has its gap resolved. */
  private checked = new Set<string>();

  constructor(private readonly deps: CoverageCheckerDeps) {}

  /**
   * Checks once the I/O already waiting has been served, then whenever `tick` finds a check due (a
   * real timer calls `tick` every 30 s). The first check walks every schedule (15–20 ms of a start
   * with the shipped policy): a readiness probe that came in as the sidecar began listening is
   * answered first (docs/performance.md, "Restart and footprint"). Stopped before it ran, it does
   * not run.
   */
  start(pollMs = POLL_MS): Promise<CoverageReport[]> {
    this.timer = setInterval(() => void this.tick(), pollMs);
    this.timer.unref();
    const served = new Promise<void>((resolve) => setImmediate(resolve));
    this.running = Promise.all([this.running, served]).then(() =>
      this.timer === null ? [] : this.checkNow(),
    );
    return this.running;
  }

  stop(): Promise<unknown> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    return this.running;
  }

  /** A check if one is due by the clock; null otherwise. */
  tick(): Promise<CoverageReport[]> | null {
    return this.deps.clock.now() >= this.nextDueMs ? this.check() : null;
  }

  /**
   * An escalation tier found these schedules with nobody on call: a gap now, which the periodic
   * check might not see for hours. Checks at once, unless their gaps are already open, or within a
   * minute of the last check (then the next tick does, so a storm of tiers costs one check).
   */
  checkSoon(schedules: readonly string[]): void {
    const isOpen = this.deps.isOpen;
    if (isOpen !== undefined && schedules.every((s) => isOpen(coverageFingerprint(s)))) return;
    const nowMs = this.deps.clock.now();
    const earliest = this.lastCheckMs + SOON_AT_MOST_EVERY_MS;
    if (nowMs >= earliest) void this.check();
    else this.nextDueMs = Math.min(this.nextDueMs, earliest);
  }

  /** One check of every schedule, after any check still running; never rejects. */
  check(): Promise<CoverageReport[]> {
    this.running = this.running.then(() => this.checkNow());
    return this.running;
  }

  private async checkNow(): Promise<CoverageReport[]> {
    const { clock, logger } = this.deps;
    const policy = this.deps.policy();
    const nowMs = clock.now();
    this.lastCheckMs = nowMs;
    this.nextDueMs = nowMs + durationMs(policy.settings.coverage_check.every);
    let reports: CoverageReport[] = [];
    try {
      reports = coverageReports(policy, nowMs);
    } catch (err) {
      logger.error({ event: 'coverage_check_failed', err: errorMessage(err) }, 'coverage check failed');
      return [];
    }
    const gone = [...this.checked].filter((name) => !policy.schedules.has(name));
    this.checked = new Set(reports.map((r) => r.schedule));
    const severity = policy.settings.coverage_check.severity;
    const all = [...reports, ...gone.map((schedule) => emptyReport(schedule, reports[0]))];
    let failed = false;
    for (const report of all) {
      const isOpen = this.deps.isOpen;
      if (report.gaps.length === 0 && isOpen && !isOpen(coverageFingerprint(report.schedule))) continue;
      if (report.gaps.length > 0)
        logger.warn(
          { event: 'coverage_gap', schedule: report.schedule, required: report.required, gaps: report.gaps },
          `schedule ${report.schedule} has ${report.gaps.length} coverage gap(s) before ${report.to}`,
        );
      await this.deps.pipeline.process(coverageInput(report, severity, nowMs)).catch((err: unknown) => {
        failed = true;
        logger.error(
          { event: 'coverage_alert_failed', schedule: report.schedule, err: errorMessage(err) },
          `coverage alert for schedule ${report.schedule} could not be recorded; trying again within a minute`,
        );
      });
    }
    if (failed) this.nextDueMs = Math.min(this.nextDueMs, nowMs + RETRY_MS);
    const short = reports.filter((r) => r.gaps.length > 0).map((r) => r.schedule);
    logger.debug(
      {
        event: 'coverage_checked',
        schedules: reports.length,
        short,
        next_at: new Date(this.nextDueMs).toISOString(),
      },
      `coverage checked: ${reports.length} schedule(s), ${short.length} short`,
    );
    return reports;
  }
}

/** A schedule no longer in the policy: no gaps, so its open gap (if any) resolves. */
function emptyReport(schedule: string, like: CoverageReport | undefined): CoverageReport {
  return { schedule, from: like?.from ?? '', to: like?.to ?? '', required: 0, gaps: [] };
}
