// Providers: per provider instance, healthy or not, breaker state, success rate and latency p50/p99
// as live charts over the last 15 minutes, pending deliveries and the last error (docs/dashboard.md).
import { useMemo } from 'preact/hooks';
import { Chart } from '../chart';
import { Badge } from '../components';
import { ago, ms, percent, time } from '../format';
import { useLive } from '../hooks';
import { live, type HealthPoint } from '../live';
import type { ProviderHealth } from '../types';

function healthy(p: ProviderHealth): boolean {
  return p.breaker.kind === 'closed' && (p.health.success_rate === null || p.health.success_rate >= 0.5);
}

function columns(points: HealthPoint[]): [number[], (number | null)[], (number | null)[], (number | null)[]] {
  return [points.map((p) => p[0]), points.map((p) => p[1]), points.map((p) => p[2]), points.map((p) => p[3])];
}

const RATE_SERIES = [{ label: 'success', stroke: '#2e7d32', unit: '%' }];
const LATENCY_SERIES = [
  { label: 'p50', stroke: '#1565c0', unit: ' ms' },
  { label: 'p99', stroke: '#c62828', unit: ' ms' },
];

function ProviderCard({ p, version }: { p: ProviderHealth; version: number }) {
  const points = live.history.get(p.name) ?? [];
  const [x, rate, p50, p99] = useMemo(() => columns(points), [version, points.length]);
  return (
    <article class="provider" data-provider={p.name}>
      <header>
        <h3>
          {p.name} <span class="muted">({p.type})</span>
        </h3>
        <Badge kind={healthy(p) ? 'healthy' : 'unhealthy'}>{healthy(p) ? 'healthy' : 'unhealthy'}</Badge>{' '}
        <span data-testid="breaker">
          breaker <Badge kind={`breaker-${p.breaker.kind}`}>{p.breaker.kind}</Badge>
        </span>
      </header>
      <dl class="facts">
        <dt>success rate</dt>
        <dd>
          {percent(p.health.success_rate)} of the last {p.health.requests} ({p.health.failures} failed)
        </dd>
        <dt>latency</dt>
        <dd>
          p50 {ms(p.health.latency_p50_ms)} · p99 {ms(p.health.latency_p99_ms)}
        </dd>
        <dt>pending</dt>
        <dd>{p.pending}</dd>
        <dt>last success</dt>
        <dd>{ago(p.health.last_success_at)}</dd>
        <dt>last error</dt>
        <dd class="small">
          {p.health.last_error ? `${time(p.health.last_failure_at)}: ${p.health.last_error}` : 'none'}
        </dd>
      </dl>
      <Chart title="success rate (%)" data={[x, rate]} series={RATE_SERIES} yRange={[0, 100]} />
      <Chart title="latency (ms)" data={[x, p50, p99]} series={LATENCY_SERIES} />
    </article>
  );
}

export function ProvidersView() {
  const version = useLive();
  return (
    <section data-testid="providers-view">
      <h2>Providers</h2>
      {live.providers.length === 0 ? <p class="muted">Waiting for the first health snapshot…</p> : null}
      <div class="providers">
        {live.providers.map((p) => (
          <ProviderCard key={p.name} p={p} version={version} />
        ))}
      </div>
      <h3>Breaker changes</h3>
      <ul data-testid="breaker-changes">
        {live.breakers.map((b) => (
          <li key={`${b.provider}:${b.at}`}>
            {time(b.at)} {b.provider}: {b.from} → {b.to}
          </li>
        ))}
        {live.breakers.length === 0 ? <li class="muted">none since this page opened</li> : null}
      </ul>
    </section>
  );
}
