// PagerDuty's incident bookkeeping as the Events API documents it (docs/providers.md,
// "PagerDuty events"): events are keyed by (routing_key, dedup_key); a trigger opens an incident when
// none is open, else is folded into the open one; acknowledge/resolve apply only to an incident opened
// with the SAME routing key, otherwise they are silently dropped (still 202: the API is asynchronous);
// after a resolve, the next trigger opens a new incident. Human actions in the web UI are here too.
import { Book } from './book.js';
import { BoundedLog } from '../domain/bounded-log.js';
import type { Clock } from '../domain/clock.js';
import { SimulatorError } from './errors.js';
import { pagerDutyId } from './ids.js';
import type { PagerDutyEvent, PagerDutySeverity, PagerDutyTrigger } from './pagerduty-validate.js';

export type PagerDutyIncidentStatus = 'triggered' | 'acknowledged' | 'resolved';
export type PagerDutyUiAction =
  'acknowledge' | 'unacknowledge' | 'resolve' | 'reopen' | 'escalate' | 'annotate';

export interface PagerDutyIncident {
  id: string;
  number: number;
  routingKey: string;
  dedupKey: string;
  status: PagerDutyIncidentStatus;
  title: string;
  severity: PagerDutySeverity;
  /** PagerDuty's default "use alert severity" urgency rule: critical/error → high, warning/info → low. */
  urgency: 'high' | 'low';
  /** Triggers folded into this incident, the first included. */
  alertCount: number;
  escalationLevel: number;
  /** The last Events API body accepted for this incident. */
  lastEvent: unknown;
  notes: { id: string; content: string; at: string }[];
  history: { at: string; action: string; via: 'api' | 'ui' }[];
  createdAt: string;
  updatedAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  reopenedAt: string | null;
}

export interface DroppedEvent {
  at: string;
  routingKey: string;
  dedupKey: string;
  action: 'acknowledge' | 'resolve';
  reason: 'no_open_incident' | 'routing_key_mismatch';
}

export type ApplyResult =
  | { kind: 'opened' | 'deduplicated' | 'unchanged'; incident: PagerDutyIncident }
  | { kind: 'acknowledged' | 'resolved'; incident: PagerDutyIncident }
  | { kind: 'dropped'; dropped: DroppedEvent };

const DROPPED_KEPT = 10_000;

export class PagerDutyIncidents {
  private readonly book: Book<PagerDutyIncident, 'id' | 'dedupKey'>;
  private readonly open = new Map<string, PagerDutyIncident>();
  private readonly droppedEvents = new BoundedLog<DroppedEvent>(DROPPED_KEPT);
  private nextNumber = 1;

  /** `keepResolved`: resolved incidents kept at least before the oldest are forgotten (default all). */
  constructor(
    private readonly clock: Clock,
    keepResolved = Infinity,
  ) {
    this.book = new Book(
      { id: (i) => i.id, dedupKey: (i) => i.dedupKey },
      { keep: keepResolved, retired: (i) => i.status === 'resolved' },
    );
  }

  apply(event: PagerDutyEvent, dedupKey: string, body: unknown): ApplyResult {
    const current = this.open.get(openKey(event.routingKey, dedupKey));
    if (event.action === 'trigger')
      return current ? this.fold(current, body) : this.openIncident(event, dedupKey, body);
    if (current === undefined)
      return { kind: 'dropped', dropped: this.drop(event.routingKey, dedupKey, event.action) };
    if (event.action === 'acknowledge' && current.status === 'acknowledged')
      return { kind: 'unchanged', incident: current };
    current.lastEvent = body;
    this.move(current, event.action === 'acknowledge' ? 'acknowledged' : 'resolved', 'api', event.action);
    return { kind: event.action === 'acknowledge' ? 'acknowledged' : 'resolved', incident: current };
  }

  /** A human in the PagerDuty web UI; throws SimulatorError when the incident is unknown or the move impossible. */
  act(ref: string, action: PagerDutyUiAction, content = ''): PagerDutyIncident {
    const incident = this.mustFind(ref);
    const allowed: Record<PagerDutyUiAction, readonly PagerDutyIncidentStatus[]> = {
      acknowledge: ['triggered', 'acknowledged'],
      unacknowledge: ['acknowledged'],
      resolve: ['triggered', 'acknowledged'],
      reopen: ['resolved'],
      escalate: ['triggered', 'acknowledged'],
      annotate: ['triggered', 'acknowledged', 'resolved'],
    };
    if (!allowed[action].includes(incident.status)) {
      throw new SimulatorError(
        'conflict',
        `cannot ${action} incident ${incident.id}: it is ${incident.status}`,
      );
    }
    this.applyUi(incident, action, content);
    return incident;
  }

