// Small pieces shared by the views. Everything shown is text: Preact escapes it, and nothing here
// sets HTML (docs/dashboard.md, "Security").
import type { ComponentChildren } from 'preact';
import type { Decision, RouteChoice } from './types';
import { incidentHref, navigate } from './hooks';

export function Badge({ kind, children }: { kind: string; children: ComponentChildren }) {
  return <span class={`badge badge-${kind.replace(/[^a-z_-]/gi, '')}`}>{children}</span>;
}

/** A link within the page (no reload): the incident page, or another view. */
export function Link({
  href,
  children,
  testId,
}: {
  href: string;
  children: ComponentChildren;
  testId?: string;
}) {
  return (
    <a
      href={href}
      data-testid={testId}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}

export const IncidentLink = ({ id, children }: { id: string; children?: ComponentChildren }) => (
  <Link href={incidentHref(id)}>{children ?? id}</Link>
);

export function Routes({ routes }: { routes: RouteChoice[] }) {
  if (routes.length === 0) return <span class="muted">no route</span>;
  return (
    <span>
      {routes.map((r, i) => (
        <span key={r.name} class="route">
          {i > 0 ? ' + ' : ''}
          {r.name}{' '}
          <span class="muted">
            ({r.mode}: {r.providers.join(', ')})
          </span>
          {r.escalation ? <span class="muted"> ⇢ {r.escalation}</span> : null}
        </span>
      ))}
    </span>
  );
}

export function ErrorBox({ error }: { error: string | null }) {
  return error === null ? null : (
    <p class="error" role="alert">
      {error}
    </p>
  );
}

/** A decision and its trace: what classified, upgraded, suppressed and routed it, and where that rule is written. */
export function DecisionView({ decision, rules }: { decision: Decision; rules: Record<string, string> }) {
  const at = (name: string) => (rules[name] ? ` (${rules[name]})` : '');
  return (
    <div class="decision" data-testid="decision">
      <dl class="facts">
        <dt>outcome</dt>
        <dd>
          {decision.paged ? (
            <Badge kind="paged">pages</Badge>
          ) : decision.suppressed ? (
            <Badge kind="suppressed">suppressed by {decision.suppressed_by?.rule}</Badge>
          ) : decision.resolves ? (
            <Badge kind="resolved">resolves {decision.resolves}</Badge>
          ) : (
            <Badge kind="info">{decision.recorded ? 'recorded' : 'does not page'}</Badge>
          )}
        </dd>
        <dt>severity</dt>
        <dd>
          <Badge kind={decision.severity}>{decision.severity}</Badge> classified{' '}
          <code>{decision.classification.rule}</code>
          {at(decision.classification.rule)}
          {decision.upgrades.map((u) => (
            <span key={u.rule}>
              , upgraded {u.from} → {u.to} by <code>{u.rule}</code>
              {at(u.rule)}
            </span>
          ))}
        </dd>
        <dt>route</dt>
        <dd>
          <Routes routes={decision.routes} />
          {decision.route ? at(decision.route.name) : ''}
        </dd>
        <dt>fingerprint</dt>
        <dd>
          <code>{decision.fingerprint}</code>
        </dd>
        <dt>title</dt>
        <dd>{decision.title}</dd>
      </dl>
      <details>
        <summary>trace: every rule looked at</summary>
        <ol class="trace">
          {decision.trace.map((stage) => (
            <li key={stage.stage}>
              <strong>{stage.stage}</strong>
              {stage.skipped ? <span class="muted"> skipped: {stage.skipped}</span> : null}
              <ul>
                {stage.rules.map((r) => (
                  <li key={r.name} class={r.matched ? 'matched' : 'muted'}>
                    {r.matched ? '✔' : '✗'} <code>{r.name}</code>
                    {at(r.name)}
                    {r.reason ? ` (${r.reason})` : ''}
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ol>
      </details>
      {decision.escalation ? (
        <p>
          escalation <code>{decision.escalation.policy}</code>:{' '}
          {decision.escalation.tiers.map((t) => (
            <span key={t.tier} class="tier">
              tier {t.tier} at {new Date(t.at).toLocaleTimeString(undefined, { hour12: false })}
              {t.people.length > 0 ? ` → ${t.people.join(', ')}` : ''}
              {t.skipped.length > 0 ? ` (skips: ${t.skipped.join('; ')})` : ''};{' '}
            </span>
          ))}
        </p>
      ) : null}
    </div>
  );
}

export function Section({
  title,
  children,
  testId,
}: {
  title: string;
  children: ComponentChildren;
  testId?: string;
}) {
  return (
    <section data-testid={testId}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}
