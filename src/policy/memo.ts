// Memoised engine answers. A rule's result is a pure function of the facts its conditions read, so
// json-rules-engine's answer for one combination of those values holds for every event that
// repeats it (log lines repeat a lot; a storm repeats one line thousands of times). Rules that read
// `now` are never memoised. Bounded in entries and characters: a full memo is cleared, never grown.
import { createHash } from 'node:crypto';
import type { Condition, TopCondition } from './types.js';

const MEMO_LIMIT = 4096;
const MEMO_KEY_CHARS = 1_024;
const MEMO_CHARS = 256 * 1024;

/** Every fact a condition tree reads, through named conditions and `{fact}` values. */
export function factsRead(
  condition: Condition,
  named: Readonly<Record<string, TopCondition>>,
  seen = new Set<string>(),
): Set<string> {
  const out = new Set<string>();
  const visit = (c: Condition): void => {
    if ('all' in c) c.all.forEach(visit);
    else if ('any' in c) c.any.forEach(visit);
    else if ('not' in c) visit(c.not);
    else if ('condition' in c) {
      if (seen.has(c.condition)) return;
      seen.add(c.condition);
      const target = named[c.condition];
      if (target) visit(target);
    } else {
      out.add(c.fact);
      const v = c.value as { fact?: unknown } | null;
      if (v !== null && typeof v === 'object' && typeof v.fact === 'string') out.add(v.fact);
    }
  };
  visit(condition);
  return out;
}

export class EngineMemo {
  private readonly answers = new Map<string, boolean>();
  private chars = 0;

  private constructor(private readonly facts: readonly string[]) {}

  /** A memo for a rule, or null when its answer depends on the time. */
  static forRule(condition: Condition, named: Readonly<Record<string, TopCondition>>): EngineMemo | null {
    const facts = factsRead(condition, named);
    return facts.has('now') ? null : new EngineMemo([...facts].sort());
  }

  /** Fact values can be long (a 64 KiB message): a long key is replaced by its digest. */
  key(facts: Readonly<Record<string, unknown>>): string {
    let key = '';
    for (const f of this.facts) key += `${JSON.stringify(facts[f]) ?? 'u'}\u0000`;
    return key.length <= MEMO_KEY_CHARS ? key : `#${createHash('sha256').update(key).digest('base64')}`;
  }

  get(key: string): boolean | undefined {
    return this.answers.get(key);
  }

  set(key: string, answer: boolean): void {
    if (this.answers.size >= MEMO_LIMIT || this.chars + key.length > MEMO_CHARS) {
      this.answers.clear();
      this.chars = 0;
    }
    this.answers.set(key, answer);
    this.chars += key.length;
  }
}
