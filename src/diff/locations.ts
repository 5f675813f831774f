// Rule name → `file:line` for each stage of a loaded policy, so a change names the rule on each side
// where a reviewer can find it (docs/policy-diff.md).
import type { LoadedPolicy } from '../policy/load.js';
import { RULE_SECTIONS } from '../policy/types.js';

export type RuleLocations = ReadonlyMap<string, string>;

/** `file:line` of every named rule; the first of a name wins (names are unique per stage). */
export function ruleLocations(loaded: Pick<LoadedPolicy, 'document' | 'locate'>): RuleLocations {
  const out = new Map<string, string>();
  for (const section of RULE_SECTIONS) {
    const rules = loaded.document[section] as readonly { name: string }[];
    rules.forEach((rule, i) => {
      const at = loaded.locate([section, i]);
      if (at !== null && !out.has(rule.name)) out.set(rule.name, at.replace(/:\d+$/, ''));
    });
  }
  return out;
}
