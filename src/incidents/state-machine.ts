// The incident state machine (docs/architecture.md, "Incident states"): triggered → acknowledged →
// resolved; acknowledged → triggered on unacknowledge; resolved → triggered on reopen; `escalated` is
// recorded beside the state. A transition that does not apply is refused with the reason, never forced.
import type { IncidentState } from '../domain/incident.js';

export type IncidentAction = 'acknowledge' | 'unacknowledge' | 'resolve' | 'reopen' | 'escalate';

export type Transition =
  | { ok: true; from: IncidentState; to: IncidentState; changed: boolean }
  | { ok: false; from: IncidentState; reason: string };

export function transition(from: IncidentState, action: IncidentAction): Transition {
  switch (action) {
    case 'acknowledge':
      if (from === 'triggered') return { ok: true, from, to: 'acknowledged', changed: true };
      if (from === 'acknowledged') return { ok: true, from, to: from, changed: false };
      return { ok: false, from, reason: 'a resolved incident cannot be acknowledged' };
    case 'unacknowledge':
      if (from === 'acknowledged') return { ok: true, from, to: 'triggered', changed: true };
      if (from === 'triggered') return { ok: true, from, to: from, changed: false };
      return { ok: false, from, reason: 'a resolved incident cannot be unacknowledged' };
    case 'resolve':
      if (from === 'resolved') return { ok: true, from, to: from, changed: false };
      return { ok: true, from, to: 'resolved', changed: true };
    case 'reopen':
      if (from === 'resolved') return { ok: true, from, to: 'triggered', changed: true };
      return { ok: true, from, to: from, changed: false };
    case 'escalate':
      if (from === 'resolved') return { ok: false, from, reason: 'a resolved incident cannot be escalated' };
      return { ok: true, from, to: from, changed: true };
  }
}
