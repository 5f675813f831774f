// The incident page, `/?incident=<id>`: the link PagerDuty and OpsGenie receive (docs/dashboard.md,
// "Incident page"). The whole journey as a timeline (the log event, the decision and its trace, each
// delivery with its attempts and failover, escalation tiers, acknowledgement and resolution with
// where they came from), live, with acknowledge and resolve buttons.
import { useState } from 'preact/hooks';
import { api, errorText } from '../api';
import { Badge, DecisionView, ErrorBox, Routes, Section } from '../components';
import { ms, time } from '../format';
import { useLive, useLoad } from '../hooks';
import { live } from '../live';
import { useActivePolicy } from '../policy-info';
import type { AuditEntry, Decision, IncidentDetail } from '../types';

/** Timeline entries that hold the opening decision. */
const OPENING = ['opened', 'storm_opened', 'flap_held'];

export function IncidentView({ id }: { id: string }) {
  useLive();
  // Reloaded when the stream brings a change or a delivery attempt of this incident.
  const change = live.changes.find((c) => c.incident_id === id)?.id ?? '';
  const attempt = live.deliveries.find((d) => d.incident_id === id);
  const stale = `${change}:${attempt?.delivery_id ?? ''}:${attempt?.at ?? ''}:${live.epoch}`;
  const detail = useLoad(
    () => api<IncidentDetail>('GET', `/api/v1/incidents/${encodeURIComponent(id)}`),
    [id],
    stale,
  );
  const policy = useActivePolicy();
  const [action, setAction] = useState<{ busy: boolean; error: string | null; done: string | null }>({
    busy: false,
    error: null,
    done: null,
  });

  async function act(kind: 'acknowledge' | 'resolve'): Promise<void> {
    setAction({ busy: true, error: null, done: null });
    try {
      const r = await api<{ changed: boolean }>(
        'POST',
        `/api/v1/incidents/${encodeURIComponent(id)}/${kind}`,
        {
          actor: 'dashboard',
        },
      );
      setAction({ busy: false, error: null, done: r.changed ? `${kind}d` : `already ${kind}d` });
      detail.reload();
    } catch (err) {
      setAction({ busy: false, error: errorText(err), done: null });
    }
  }

  if (detail.data === null)
    return (
      <section data-testid="incident-view">
        <h2>Incident {id}</h2>
        {detail.error ? <ErrorBox error={detail.error} /> : <p class="muted">loading…</p>}
      </section>
    );
  const i = detail.data;
  const opened = i.timeline.find((e) => OPENING.includes(e.type));
  const decision = (
    opened?.details as { decision?: Decision & { policy?: { version?: string } } } | undefined
  )?.decision;
  const attempts = live.deliveries.filter((d) => d.incident_id === id);
  return (
    <section data-testid="incident-view">
      <h2>
        <Badge kind={i.severity}>{i.severity}</Badge> {i.title}
      </h2>
      <ErrorBox error={detail.error} />
      <div class="actions">
        <span data-testid="incident-state">
          <Badge kind={i.state}>{i.state}</Badge>
        </span>
        <button
          type="button"
          disabled={action.busy || i.state !== 'triggered'}
          onClick={() => void act('acknowledge')}
        >
          Acknowledge
        </button>
        <button
          type="button"
          disabled={action.busy || i.state === 'resolved'}
          onClick={() => void act('resolve')}
        >
          Resolve
        </button>
        {action.done ? <span class="ok">{action.done}</span> : null}
      </div>
      <ErrorBox error={action.error} />
      <dl class="facts">
        <dt>incident</dt>
        <dd>
          <code>{i.id}</code> · correlation <code>{i.correlation_id}</code>
        </dd>
        <dt>service</dt>
        <dd>
          {i.service} · team {i.team}
        </dd>
        <dt>fingerprint</dt>
        <dd>
          <code>{i.fingerprint}</code> · key <code>{i.provider_key}</code> · seen ×{i.occurrences}, last{' '}
          {time(i.last_seen)}
        </dd>
        <dt>route</dt>
        <dd>
          <Routes routes={i.routes} />
        </dd>
        <dt>providers</dt>
        <dd data-testid="holds">
          {Object.entries(i.holds).map(([name, h]) => (
            <span key={name} class="hold" data-provider={name}>
              {name}: <Badge kind={h.state}>{h.state}</Badge>{' '}
            </span>
          ))}
        </dd>
        {i.escalation ? (
          <>
            <dt>escalation</dt>
            <dd>
              {i.escalation.policy}: {i.escalation.status}, tier {i.escalation.fired_tier} fired
              {i.escalation.next ? `; tier ${i.escalation.next.tier} at ${time(i.escalation.next.at)}` : ''}
            </dd>
          </>
        ) : null}
      </dl>

      <Section title="The log event">
        <pre class="event">{JSON.stringify(i.event, null, 2)}</pre>
      </Section>
      {decision ? (
        <Section title={`Decision (policy ${decision.policy?.version ?? '?'})`}>
          <DecisionView decision={decision} rules={policy.data?.rules ?? {}} />
        </Section>
      ) : null}
      <Section title="Deliveries" testId="deliveries">
        <table>
          <thead>
            <tr>
              <th>action</th>
              <th>route</th>
              <th>candidates</th>
              <th>sent to</th>
              <th>status</th>
              <th>attempts</th>
              <th>last error</th>
            </tr>
          </thead>
          <tbody>
            {i.deliveries.map((d) => (
              <tr key={d.id} data-delivery={d.id}>
                <td>
                  {d.action}
                  {d.tier ? ` (tier ${d.tier})` : ''}
                </td>
                <td>{d.route}</td>
                <td>
                  {d.mode}: {d.candidates.join(' → ')}
                </td>
                <td>
                  {d.result
                    ? `${d.result.provider}: HTTP ${d.result.status} in ${ms(d.result.latency_ms)}`
                    : (d.candidates[d.current] ?? '–')}
                  {d.result && d.candidates.indexOf(d.result.provider) > 0 ? ' (failover)' : ''}
                  {d.origin ? <div class="muted small">synced from {d.origin}</div> : null}
                </td>
                <td>
                  <Badge kind={d.status}>{d.status}</Badge>
                </td>
                <td>{d.attempts}</td>
                <td class="small">
                  {d.last_error
                    ? `${d.last_error.provider}: ${d.last_error.reason}${d.last_error.status !== null ? ` (HTTP ${d.last_error.status})` : ''} ${d.last_error.message}`
                    : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {attempts.length > 0 ? (
          <>
            <h3>Attempts seen live</h3>
            <ul class="attempts" data-testid="attempts">
              {attempts.map((a) => (
                <li key={`${a.delivery_id}:${a.at}:${a.provider}`}>
                  {time(a.at)} {a.action} → {a.provider}: <Badge kind={a.outcome}>{a.outcome}</Badge>
                  {a.status !== null ? ` HTTP ${a.status}` : ''}
                  {a.latency_ms !== null ? ` in ${ms(a.latency_ms)}` : ''}
                  {a.failover ? ' (failover)' : ''}
                  {a.to ? ` → fails over to ${a.to}` : ''}
                  {a.reason ? ` (${a.reason})` : ''}
                </li>
              ))}
            </ul>
          </>
        ) : null}
      </Section>
      <Section title="Timeline" testId="timeline">
        <ol class="timeline">
          {i.timeline.map((e) => (
            <TimelineEntry key={e.seq} entry={e} />
          ))}
        </ol>
      </Section>
    </section>
  );
}

function TimelineEntry({ entry }: { entry: AuditEntry }) {
  return (
    <li class={`entry entry-${entry.type}`} data-type={entry.type}>
      <span class="when">{time(entry.at)}</span> <Badge kind={entry.type}>{entry.type}</Badge>{' '}
      <span class="muted">
        by {entry.actor}
        {entry.provider ? ` via ${entry.provider}` : ''}
      </span>
      <div>{entry.message}</div>
    </li>
  );
}
