// `/__sim` routes of the OpsGenie simulator: its alerts, human actions in the "web UI" and the webhook
// target, for a sidecar in another process or a human with curl.
import { SimulatorError } from './errors.js';
import type { SimReply, SimRequest } from './http.js';
import { isPlainObject } from './json.js';
import type { ActionOptions, OpsGenieAction } from './opsgenie-alerts.js';
import type { OpsGenieSimulator } from './opsgenie-simulator.js';
import { route, type Route } from './routes.js';
import { controlBody, ok } from './simulator.js';

type Controlled = Pick<OpsGenieSimulator, 'alerts' | 'alert' | 'act' | 'webhooks' | 'configureWebhook'>;

const UI_ROUTES: Record<string, Exclude<OpsGenieAction, 'Create'>> = {
  acknowledge: 'Acknowledge',
  unacknowledge: 'UnAcknowledge',
  close: 'Close',
  notes: 'AddNote',
  escalate: 'Escalate',
  assign: 'AssignOwnership',
};

export function opsGenieControlRoutes(sim: Controlled): Route[] {
  return [
    route('GET', '/__sim/alerts', () => ok({ alerts: sim.alerts() })),
    route('GET', '/__sim/alerts/:ref', (_req, p) => ok({ alert: mustFind(sim, p['ref'] ?? '') })),
    route('POST', '/__sim/alerts/:ref/:action', (req, p) => act(sim, p['ref'] ?? '', p['action'] ?? '', req)),
    route('GET', '/__sim/webhooks', () => ok({ deliveries: sim.webhooks() })),
    route('PUT', '/__sim/webhook', (req) => configure(sim, controlBody(req))),
    route('DELETE', '/__sim/webhook', () => configure(sim, null)),
  ];
}

function mustFind(sim: Controlled, ref: string): unknown {
  const alert = sim.alert(ref);
  if (alert === undefined) throw new SimulatorError('not_found', `no alert ${ref}`);
  return alert;
}

async function act(sim: Controlled, ref: string, name: string, req: SimRequest): Promise<SimReply> {
  const action = UI_ROUTES[name];
  if (action === undefined) {
    throw new SimulatorError(
      'not_found',
      `unknown action "${name}" (one of ${Object.keys(UI_ROUTES).join(', ')})`,
    );
  }
  const body = controlBody(req);
  const options: ActionOptions = {};
  for (const field of ['user', 'note', 'owner'] as const) {
    if (isPlainObject(body) && typeof body[field] === 'string') options[field] = body[field];
  }
  return ok(await sim.act(ref, action, options));
}

function configure(sim: Controlled, body: unknown): SimReply {
  if (body === null) {
    sim.configureWebhook(null);
    return ok({ webhook: null });
  }
  if (!isPlainObject(body) || typeof body['url'] !== 'string' || typeof body['token'] !== 'string') {
    throw new SimulatorError('bad_request', 'expected {url, token} or null');
  }
  sim.configureWebhook({ url: body['url'], token: body['token'] });
  return ok({ webhook: { url: body['url'] } });
}
