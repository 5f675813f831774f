// Policy: the active version and revision, its files, the last reload and its errors, and a
// playground: paste or pick an event, choose a time, see the decision and its trace
// (docs/dashboard.md, "Policy").
import { useState } from 'preact/hooks';
import { api, errorText } from '../api';
import { Badge, DecisionView, ErrorBox } from '../components';
import { time } from '../format';
import { useActivePolicy } from '../policy-info';
import type { Decision } from '../types';

const EXAMPLES: Record<string, object> = {
  'database connection failure': {
    timestamp: '2026-11-24T02:00:00Z',
    service: 'payment-service',
    level: 'error',
    source: 'database',
    message: 'database connection failed: too many clients (max=50)',
    host: 'pay-1',
  },
  'disk almost full': {
    timestamp: '2026-11-24T14:00:00Z',
    service: 'search',
    level: 'warn',
    source: 'disk',
    message: 'disk usage at 96% on /var/lib/data',
    host: 'search-3',
  },
  'everyday noise': {
    timestamp: '2026-11-24T14:00:00Z',
    service: 'user-auth',
    level: 'info',
    source: 'http',
    message: 'GET /login 200 12ms',
  },
};

export function PolicyView() {
  const policy = useActivePolicy();
  const first = Object.keys(EXAMPLES)[0] as string;
  const [text, setText] = useState(JSON.stringify(EXAMPLES[first], null, 2));
  const [at, setAt] = useState('');
  const [result, setResult] = useState<{ decision: Decision | null; error: string | null }>({
    decision: null,
    error: null,
  });

  async function decide(e: Event): Promise<void> {
    e.preventDefault();
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch (err) {
      setResult({ decision: null, error: `the event is not JSON: ${(err as Error).message}` });
      return;
    }
    const when = at === '' ? {} : { at: new Date(at).toISOString() };
    try {
      setResult({
        decision: await api<Decision>('POST', '/api/v1/policy/dry-run', { event, ...when }),
        error: null,
      });
    } catch (err) {
      setResult({ decision: null, error: errorText(err) });
    }
  }

  const p = policy.data;
  return (
    <section data-testid="policy-view">
      <h2>Policy</h2>
      <ErrorBox error={policy.error} />
      {p ? (
        <>
          <dl class="facts">
            <dt>version</dt>
            <dd data-testid="policy-version">{p.version}</dd>
            <dt>revision</dt>
            <dd>
              <code>{p.revision}</code>
            </dd>
            <dt>loaded</dt>
            <dd>{time(p.loaded_at)}</dd>
            <dt>last reload</dt>
            <dd>
              {p.last_reload ? (
                <>
                  <Badge kind={p.last_reload.ok ? 'healthy' : 'unhealthy'}>
                    {p.last_reload.ok ? 'ok' : 'refused'}
                  </Badge>{' '}
                  {p.last_reload.trigger} at {time(p.last_reload.at)}
                  {p.last_reload.changed ? '' : ' (unchanged)'}
                  <ul class="errors">
                    {p.last_reload.errors.map((e) => (
                      <li key={e} class="error">
                        {e}
                      </li>
                    ))}
                    {p.last_reload.warnings.map((w) => (
                      <li key={w}>{w}</li>
                    ))}
                  </ul>
                </>
              ) : (
                '–'
              )}
            </dd>
          </dl>
          <h3>Files</h3>
          <table>
            <tbody>
              {p.files.map((f) => (
                <tr key={f.name}>
                  <td>{f.name}</td>
                  <td class="muted small">
                    <code>{f.sha256}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {p.notes.length + p.warnings.length > 0 ? (
            <ul class="notes">
              {[...p.warnings, ...p.notes].map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          ) : null}
        </>
      ) : null}
      <h3>Playground</h3>
      <form class="playground" onSubmit={(e) => void decide(e)}>
        <label>
          example
          <select onChange={(e) => setText(JSON.stringify(EXAMPLES[e.currentTarget.value], null, 2))}>
            {Object.keys(EXAMPLES).map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
        </label>
        <label>
          at (your local time; empty: now)
          <input type="datetime-local" step="1" value={at} onInput={(e) => setAt(e.currentTarget.value)} />
        </label>
        <textarea
          name="event"
          rows={12}
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          spellcheck={false}
        />
        <button type="submit">Decide</button>
      </form>
      <ErrorBox error={result.error} />
      {result.decision ? <DecisionView decision={result.decision} rules={p?.rules ?? {}} /> : null}
    </section>
  );
}
