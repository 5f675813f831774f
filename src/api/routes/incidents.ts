// Incidents (docs/http-api.md, "Incidents"): list with filters, one with its timeline and deliveries,
// manual actions propagated to the providers through the outbox.
import Router from '@koa/router';
import { INCIDENT_STATES, type Delivery, type Incident, type IncidentState } from '../../domain/incident.js';
import { incidentEscalationView, maskDeliveryTarget, type EscalationView } from '../../escalation/view.js';
import { maskSecret } from '../../domain/secrets.js';
import { AppError } from '../../errors.js';
import type { Outbox } from '../../deliver/outbox.js';
import type { Incidents } from '../../incidents/incidents.js';
import type { IncidentAction } from '../../incidents/state-machine.js';
import type { IncidentFilter, StateBackend } from '../../state/backend.js';
import { SEVERITIES, type Severity } from '../../domain/severity.js';
import { readRawBody, parseJson } from '../body.js';
import { answer, requireToken } from '../middleware.js';

/** An incident as it may be shown: credentials masked, its escalation as where it stands. */
export function publicIncident(
  incident: Incident,
): Omit<Incident, 'escalation'> & { escalation?: EscalationView } {
  const holds = Object.fromEntries(
    Object.entries(incident.holds).map(([name, h]) => [
      name,
      {
        ...h,
        ...(h.routing_key ? { routing_key: maskSecret(h.routing_key) } : {}),
        ...(h.api_key ? { api_key: maskSecret(h.api_key) } : {}),
      },
    ]),
  );
  const { escalation, ...rest } = incident;
  return {
    ...rest,
    holds,
    ...(escalation === undefined ? {} : { escalation: incidentEscalationView(escalation) }),
  };
}

/** A delivery as it may be shown: an escalation target's routing key masked. */
function publicDelivery(delivery: Delivery): Delivery {
  if (delivery.targets === undefined) return delivery;
  const targets = Object.fromEntries(
    Object.entries(delivery.targets).map(([p, t]) => [p, maskDeliveryTarget(t)]),
  );
  return { ...delivery, targets };
}

function listFilter(query: Record<string, unknown>): IncidentFilter & { limit: number } {
  const text = (k: string): string | undefined =>
    typeof query[k] === 'string' && query[k] !== '' ? (query[k] as string) : undefined;
  const state = text('state');
  if (state !== undefined && !(INCIDENT_STATES as readonly string[]).includes(state)) {
    throw new AppError('validation_failed', `state must be one of ${INCIDENT_STATES.join(', ')}`);
  }
  const limit = text('limit') === undefined ? 50 : Number(text('limit'));
  if (!Number.isInteger(limit) || limit < 1 || limit > 500)
    throw new AppError('validation_failed', 'limit must be an integer from 1 to 500');
  const severity = text('severity');
  if (severity !== undefined && !(SEVERITIES as readonly string[]).includes(severity))
    throw new AppError('validation_failed', `severity must be one of ${SEVERITIES.join(', ')}`);
  const search = text('q');
  if (search !== undefined && search.length > 200)
    throw new AppError('validation_failed', 'q must be at most 200 characters');
  const optional = { service: text('service'), team: text('team'), provider: text('provider'), search };
  const before = text('before');
  return {
    limit,
    ...(state ? { state: state as IncidentState } : {}),
    ...(severity ? { severity: severity as Severity } : {}),
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    ...(before ? { before } : {}),
  };
}

export function incidentsRouter(deps: {
  incidents: Incidents;
  state: Pick<StateBackend, 'list' | 'detail'>;
  outbox: Outbox;
  apiToken: string | null;
}): Router {
  const router = new Router({ prefix: '/api/v1/incidents' });

  router.get('/', async (ctx) => {
    const filter = listFilter(ctx.query);
    const page = await deps.state.list(filter);
    const incidents = page.incidents.map((i) => publicIncident(deps.incidents.live(i)));
    answer(ctx, { incidents, next: page.next });
  });

  router.get('/:id', async (ctx) => {
    const id = ctx.params['id'] as string;
    const found = await deps.state.detail(id);
    const detail =
      found === null
        ? null
        : {
            ...publicIncident(deps.incidents.live(found.incident)),
            timeline: found.timeline,
            deliveries: found.deliveries.map(publicDelivery),
          };
    if (!detail) throw new AppError('not_found', `no incident ${id}`);
    answer(ctx, detail);
  });

  const manual: IncidentAction[] = ['acknowledge', 'resolve'];
  for (const action of manual) {
    router.post(`/:id/${action}`, requireToken(deps.apiToken), async (ctx) => {
      const raw = await readRawBody(ctx, 64 * 1024);
      const body = (raw.length === 0 ? {} : parseJson(raw)) as { note?: unknown; actor?: unknown } | null;
      const note = typeof body?.note === 'string' ? body.note : null;
      const actor = typeof body?.actor === 'string' ? body.actor.slice(0, 100) : 'api';
      const result = await deps.incidents.transition(
        ctx.params['id'] as string,
        action,
        { actor, source: 'api' },
        null,
        note,
      );
      if (!result.ok) {
        if (result.incident === null) throw new AppError('not_found', result.reason);
        throw new AppError('conflict', result.reason, { details: { state: result.incident.state } });
      }
      deps.outbox.withdraw(result.withdrawn);
      deps.outbox.enqueue(result.deliveries);
      answer(ctx, {
        incident: publicIncident(result.incident),
        changed: result.changed,
        deliveries: result.deliveries.map(publicDelivery),
      });
    });
  }
  return router;
}
