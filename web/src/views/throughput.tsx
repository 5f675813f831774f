// Throughput at a glance: events/s, decisions by outcome, drops and dead letters, from the stream's
// counters (totals since start, once a second) turned into rates (docs/dashboard.md).
import { useMemo } from 'preact/hooks';
import { Chart } from '../chart';
import { perSecond } from '../format';
import { useLive } from '../hooks';
import { live, sum } from '../live';

const OUTCOMES = ['paged', 'deduplicated', 'resolved', 'recorded', 'suppressed', 'ignored'];
const COLOURS = ['#c62828', '#6a1b9a', '#2e7d32', '#1565c0', '#ef6c00', '#9e9e9e'];

export function ThroughputView() {
  const version = useLive();
  const rates = live.rates;
  const last = rates.at(-1);
  const counters = live.counters;
  const data = useMemo(() => {
    const x = rates.map((r) => r[0]);
    return {
      events: [x, rates.map((r) => r[1]), rates.map((r) => r[3]), rates.map((r) => r[4])] as [
        number[],
        ...number[][],
      ],
      decisions: [x, ...OUTCOMES.map((o) => rates.map((r) => r[2][o] ?? 0))] as [number[], ...number[][]],
    };
  }, [version]);
  return (
    <section data-testid="throughput-view">
      <h2>Throughput</h2>
      <dl class="facts">
        <dt>events</dt>
        <dd data-testid="events-rate">{perSecond(last?.[1])}</dd>
        <dt>dropped</dt>
        <dd>
          {perSecond(last?.[3])} now · {counters ? sum(counters.events_dropped).toLocaleString() : '–'} since
          start
        </dd>
        <dt>dead letters</dt>
        <dd>
          {perSecond(last?.[4])} now · {counters ? sum(counters.dead_letters).toLocaleString() : '–'} since
          start
        </dd>
        {live.folded > 0 ? (
          <>
            <dt>folded</dt>
            <dd>{live.folded} stream items summarised during storms</dd>
          </>
        ) : null}
      </dl>
      <Chart
        title="events per second"
        data={data.events}
        series={[
          { label: 'received', stroke: '#1565c0' },
          { label: 'dropped', stroke: '#ef6c00' },
          { label: 'dead letters', stroke: '#c62828' },
        ]}
      />
      <Chart
        title="decisions per second, by outcome"
        data={data.decisions}
        series={OUTCOMES.map((o, i) => ({ label: o, stroke: COLOURS[i] as string }))}
      />
      {counters ? (
        <table>
          <thead>
            <tr>
              <th>since start</th>
              <th>by</th>
            </tr>
          </thead>
          <tbody>
            {(['events_received', 'decisions', 'events_dropped', 'dead_letters'] as const).map((k) => (
              <tr key={k}>
                <td>{k.replace('_', ' ')}</td>
                <td>
                  {Object.entries(counters[k])
                    .map(([label, n]) => `${label}: ${n.toLocaleString()}`)
                    .join(' · ') || '0'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="muted">Waiting for the first counters…</p>
      )}
    </section>
  );
}
