import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';

/**
 * One set of provider simulators for a test file, started once, stopped at the end, and reset
 * (incidents, requests and injected faults) before each test. `bind` receives them once started;
 * the file's own hooks registered after this call run after the reset.
 */
export function useSimulators(bind: (sandbox: Sandbox) => void): void {
  let sandbox: Sandbox | null = null;
  beforeAll(async () => {
    sandbox = await startSandbox();
    bind(sandbox);
  });
  afterAll(async () => sandbox?.stop());
  beforeEach(() => {
    for (const simulator of [sandbox?.pagerduty, sandbox?.opsgenie]) {
      simulator?.reset();
      simulator?.clearFaults();
    }
  });
}

/** The provider keys each simulator holds an incident for (dedup keys, aliases), sorted. */
export function keysAtProviders(sandbox: Sandbox): { pagerduty: string[]; opsgenie: string[] } {
  return {
    pagerduty: sandbox.pagerduty
      .incidents()
      .map((i) => i.dedupKey)
      .sort(),
    opsgenie: sandbox.opsgenie
      .alerts()
      .map((a) => a.alias)
      .sort(),
  };
}
