// What delivery tests share: short timings, and breakers whose state is kept nowhere.
import { systemClock } from '../../src/domain/clock.js';
import { Breakers } from '../../src/deliver/breakers.js';
import type { DeliverySettings } from '../../src/deliver/settings.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import type { Metrics } from '../../src/telemetry/metrics.js';

export const SETTINGS: DeliverySettings = {
  timeout: '200ms',
  retry: { initial: '10ms', max: '40ms', budget: 3 },
  breaker: { consecutive_failures: 4, failure_rate: 1, min_requests: 100, window: '1m', cooldown: '300ms' },
  outage_backoff_max: '100ms',
};

export function memoryBreakers(metrics: Metrics): Breakers {
  return new Breakers(
    {
      store: { getBreaker: async () => undefined, putBreaker: async () => {} },
      clock: systemClock,
      logger: silentLogger(),
      metrics,
    },
    SETTINGS.breaker,
  );
}
