// Fault injection shared by every simulator: the failures a provider or the network can throw at the
// sidecar (error statuses, slowness, silence, cut connections), armed on command and consumed by the
// requests they hit. Going down / coming back up is a server-level switch (see http.ts).

/** Which requests a fault applies to: path prefix and/or the simulator's action name (PD `event_action`, OpsGenie `create|acknowledge|…`). */
export interface FaultScope {
  path?: string;
  action?: string;
}

interface FaultCommon {
  /** How many matching requests the fault hits; omitted = every matching request until cleared. */
  times?: number;
  scope?: FaultScope;
}

export type FaultSpec =
  | (FaultCommon & { kind: 'status'; status: number; retryAfterSec?: number; body?: unknown })
  | (FaultCommon & { kind: 'latency'; ms: number })
  | (FaultCommon & { kind: 'hang' })
  | (FaultCommon & { kind: 'drop' });

export type TerminalFault = Extract<FaultSpec, { kind: 'status' | 'hang' | 'drop' }>;

export interface ActiveFault {
  id: number;
  spec: FaultSpec;
  /** Hits left; null = until cleared. */
  remaining: number | null;
  hits: number;
}

/** What the faults armed now do to one request: wait `delayMs`, then maybe end it abnormally. */
export interface FaultPlan {
  delayMs: number;
  terminal: TerminalFault | null;
  /** Short description for the request log, e.g. `status 503`, `latency 200ms + hang`. */
  label: string | null;
}

export interface FaultTarget {
  path: string;
  action: string | undefined;
}

export class FaultInjector {
  private faults: ActiveFault[] = [];
  private nextId = 1;

  add(spec: FaultSpec): ActiveFault {
    const fault: ActiveFault = { id: this.nextId++, spec, remaining: spec.times ?? null, hits: 0 };
    this.faults.push(fault);
    return { ...fault };
  }

  clear(): void {
    this.faults = [];
  }

  list(): ActiveFault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  /** Consumes the faults that match: every latency adds up; the first status/hang/drop ends the request. */
  take(target: FaultTarget): FaultPlan {
    let delayMs = 0;
    let terminal: TerminalFault | null = null;
    const labels: string[] = [];
    for (const fault of this.faults) {
      if (!matches(fault.spec.scope, target)) continue;
      const { spec } = fault;
      if (spec.kind === 'latency') {
        delayMs += spec.ms;
        labels.push(`latency ${spec.ms}ms`);
      } else if (terminal === null) {
        terminal = spec;
        labels.push(spec.kind === 'status' ? `status ${spec.status}` : spec.kind);
      } else {
        continue;
      }
      fault.hits += 1;
      if (fault.remaining !== null) fault.remaining -= 1;
    }
    this.faults = this.faults.filter((f) => f.remaining === null || f.remaining > 0);
    return { delayMs, terminal, label: labels.length === 0 ? null : labels.join(' + ') };
  }
}

function matches(scope: FaultScope | undefined, target: FaultTarget): boolean {
  if (scope === undefined) return true;
  if (scope.path !== undefined && !target.path.startsWith(scope.path)) return false;
  if (scope.action !== undefined && scope.action !== target.action) return false;
  return true;
}