  private applyUi(incident: PagerDutyIncident, action: PagerDutyUiAction, content: string): void {
    const at = this.now();
    switch (action) {
      case 'acknowledge':
        return this.move(incident, 'acknowledged', 'ui', action);
      case 'unacknowledge':
        return this.move(incident, 'triggered', 'ui', action);
      case 'resolve':
        return this.move(incident, 'resolved', 'ui', action);
      case 'reopen':
        return this.reopen(incident);
      case 'escalate':
        // Escalating re-notifies the next level and puts an acknowledged incident back to triggered.
        incident.escalationLevel += 1;
        return this.move(incident, 'triggered', 'ui', action);
      case 'annotate':
        incident.notes.push({ id: pagerDutyId('P', 6), content, at });
        incident.history.push({ at, action, via: 'ui' });
        incident.updatedAt = at;
    }
  }

  list(): PagerDutyIncident[] {
    return structuredClone(this.book.all()) as PagerDutyIncident[];
  }

  get size(): number {
    return this.book.size;
  }

  /** By incident id, or by dedup key (the open incident first, else the latest). */
  find(ref: string): PagerDutyIncident | undefined {
    const byId = this.book.by('id', ref)[0];
    if (byId) return byId;
    const byKey = this.book.by('dedupKey', ref);
    return byKey.find((i) => i.status !== 'resolved') ?? byKey.at(-1);
  }

  mustFind(ref: string): PagerDutyIncident {
    const incident = this.find(ref);
    if (incident === undefined) throw new SimulatorError('not_found', `no incident ${ref}`);
    return incident;
  }

  /** The newest events dropped (at most DROPPED_KEPT), oldest first. */
  dropped(): DroppedEvent[] {
    return structuredClone(this.droppedEvents.list());
  }

  reset(): void {
    this.book.clear();
    this.open.clear();
    this.droppedEvents.clear();
    this.nextNumber = 1;
  }

  private openIncident(event: PagerDutyTrigger, dedupKey: string, body: unknown): ApplyResult {
    const at = this.now();
    const incident: PagerDutyIncident = {
      id: pagerDutyId('Q', 13),
      number: this.nextNumber++,
      routingKey: event.routingKey,
      dedupKey,
      status: 'triggered',
      title: event.summary,
      severity: event.severity,
      urgency: event.severity === 'critical' || event.severity === 'error' ? 'high' : 'low',
      alertCount: 1,
      escalationLevel: 1,
      lastEvent: body,
      notes: [],
      history: [{ at, action: 'trigger', via: 'api' }],
      createdAt: at,
      updatedAt: at,
      acknowledgedAt: null,
      resolvedAt: null,
      reopenedAt: null,
    };
    this.book.add(incident);
    this.open.set(openKey(event.routingKey, dedupKey), incident);
    return { kind: 'opened', incident };
  }

  /** A trigger for an open incident: counted on it; its status does not change. */
  private fold(incident: PagerDutyIncident, body: unknown): ApplyResult {
    incident.alertCount += 1;
    incident.lastEvent = body;
    incident.updatedAt = this.now();
    incident.history.push({ at: incident.updatedAt, action: 'trigger', via: 'api' });
    return { kind: 'deduplicated', incident };
  }

  private reopen(incident: PagerDutyIncident): void {
    const key = openKey(incident.routingKey, incident.dedupKey);
    if (this.open.has(key)) {
      throw new SimulatorError(
        'conflict',
        `cannot reopen ${incident.id}: a newer incident with its dedup key is open`,
      );
    }
    this.open.set(key, incident);
    incident.reopenedAt = this.now();
    incident.resolvedAt = null;
    this.move(incident, 'triggered', 'ui', 'reopen');
  }

  private move(
    incident: PagerDutyIncident,
    status: PagerDutyIncidentStatus,
    via: 'api' | 'ui',
    action: string,
  ): void {
    const at = this.now();
    incident.status = status;
    incident.updatedAt = at;
    incident.history.push({ at, action, via });
    if (status === 'acknowledged') incident.acknowledgedAt = at;
    if (status === 'resolved') {
      incident.resolvedAt = at;
      this.open.delete(openKey(incident.routingKey, incident.dedupKey));
    }
  }

  private drop(routingKey: string, dedupKey: string, action: 'acknowledge' | 'resolve'): DroppedEvent {
    const otherKey = [...this.open.values()].some(
      (i) => i.dedupKey === dedupKey && i.routingKey !== routingKey,
    );
    const dropped: DroppedEvent = {
      at: this.now(),
      routingKey,
      dedupKey,
      action,
      reason: otherKey ? 'routing_key_mismatch' : 'no_open_incident',
    };
    this.droppedEvents.add(dropped);
    return dropped;
  }

  private now(): string {
    return new Date(this.clock.now()).toISOString();
  }
}

function openKey(routingKey: string, dedupKey: string): string {
  return `${routingKey}\u0000${dedupKey}`;
}
