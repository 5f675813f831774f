// Condition trees after the merge: `{condition: name}` references exist and named conditions do
// not refer to themselves (json-rules-engine would recurse forever), and every leaf passes
// check-leaf.ts. Covers named conditions and every rule's `when`.
import { RULE_SECTIONS, type LeafCondition } from '../types.js';
import { checkLeaf } from './check-leaf.js';
import { isKnown, type CheckContext } from './context.js';
import { RULE_NOUN, isPlainObject, type Item } from './merge.js';
import type { Where } from './report.js';
import { isValidLeaf } from './schema.js';
import type { Path } from './source.js';
import { didYouMean } from './suggest.js';

interface Reference {
  target: string;
  where: Where;
}

export function checkConditions(ctx: CheckContext): void {
  const references = new Map<string, Reference[]>();
  for (const [name, item] of ctx.merged.maps.conditions) {
    references.set(name, walkTree(ctx, item, `condition "${name}"`));
  }
  for (const section of RULE_SECTIONS) {
    for (const rule of ctx.merged.rules[section]) {
      const when = isPlainObject(rule.value) ? rule.value['when'] : undefined;
      if (when === undefined) continue;
      walkTree(
        ctx,
        { ...rule, path: [...rule.path, 'when'], value: when },
        `${RULE_NOUN[section]} "${rule.name ?? '?'}"`,
      );
    }
  }
  reportCycles(ctx, references);
}

/**
 * Check one tree; returns its references to named conditions. The walk is defensive: it runs on
 * items with schema errors too, checking every leaf that is itself valid, so one typo in a rule
 * does not hide a bad regex next to it.
 */
function walkTree(ctx: CheckContext, item: Item, label: string): Reference[] {
  const references: Reference[] = [];
  const visit = (node: unknown, path: Path): void => {
    if (!isPlainObject(node)) return;
    const at = (...more: (string | number)[]): Where => ({ file: item.file, path: [...path, ...more] });
    // The same precedence as the schema's discriminator: all, any, not, condition, fact.
    if ('all' in node || 'any' in node) {
      const key = 'all' in node ? 'all' : 'any';
      const children = node[key];
      if (Array.isArray(children)) children.forEach((child, i) => visit(child, [...path, key, i]));
    } else if ('not' in node) visit(node['not'], [...path, 'not']);
    else if ('condition' in node) {
      const target = node['condition'];
      if (typeof target !== 'string') return;
      ctx.used.conditions.add(target);
      references.push({ target, where: at('condition') });
      const conditions = ctx.merged.maps.conditions;
      if (!isKnown(ctx, conditions, target)) {
        ctx.report.error(
          at('condition'),
          `${label}: unknown condition "${target}"${didYouMean(target, conditions.keys())}`,
        );
      }
    } else if ('fact' in node && isValidLeaf(node))
      checkLeaf(ctx, node as unknown as LeafCondition, { file: item.file, path }, label);
  };
  visit(item.value, item.path);
  return references;
}

/** Each cycle once, at the reference that closes it: `condition cycle: a → b → a`. */
function reportCycles(ctx: CheckContext, references: ReadonlyMap<string, Reference[]>): void {
  const reported = new Set<string>();
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    state.set(name, 'active');
    stack.push(name);
    for (const ref of references.get(name) ?? []) {
      const seen = state.get(ref.target);
      if (seen === 'active') {
        const cycle = [...stack.slice(stack.indexOf(ref.target)), ref.target];
        const id = [...new Set(cycle)].sort().join(' ');
        if (!reported.has(id)) {
          reported.add(id);
          ctx.report.error(
            ref.where,
            `condition cycle: ${cycle.join(' → ')} (a condition cannot refer to itself)`,
          );
        }
      } else if (seen === undefined && references.has(ref.target)) visit(ref.target);
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of [...references.keys()].sort()) if (!state.has(name)) visit(name);
}
