// The diff report as a reviewer reads it (docs/policy-diff.md, "Output"): a terminal table, Markdown
// to paste as a pull-request comment, or JSON (the report itself).
import type { ChangeGroup, DiffReport, Example, RuleRef } from './diff.js';

export const FORMATS = ['table', 'markdown', 'json'] as const;
export type Format = (typeof FORMATS)[number];

const KIND_TITLE: Readonly<Record<ChangeGroup['kind'], string>> = {
  fingerprint: 'FINGERPRINT CHANGED (open incidents of the old fingerprint are orphaned)',
  paged: 'paging',
  severity: 'severity',
  suppression: 'suppression',
  route: 'route',
  providers: 'providers',
};

const rule = (r: RuleRef | null): string => (r === null ? '(default)' : `${r.name} (${r.at ?? 'default'})`);
const pct = (n: number, of: number): string => (of === 0 ? '0%' : `${((n / of) * 100).toFixed(2)}%`);

function headline(report: DiffReport): string {
  const { old: a, new: b } = report;
  return (
    `policy ${a.version} (${a.revision.slice(0, 19)}) → ${b.version} (${b.revision.slice(0, 19)}): ` +
    `${report.changed} of ${report.events} events change (${pct(report.changed, report.events)})` +
    (report.problems.length > 0
      ? `, ${report.problems_total ?? report.problems.length} unreadable skipped`
      : '')
  );
}

function padTable(rows: string[][]): string[] {
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  return rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd(),
  );
}

function exampleLine(e: Example): string {
  return `${e.at} ${e.service} ${e.level}: ${e.message}  [${e.ref}]`;
}

export function formatTable(report: DiffReport): string {
  const out = [headline(report)];
  if (report.groups.length > 0) {
    out.push('');
    const rows = [['change', 'from', 'to', 'events', 'old rule', 'new rule']];
    for (const g of report.groups) {
      const first = g.examples[0];
      rows.push([
        (g.loud ? '!! ' : '') + g.kind,
        g.from,
        g.to,
        String(g.count),
        first ? rule(first.old.rule) : '',
        first ? rule(first.new.rule) : '',
      ]);
    }
    out.push(...padTable(rows));
    for (const g of report.groups) {
      out.push('', `${KIND_TITLE[g.kind]}: ${g.from} → ${g.to} (${g.count})`);
      for (const e of g.examples) out.push(`  ${exampleLine(e)}`);
    }
  }
  for (const p of report.problems) out.push(`skipped ${p.ref}: ${p.message}`);
  return out.join('\n');
}

const md = (s: string): string => s.replace(/[|`*_<>[\]]/g, (c) => `\\${c}`);
const mdRule = (r: RuleRef | null): string =>
  r === null ? '(default)' : `\`${r.name}\` ${r.at ?? ''}`.trim();

export function formatMarkdown(report: DiffReport): string {
  const out = [`### Policy diff`, '', md(headline(report))];
  const loud = report.groups.filter((g) => g.loud);
  if (loud.length > 0) {
    const n = loud.reduce((s, g) => s + g.count, 0);
    out.push(
      '',
      `> [!WARNING]`,
      `> ${n} events get a new fingerprint: their open incidents would be orphaned.`,
    );
  }
  if (report.groups.length > 0) {
    out.push('', '| change | from | to | events | old rule | new rule |', '|---|---|---|---:|---|---|');
    for (const g of report.groups) {
      const first = g.examples[0];
      out.push(
        `| ${g.loud ? '**fingerprint**' : g.kind} | ${md(g.from)} | ${md(g.to)} | ${g.count} | ` +
          `${first ? mdRule(first.old.rule) : ''} | ${first ? mdRule(first.new.rule) : ''} |`,
      );
    }
    out.push('', '<details><summary>Examples</summary>', '');
    for (const g of report.groups) {
      out.push(`**${g.kind}: ${md(g.from)} → ${md(g.to)}** (${g.count})`, '');
      for (const e of g.examples) out.push(`- ${md(exampleLine(e))}`);
      out.push('');
    }
    out.push('</details>');
  }
  if (report.problems.length > 0) {
    out.push('', `${report.problems_total ?? report.problems.length} unreadable event(s) skipped:`, '');
    for (const p of report.problems.slice(0, 10)) out.push(`- ${md(p.ref)}: ${md(p.message)}`);
  }
  return out.join('\n');
}

export function formatReport(report: DiffReport, format: Format): string {
  switch (format) {
    case 'table':
      return formatTable(report);
    case 'markdown':
      return formatMarkdown(report);
    case 'json':
      return JSON.stringify(report, null, 2);
  }
}
