// OpsGenie's alert bookkeeping as the Alert API documents it (docs.opsgenie.com/docs/alert-api): a create
// whose alias matches an open alert only increments its count ("alias … is the key element of alert
// deduplication"); identifiers are the alert id, its tiny id or its alias; every request is processed
// asynchronously and leaves a request status (docs/providers.md, "OpsGenie request status"). Human
// actions in the web UI are here too.
import { Book } from './book.js';
import type { Clock } from '../domain/clock.js';
import { SimulatorError } from './errors.js';
import { uuid } from './ids.js';
import type { ActionInput, CreateAlertInput, OpsGeniePriority, Responder } from './opsgenie-validate.js';

export type OpsGenieAlertStatus = 'open' | 'acked' | 'closed';
export type IdentifierType = 'id' | 'alias' | 'tiny';
/** Webhook `action` names (docs.opsgenie.com/docs/callbacks, opsgenie/oec-scripts). */
export type OpsGenieAction =
  | 'Create'
  | 'Acknowledge'
  | 'UnAcknowledge'
  | 'Close'
  | 'AddNote'
  | 'AddResponder'
  | 'Escalate'
  | 'AssignOwnership';

export interface OpsGenieAlert {
  id: string;
  tinyId: string;
  alias: string;
  message: string;
  status: OpsGenieAlertStatus;
  /** Creates folded into this alert by alias, the first included. */
  count: number;
  priority: OpsGeniePriority;
  tags: string[];
  details: Record<string, string>;
  description: string | null;
  entity: string | null;
  source: string | null;
  responders: Responder[];
  owner: string | null;
  notes: { note: string; user: string | null; at: string }[];
  /** The last create body folded into this alert. */
  lastPayload: unknown;
  history: { at: string; action: OpsGenieAction; via: 'api' | 'ui'; user: string | null }[];
  createdAt: string;
  updatedAt: string;
  acknowledgedAt: string | null;
  closedAt: string | null;
}

export interface ActionOptions extends ActionInput {
  owner?: string;
}

const NEXT_STATUS: Partial<Record<OpsGenieAction, OpsGenieAlertStatus>> = {
  Acknowledge: 'acked',
  UnAcknowledge: 'open',
  Close: 'closed',
};

export class OpsGenieAlerts {
  private readonly book: Book<OpsGenieAlert, IdentifierType>;
  private nextTiny = 1;

  /** `keepClosed`: closed alerts kept at least before the oldest are forgotten (default all). */
  constructor(
    private readonly clock: Clock,
    keepClosed = Infinity,
  ) {
    this.book = new Book(
      { id: (a) => a.id, tiny: (a) => a.tinyId, alias: (a) => a.alias },
      { keep: keepClosed, retired: (a) => a.status === 'closed' },
    );
  }

  create(input: CreateAlertInput, body: unknown): { alert: OpsGenieAlert; deduplicated: boolean } {
    const open = input.alias === undefined ? undefined : this.find(input.alias, 'alias');
    if (open !== undefined && open.status !== 'closed') {
      open.count += 1;
      open.lastPayload = body;
      open.updatedAt = this.now();
      return { alert: open, deduplicated: true };
    }
    const alert = this.newAlert(input, body);
    this.book.add(alert);
    return { alert, deduplicated: false };
  }

  private newAlert(input: CreateAlertInput, body: unknown): OpsGenieAlert {
    const at = this.now();
    const id = uuid();
    return {
      id,
      tinyId: String(this.nextTiny++),
      // An alert created without an alias gets its id as alias (the docs' request-status sample).
      alias: input.alias ?? id,
      message: input.message,
      status: 'open',
      count: 1,
      priority: input.priority,
      tags: input.tags,
      details: input.details,
      description: input.description ?? null,
      entity: input.entity ?? null,
      source: input.source ?? null,
      responders: input.responders,
      owner: null,
      notes: input.note === undefined ? [] : [{ note: input.note, user: input.user ?? null, at }],
      lastPayload: body,
      history: [{ at, action: 'Create', via: 'api', user: input.user ?? null }],
      createdAt: at,
      updatedAt: at,
      acknowledgedAt: null,
      closedAt: null,
    };
  }

  /** By id, tiny id or alias (for an alias: the open alert first, else the latest). */
  find(identifier: string, type: IdentifierType): OpsGenieAlert | undefined {
    const found = this.book.by(type, identifier);
    if (type !== 'alias') return found[0];
    return found.find((a) => a.status !== 'closed') ?? found.at(-1);
  }

  /** Applies an action; returns whether the alert changed (an API acknowledge of an acked alert does not). */
  apply(alert: OpsGenieAlert, action: OpsGenieAction, options: ActionOptions, via: 'api' | 'ui'): boolean {
    const at = this.now();
    const next = NEXT_STATUS[action];
    const changed = next === undefined || (alert.status !== next && alert.status !== 'closed');
    if (!changed) return false;
    if (next !== undefined) alert.status = next;
    if (action === 'Acknowledge') alert.acknowledgedAt = at;
    if (action === 'Close') alert.closedAt = at;
    if (action === 'AssignOwnership') alert.owner = options.owner ?? null;
    if (action === 'AddResponder' && options.responder !== undefined) {
      const r = options.responder;
      const same = (x: Responder): boolean =>
        x.type === r.type && x.id === r.id && x.name === r.name && x.username === r.username;
      if (alert.responders.some(same)) return false;
      alert.responders.push(r);
    }
    if (options.note !== undefined) alert.notes.push({ note: options.note, user: options.user ?? null, at });
    alert.history.push({ at, action, via, user: options.user ?? null });
    alert.updatedAt = at;
    return true;
  }

  /** A human in the web UI: only moves the UI offers. */
  act(ref: string, action: Exclude<OpsGenieAction, 'Create'>, options: ActionOptions): OpsGenieAlert {
    const alert = this.mustFind(ref);
    const allowed: Record<typeof action, readonly OpsGenieAlertStatus[]> = {
      Acknowledge: ['open'],
      UnAcknowledge: ['acked'],
      Close: ['open', 'acked'],
      AddNote: ['open', 'acked', 'closed'],
      AddResponder: ['open', 'acked'],
      Escalate: ['open', 'acked'],
      AssignOwnership: ['open', 'acked'],
    };
    if (!allowed[action].includes(alert.status)) {
      throw new SimulatorError('conflict', `cannot ${action} alert ${alert.id}: it is ${alert.status}`);
    }
    this.apply(alert, action, options, 'ui');
    return alert;
  }

  /** By id, tiny id or alias, whichever matches. */
  mustFind(ref: string): OpsGenieAlert {
    const alert = this.find(ref, 'id') ?? this.find(ref, 'alias') ?? this.find(ref, 'tiny');
    if (alert === undefined) throw new SimulatorError('not_found', `no alert ${ref}`);
    return alert;
  }

  list(): OpsGenieAlert[] {
    return structuredClone(this.book.all()) as OpsGenieAlert[];
  }

  get size(): number {
    return this.book.size;
  }

  reset(): void {
    this.book.clear();
    this.nextTiny = 1;
  }

  private now(): string {
    return new Date(this.clock.now()).toISOString();
  }
}
