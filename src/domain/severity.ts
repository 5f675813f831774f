/** Severities, lowest to highest (docs/policy-language.md, "Severities"). Only `low` and above page. */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

const RANK: Readonly<Record<Severity, number>> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

export function isSeverity(value: unknown): value is Severity {
  return typeof value === 'string' && Object.hasOwn(RANK, value);
}

export function severityRank(severity: Severity): number {
  return RANK[severity];
}

export function severityAtLeast(severity: Severity, floor: Severity): boolean {
  return RANK[severity] >= RANK[floor];
}

export function maxSeverity(a: Severity, b: Severity): Severity {
  return RANK[a] >= RANK[b] ? a : b;
}

export function isPagingSeverity(severity: Severity): boolean {
  return RANK[severity] >= RANK.low;
}
