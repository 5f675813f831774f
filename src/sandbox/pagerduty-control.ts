// `/__sim` routes of the PagerDuty simulator: its incidents, the events it dropped, human actions in the
// "web UI" and the webhook target, for a sidecar in another process or a human with curl.
import { SimulatorError } from './errors.js';
import type { SimReply, SimRequest } from './http.js';
import { isPlainObject } from './json.js';
import type { PagerDutyUiAction } from './pagerduty-incidents.js';
import type { PagerDutyWebhookTarget } from './pagerduty-notifier.js';
import type { PagerDutySimulator } from './pagerduty-simulator.js';
import { route, type Route } from './routes.js';
import { controlBody, ok } from './simulator.js';

type Controlled = Pick<
  PagerDutySimulator,
  'incidents' | 'incident' | 'act' | 'dropped' | 'webhooks' | 'configureWebhook'
>;

const UI_ACTIONS: readonly PagerDutyUiAction[] = [
  'acknowledge',
  'unacknowledge',
  'resolve',
  'reopen',
  'escalate',
  'annotate',
];

export function pagerDutyControlRoutes(sim: Controlled): Route[] {
  return [
    route('GET', '/__sim/incidents', () => ok({ incidents: sim.incidents() })),
    route('GET', '/__sim/incidents/:ref', (_req, p) => ok({ incident: mustFind(sim, p['ref'] ?? '') })),
    route('POST', '/__sim/incidents/:ref/:action', (req, p) =>
      act(sim, p['ref'] ?? '', p['action'] ?? '', req),
    ),
    route('GET', '/__sim/dropped', () => ok({ dropped: sim.dropped() })),
    route('GET', '/__sim/webhooks', () => ok({ deliveries: sim.webhooks() })),
    route('PUT', '/__sim/webhook', (req) => configure(sim, controlBody(req))),
    route('DELETE', '/__sim/webhook', () => configure(sim, null)),
  ];
}

function mustFind(sim: Controlled, ref: string): unknown {
  const incident = sim.incident(ref);
  if (incident === undefined) throw new SimulatorError('not_found', `no incident ${ref}`);
  return incident;
}

async function act(sim: Controlled, ref: string, action: string, req: SimRequest): Promise<SimReply> {
  if (!(UI_ACTIONS as readonly string[]).includes(action)) {
    throw new SimulatorError('not_found', `unknown action "${action}" (one of ${UI_ACTIONS.join(', ')})`);
  }
  const body = controlBody(req);
  const content = isPlainObject(body) && typeof body['content'] === 'string' ? body['content'] : '';
  return ok(await sim.act(ref, action as PagerDutyUiAction, content));
}

function configure(sim: Controlled, body: unknown): SimReply {
  if (body === null) {
    sim.configureWebhook(null);
    return ok({ webhook: null });
  }
  const target = parseTarget(body);
  if (target === null) {
    throw new SimulatorError('bad_request', 'expected {url, secret, additionalSecrets?: string[]} or null');
  }
  sim.configureWebhook(target);
  return ok({ webhook: { url: target.url, secrets: 1 + (target.additionalSecrets?.length ?? 0) } });
}

function parseTarget(body: unknown): PagerDutyWebhookTarget | null {
  if (!isPlainObject(body) || typeof body['url'] !== 'string' || typeof body['secret'] !== 'string')
    return null;
  const extra = body['additionalSecrets'];
  if (extra === undefined) return { url: body['url'], secret: body['secret'] };
  if (!Array.isArray(extra) || !extra.every((s): s is string => typeof s === 'string')) return null;
  return { url: body['url'], secret: body['secret'], additionalSecrets: extra };
}
