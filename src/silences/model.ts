// Silences (docs/http-api.md, "Silences"): a matcher set over a decision's facts with a time span.
// A silence whose span holds `now` suppresses the alerts it matches in the suppress stage
// (docs/policy-language.md, "Silences"). The record is what both state backends store.
import type { ReDoSVerdict } from '../policy/redos.js';

/** Facts a silence may match (docs/http-api.md, "Silences"). */
export const SILENCE_FACTS = [
  'service',
  'team',
  'severity',
  'source',
  'fingerprint',
  'message',
  'level',
  'host',
  'rule',
  'criticality',
  'attributes',
] as const;
export type SilenceFact = (typeof SILENCE_FACTS)[number];

/** Facts every event has: a regex on one of them that matches the empty text matches every event. */
export const ALWAYS_PRESENT: ReadonlySet<SilenceFact> = new Set([
  'service',
  'team',
  'severity',
  'message',
  'level',
  'rule',
  'criticality',
  'fingerprint',
]);

export type Matcher =
  | { fact: SilenceFact; op: 'equal'; value: string; path?: string }
  | {
      fact: SilenceFact;
      op: 'matches';
      value: string;
      path?: string;
      /** The ReDoS verdict given when the silence was made, so a restart compiles it the same way. */
      verdict: ReDoSVerdict;
    };

export type SilenceAction = 'created' | 'updated' | 'expired';

/** One line of a silence's own audit trail: who, when, why. */
export interface SilenceHistoryEntry {
  at: string;
  action: SilenceAction;
  by: string;
  comment: string;
  /** The span after the change. */
  starts_at: string;
  ends_at: string;
}

export interface Silence {
  id: string;
  matchers: Matcher[];
  starts_at: string;
  ends_at: string;
  created_by: string;
  comment: string;
  created_at: string;
  updated_at: string;
  /** Bumped by every change; the newest wins when replicas' copies meet (cluster mode). */
  version: number;
  history: SilenceHistoryEntry[];
}

export type SilenceState = 'pending' | 'active' | 'expired';
export const SILENCE_STATES: readonly SilenceState[] = ['active', 'pending', 'expired'];

export function stateAt(startsMs: number, endsMs: number, nowMs: number): SilenceState {
  if (nowMs >= endsMs) return 'expired';
  return nowMs < startsMs ? 'pending' : 'active';
}

export function silenceState(silence: Silence, nowMs: number): SilenceState {
  return stateAt(Date.parse(silence.starts_at), Date.parse(silence.ends_at), nowMs);
}

/** A stored silence as the API shows it: with its state at `nowMs`. */
export function publicSilence(silence: Silence, nowMs: number): Silence & { state: SilenceState } {
  const matchers = silence.matchers.map((m) => {
    if (m.op === 'equal') return m;
    const { verdict: _verdict, ...rest } = m;
    return rest as Matcher;
  });
  return { ...silence, matchers, state: silenceState(silence, nowMs) };
}

/** What the state backends keep of silences: whole records by id, the newest version winning. */
export interface SilenceStore {
  loadSilences(): Promise<Silence[]>;
  /** Durable before it resolves (LevelDB: fsync; JetStream: the server's ack). */
  putSilence(silence: Silence): Promise<void>;
  /** Retention: a silence expired long ago is forgotten. */
  forgetSilence(id: string): Promise<void>;
  /** Cluster mode: every replica's changes, the stored ones first (replayed), then live; a forgotten one as its id. */
  followSilences?(listener: (silence: Silence | string) => void): Promise<void>;
}
