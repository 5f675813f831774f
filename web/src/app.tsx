// The dashboard's shell: navigation, the stream's connection state, the API token box, and the view
// the URL names (docs/dashboard.md).
import { useState } from 'preact/hooks';
import { storedToken, storeToken } from './api';
import { Link } from './components';
import { useLive, usePlace } from './hooks';
import { live } from './live';
import { IncidentView } from './views/incident';
import { IncidentsView } from './views/incidents';
import { PolicyView } from './views/policy';
import { ProvidersView } from './views/providers';
import { TestAlertView } from './views/test-alert';
import { ThroughputView } from './views/throughput';

const VIEWS: [string, string][] = [
  ['incidents', 'Incidents'],
  ['providers', 'Providers'],
  ['test-alert', 'Test alert'],
  ['policy', 'Policy'],
  ['throughput', 'Throughput'],
];

function TokenBox() {
  const [saved, setSaved] = useState(storedToken() !== null);
  const [value, setValue] = useState('');
  if (saved)
    return (
      <span class="token">
        API token set for this tab{' '}
        <button
          type="button"
          onClick={() => {
            storeToken(null);
            setSaved(false);
          }}
        >
          forget
        </button>
      </span>
    );
  return (
    <form
      class="token"
      onSubmit={(e) => {
        e.preventDefault();
        storeToken(value);
        setValue('');
        setSaved(value !== '');
      }}
    >
      <input
        type="password"
        name="token"
        autocomplete="off"
        placeholder="API token (if the sidecar has one)"
        value={value}
        onInput={(e) => setValue(e.currentTarget.value)}
      />
      <button type="submit">use</button>
    </form>
  );
}

/** The stream's state; the only part of the shell that follows every message. */
function Connection() {
  useLive();
  return (
    <span class={`connection connection-${live.connection}`} data-testid="connection">
      {live.connection}
    </span>
  );
}

export function App() {
  const place = usePlace();
  return (
    <>
      <header class="top">
        <strong>incident-router</strong>
        <nav>
          {VIEWS.map(([view, label]) => (
            <Link key={view} href={`/?view=${view}`} testId={`nav-${view}`}>
              <span class={place.view === view ? 'current' : ''}>{label}</span>
            </Link>
          ))}
        </nav>
        <Connection />
        <TokenBox />
      </header>
      <main>
        {place.view === 'incident' && place.incident !== null ? (
          <IncidentView id={place.incident} />
        ) : place.view === 'providers' ? (
          <ProvidersView />
        ) : place.view === 'test-alert' ? (
          <TestAlertView />
        ) : place.view === 'policy' ? (
          <PolicyView />
        ) : place.view === 'throughput' ? (
          <ThroughputView />
        ) : (
          <IncidentsView />
        )}
      </main>
    </>
  );
}
