// Test alert: a form (service from the catalog, severity, source, message) that shows the dry-run
// decision as it is filled in, then sends the alert and follows the real incident live
// (docs/dashboard.md, "Test alert").
import { useEffect, useState } from 'preact/hooks';
import { api, errorText } from '../api';
import { DecisionView, ErrorBox, IncidentLink } from '../components';
import { useActivePolicy } from '../policy-info';
import type { Decision } from '../types';
import { IncidentView } from './incident';

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'];

interface Sent {
  outcome: string;
  incident_id: string | null;
  correlation_id: string | null;
}

export function TestAlertView() {
  const policy = useActivePolicy();
  const services = Object.keys(policy.data?.document.services ?? {}).sort();
  const [form, setForm] = useState({ service: '', severity: 'critical', source: 'dashboard', title: '' });
  const service = form.service || services[0] || '';
  const alert = {
    title: form.title || 'Test alert from the dashboard',
    source: form.source || 'dashboard',
    severity: form.severity,
    service_name: service,
  };
  const [preview, setPreview] = useState<{ decision: Decision | null; error: string | null }>({
    decision: null,
    error: null,
  });
  const [sent, setSent] = useState<{ result: Sent | null; error: string | null; busy: boolean }>({
    result: null,
    error: null,
    busy: false,
  });
  const key = JSON.stringify(alert);

  useEffect(() => {
    if (service === '') return;
    let current = true;
    const timer = setTimeout(() => {
      api<Decision>('POST', '/api/v1/policy/dry-run', { alert }).then(
        (decision) => current && setPreview({ decision, error: null }),
        (err: unknown) => current && setPreview({ decision: null, error: errorText(err) }),
      );
    }, 150);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [key]);

  async function send(e: Event): Promise<void> {
    e.preventDefault();
    setSent({ result: null, error: null, busy: true });
    try {
      const result = await api<Sent>('POST', '/api/v1/alerts', alert);
      setSent({ result, error: null, busy: false });
    } catch (err) {
      setSent({ result: null, error: errorText(err), busy: false });
    }
  }

  const set = (k: keyof typeof form) => (e: Event) =>
    setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement | HTMLSelectElement).value });
  return (
    <section data-testid="test-alert-view">
      <h2>Test alert</h2>
      <form class="test-alert" onSubmit={(e) => void send(e)}>
        <label>
          service
          <select name="service" value={service} onChange={set('service')}>
            {services.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          severity
          <select name="severity" value={form.severity} onChange={set('severity')}>
            {SEVERITIES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          source
          <input name="source" value={form.source} onInput={set('source')} maxLength={128} />
        </label>
        <label class="wide">
          message
          <input
            name="title"
            value={form.title}
            onInput={set('title')}
            placeholder="Test alert from the dashboard"
          />
        </label>
        <button type="submit" disabled={sent.busy || service === ''}>
          Send
        </button>
      </form>
      <h3>What the policy would do</h3>
      <ErrorBox error={preview.error} />
      {preview.decision ? (
        <DecisionView decision={preview.decision} rules={policy.data?.rules ?? {}} />
      ) : null}
      <ErrorBox error={sent.error} />
      {sent.result ? (
        <div data-testid="sent">
          <h3>Sent: {sent.result.outcome}</h3>
          {sent.result.incident_id ? (
            <>
              <p>
                Incident <IncidentLink id={sent.result.incident_id} />, followed live below.
              </p>
              <IncidentView id={sent.result.incident_id} />
            </>
          ) : (
            <p class="muted">No incident: the policy did not page it.</p>
          )}
        </div>
      ) : null}
    </section>
  );
}
