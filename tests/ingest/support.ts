import { connect, type NatsConnection } from '@nats-io/transport-node';
import { eventToInput, type LogEvent } from '../../src/domain/log-event.js';
import type { ActivePolicy } from '../../src/policy/active.js';
import { decide, type IncidentLookup } from '../../src/policy/decide.js';
import { generateEvents } from '../../scripts/gen-log-events.mjs';

export async function natsClient(url: string): Promise<NatsConnection> {
  return connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
}

/** Publish lines on core NATS, flushing every 500 so the test never outruns the socket. */
export async function publishLines(
  nc: NatsConnection,
  subject: string,
  lines: readonly (string | Uint8Array)[],
): Promise<void> {
  for (const [i, line] of lines.entries()) {
    nc.publish(subject, line);
    if (i % 500 === 499) await nc.flush();
  }
  await nc.flush();
}

export function events(options: Parameters<typeof generateEvents>[0]): LogEvent[] {
  return generateEvents(options).map((l) => JSON.parse(l) as LogEvent);
}

export interface ExpectedIncident {
  fingerprint: string;
  providerKey: string;
  /** Providers that must hold it: every provider of `all` routes, the first of `failover` ones. */
  providers: string[];
}

/**
 * What the sidecar must do with these events, in order, from dry-run decisions alone: one incident
 * per paged fingerprint while it is open, closed by resolves. Storm folding is off in these tests.
 */
export async function expectedIncidents(
  list: readonly LogEvent[],
  policy: ActivePolicy,
  nowMs: number,
): Promise<ExpectedIncident[]> {
  const open = new Map<string, ExpectedIncident>();
  const all: ExpectedIncident[] = [];
  const lookup: IncidentLookup = { openIncident: (fp) => (open.has(fp) ? { id: fp } : null) };
  for (const event of list) {
    const d = await decide(eventToInput(event), policy.compiled, nowMs, lookup);
    if (d.resolves !== null) {
      open.delete(d.resolves);
      continue;
    }
    if (!d.paged || open.has(d.fingerprint)) continue;
    const providers = new Set<string>();
    for (const r of d.routes) {
      if (r.mode === 'all') r.providers.forEach((p) => providers.add(p));
      else {
        const first = r.providers.find((p) => !providers.has(p));
        if (first) providers.add(first);
      }
    }
    const incident = { fingerprint: d.fingerprint, providerKey: d.provider_key, providers: [...providers] };
    open.set(d.fingerprint, incident);
    all.push(incident);
  }
  return all;
}

export const noStorm = (s: string): string =>
  s.replace(/max_new_incidents: \d+/, 'max_new_incidents: 1000000');
