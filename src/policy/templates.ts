// `{field}` placeholders in titles, fingerprints and resolve targets (docs/policy-language.md,
// "Templates"), compiled once.
import type { Facts } from './conditions.js';

export const TEMPLATE_FIELDS = [
  'service',
  'level',
  'source',
  'host',
  'message',
  'team',
  'criticality',
  'severity',
  'rule',
  'trace_id',
] as const;

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)?)\}/g;

export type Template = (facts: Facts) => string;

/** Placeholder names a template uses, for load-time checks. */
export function templateFields(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
}

export function isTemplateField(field: string): boolean {
  return (TEMPLATE_FIELDS as readonly string[]).includes(field) || /^attributes\.[A-Za-z0-9_-]+$/.test(field);
}

/** A missing or non-scalar value renders as an empty string; objects render as JSON. */
export function compileTemplate(template: string): Template {
  const parts: (string | ((facts: Facts) => string))[] = [];
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push(template.slice(last, m.index));
    parts.push(reader(m[1] as string));
    last = m.index + m[0].length;
  }
  if (last < template.length) parts.push(template.slice(last));
  if (parts.length === 1 && typeof parts[0] === 'string') {
    const constant = parts[0];
    return () => constant;
  }
  return (facts) => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : p(facts);
    return out;
  };
}

function reader(field: string): (facts: Facts) => string {
  const dot = field.indexOf('.');
  if (dot === -1) return (facts) => text(facts[field]);
  const [fact, key] = [field.slice(0, dot), field.slice(dot + 1)];
  return (facts) => {
    const obj = facts[fact];
    return obj !== null && typeof obj === 'object' && Object.hasOwn(obj, key)
      ? text((obj as Record<string, unknown>)[key])
      : '';
  };
}

function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
