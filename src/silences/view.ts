// The silences in memory, indexed for the decision's hot path (docs/architecture.md, "Silences"):
// a silence that requires an exact fingerprint is filed under it, else one that requires an exact
// service under that, else in a short list every decision scans. A decision looks at its
// fingerprint's and service's candidates and the list, never at every silence.
import type { Facts } from '../policy/conditions.js';
import { compileSilence, type CompiledSilence } from './compile.js';
import { silenceState, type Silence, type SilenceState } from './model.js';

export class SilenceView {
  /** Every silence known, expired ones too (listing), by id. */
  private readonly all = new Map<string, CompiledSilence>();
  private readonly byFingerprint = new Map<string, CompiledSilence[]>();
  private readonly byService = new Map<string, CompiledSilence[]>();
  private readonly unindexed: CompiledSilence[] = [];

  get size(): number {
    return this.all.size;
  }

  get(id: string): Silence | undefined {
    return this.all.get(id)?.silence;
  }

  list(): Silence[] {
    return [...this.all.values()].map((c) => c.silence);
  }

  /**
   * Adds or replaces a silence. `authoritative`: it comes from the store (a load, or in cluster mode
   * the bucket's watch, whose order every replica shares): it replaces whatever is held. A local
   * write is applied at once too, unless a newer version is held already.
   */
  put(silence: Silence, authoritative: boolean): boolean {
    const held = this.all.get(silence.id);
    if (!authoritative && held !== undefined && held.silence.version > silence.version) return false;
    if (held !== undefined) this.unfile(held);
    const compiled = compileSilence(silence);
    this.all.set(silence.id, compiled);
    this.file(compiled);
    return true;
  }

  forget(id: string): void {
    const held = this.all.get(id);
    if (held === undefined) return;
    this.unfile(held);
    this.all.delete(id);
  }

  /** Silences that ended before `cutoffMs`. */
  endedBefore(cutoffMs: number): Silence[] {
    return [...this.all.values()].filter((c) => c.endsMs < cutoffMs).map((c) => c.silence);
  }

  /** The first silence active at `nowMs` that matches the facts, or null. */
  match(facts: Facts, nowMs: number): Silence | null {
    const fp = facts['fingerprint'];
    const service = facts['service'];
    return (
      (typeof fp === 'string' ? first(this.byFingerprint.get(fp), facts, nowMs) : null) ??
      (typeof service === 'string' ? first(this.byService.get(service), facts, nowMs) : null) ??
      first(this.unindexed, facts, nowMs)
    );
  }

  /** Drops expired silences from the index (they stay listed); returns the ones dropped. */
  sweep(nowMs: number): Silence[] {
    const dropped: Silence[] = [];
    for (const c of this.all.values()) {
      if (c.endsMs > nowMs || !this.isFiled(c)) continue;
      this.unfile(c);
      dropped.push(c.silence);
    }
    return dropped;
  }

  counts(nowMs: number): Record<SilenceState, number> {
    const counts: Record<SilenceState, number> = { active: 0, pending: 0, expired: 0 };
    for (const c of this.all.values()) counts[silenceState(c.silence, nowMs)]++;
    return counts;
  }

  private bucket(c: CompiledSilence): CompiledSilence[] {
    if (c.fingerprint !== null) return getOrMake(this.byFingerprint, c.fingerprint);
    if (c.service !== null) return getOrMake(this.byService, c.service);
    return this.unindexed;
  }

  private file(c: CompiledSilence): void {
    this.bucket(c).push(c);
  }

  private isFiled(c: CompiledSilence): boolean {
    return this.bucket(c).includes(c);
  }

  private unfile(c: CompiledSilence): void {
    const list = this.bucket(c);
    const at = list.indexOf(c);
    if (at >= 0) list.splice(at, 1);
    if (list.length === 0 && list !== this.unindexed) {
      if (c.fingerprint !== null) this.byFingerprint.delete(c.fingerprint);
      else if (c.service !== null) this.byService.delete(c.service);
    }
  }
}

function getOrMake(map: Map<string, CompiledSilence[]>, key: string): CompiledSilence[] {
  let list = map.get(key);
  if (list === undefined) {
    list = [];
    map.set(key, list);
  }
  return list;
}

function first(list: readonly CompiledSilence[] | undefined, facts: Facts, nowMs: number): Silence | null {
  if (list === undefined) return null;
  for (const c of list) {
    if (nowMs < c.startsMs || nowMs >= c.endsMs) continue;
    if (c.test(facts)) return c.silence;
  }
  return null;
}
