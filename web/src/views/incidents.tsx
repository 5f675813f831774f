// Incidents: the live list with filters and search (docs/dashboard.md, "Incidents"). One page of the
// API at a time (`limit`, `before`), so 10,000 incidents cost what 50 do; reloaded when the stream
// brings a change or a delivery attempt, at most four times a second (once with a filter set).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { Badge, ErrorBox, IncidentLink, Routes } from '../components';
import { ago } from '../format';
import { useLive, useLoad } from '../hooks';
import { live } from '../live';
import type { Incident } from '../types';

const PAGE = 50;

interface Filters {
  state: string;
  severity: string;
  service: string;
  team: string;
  provider: string;
  q: string;
}

const EMPTY: Filters = { state: '', severity: '', service: '', team: '', provider: '', q: '' };

/** A value that follows `value` at most once per `ms` (the latest wins; a storm never starves it). */
function useThrottled<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    if (Object.is(value, shown)) return;
    const wait = Math.max(0, last.current + ms - Date.now());
    const timer = setTimeout(() => {
      last.current = Date.now();
      setShown(value);
    }, wait);
    return () => clearTimeout(timer);
  }, [value, shown, ms]);
  return shown;
}

export function IncidentsView() {
  useLive();
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [typed, setTyped] = useState<Filters>(EMPTY);
  const [cursors, setCursors] = useState<string[]>([]); // `before` of each page after the first
  // A change or a delivery attempt (a provider now holds an incident) may change what the page shows.
  const change = live.changes[0]?.id ?? '';
  const attempt = live.deliveries[0];
  // A filter may make the sidecar read far to fill a page: then once a second at most.
  const filtered = Object.values(filters).some((v) => v !== '');
  const stale = useThrottled(
    `${change}:${attempt?.delivery_id ?? ''}:${attempt?.at ?? ''}:${live.epoch}`,
    filtered ? 1_000 : 250,
  );
  const before = cursors.at(-1);
  const list = useLoad(
    () => {
      const query = new URLSearchParams({ limit: String(PAGE) });
      for (const [k, v] of Object.entries(filters)) if (v !== '') query.set(k, v);
      if (before !== undefined) query.set('before', before);
      return api<{ incidents: Incident[]; next: string | null }>('GET', `/api/v1/incidents?${query}`);
    },
    [JSON.stringify(filters), before],
    stale,
  );

  // Text fields apply when typing pauses; selects at once.
  const typedKey = JSON.stringify(typed);
  useEffect(() => {
    const timer = setTimeout(() => {
      setFilters(typed);
      setCursors([]);
    }, 250);
    return () => clearTimeout(timer);
  }, [typedKey]);
  const set = (key: keyof Filters) => (e: Event) =>
    setTyped({ ...typed, [key]: (e.currentTarget as HTMLInputElement | HTMLSelectElement).value });

  const providers = live.providers.map((p) => p.name);
  const incidents = list.data?.incidents ?? [];
  return (
    <section data-testid="incidents-view">
      <h2>Incidents</h2>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <input
          type="search"
          placeholder="search title, service, fingerprint…"
          value={typed.q}
          onInput={set('q')}
          aria-label="search"
        />
        <select value={typed.state} onChange={set('state')} aria-label="state">
          <option value="">any state</option>
          <option>triggered</option>
          <option>acknowledged</option>
          <option>resolved</option>
        </select>
        <select value={typed.severity} onChange={set('severity')} aria-label="severity">
          <option value="">any severity</option>
          {['critical', 'high', 'medium', 'low', 'info'].map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
        <select value={typed.provider} onChange={set('provider')} aria-label="provider">
          <option value="">any provider</option>
          {providers.map((p) => (
            <option key={p}>{p}</option>
          ))}
        </select>
        <input placeholder="service" value={typed.service} onInput={set('service')} aria-label="service" />
        <input placeholder="team" value={typed.team} onInput={set('team')} aria-label="team" />
      </form>
      <ErrorBox error={list.error} />
      <table class="incidents" data-testid="incident-list">
        <thead>
          <tr>
            <th>severity</th>
            <th>incident</th>
            <th>service / team</th>
            <th>state</th>
            <th>route</th>
            <th>at the providers</th>
            <th>opened</th>
            <th>seen</th>
          </tr>
        </thead>
        <tbody>
          {incidents.map((i) => (
            <tr key={i.id} data-incident={i.id}>
              <td>
                <Badge kind={i.severity}>{i.severity}</Badge>
              </td>
              <td class="title">
                <IncidentLink id={i.id}>{i.title}</IncidentLink>
                <div class="muted small">{i.id}</div>
              </td>
              <td>
                {i.service}
                <div class="muted small">{i.team}</div>
              </td>
              <td>
                <Badge kind={i.state}>{i.state}</Badge>
              </td>
              <td>
                <Routes routes={i.routes} />
              </td>
              <td class="holds">
                {Object.entries(i.holds).map(([name, h]) => (
                  <div key={name}>
                    {name}: {h.state}
                  </div>
                ))}
                {Object.keys(i.holds).length === 0 ? <span class="muted">pending</span> : null}
              </td>
              <td title={i.opened_at}>{ago(i.opened_at)}</td>
              <td>×{i.occurrences}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {incidents.length === 0 && !list.loading ? (
        <p class="muted">
          {list.data?.next
            ? 'No match among the incidents read so far: older ones may match (older →).'
            : 'No incidents match.'}
        </p>
      ) : null}
      <nav class="pager">
        <button
          type="button"
          disabled={cursors.length === 0}
          onClick={() => setCursors(cursors.slice(0, -1))}
        >
          ← newer
        </button>
        <span class="muted">page {cursors.length + 1}</span>
        <button
          type="button"
          disabled={!list.data?.next}
          onClick={() => list.data?.next && setCursors([...cursors, list.data.next])}
        >
          older →
        </button>
      </nav>
    </section>
  );
}
