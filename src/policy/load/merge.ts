// The files of a policy directory become one policy (docs/policy-language.md, "Files and merging"): map
// sections merge by key (a key defined twice is an error naming both places), rule lists concatenate
// and are ordered by priority (higher first, default 0), then file name, then position. `version` and
// `settings` come from one file each. Every merged item remembers where it came from.
import { MAP_SECTIONS, RULE_SECTIONS, type MapSection, type RuleSection, type SourceRef } from '../types.js';
import type { Reporter, Where } from './report.js';
import type { Path } from './source.js';

/** One file's value after the schema check; `invalid` holds items (as JSON paths) that failed it. */
export interface FileInput {
  name: string;
  value: Record<string, unknown>;
  invalid: ReadonlySet<string>;
}

/** A merged item and its origin. Invalid items keep their name (so references to them are not "unknown") but are not checked further. */
export interface Item extends Where {
  value: unknown;
  valid: boolean;
}
export interface NamedItem extends Item {
  name: string;
}
export interface RuleItem extends Item {
  name: string | null;
  priority: number;
}

export interface MergedPolicy {
  version: Item | null;
  settings: Item | null;
  maps: Record<MapSection, Map<string, NamedItem>>;
  rules: Record<RuleSection, RuleItem[]>;
}

export const MAP_ITEM_NOUN: Readonly<Record<MapSection, string>> = {
  providers: 'provider',
  time_windows: 'time window',
  teams: 'team',
  services: 'service',
  conditions: 'condition',
  people: 'person',
  schedules: 'schedule',
  escalations: 'escalation',
};
export const RULE_NOUN: Readonly<Record<RuleSection, string>> = {
  classify: 'classify rule',
  upgrade: 'upgrade rule',
  suppress: 'suppress rule',
  routes: 'route',
};

/** The JSON path of the item a schema error at `path` invalidates. */
export function itemOf(path: Path): string {
  const section = path[0];
  const isCollection =
    (MAP_SECTIONS as readonly unknown[]).includes(section) ||
    (RULE_SECTIONS as readonly unknown[]).includes(section);
  return JSON.stringify(isCollection ? path.slice(0, 2) : path.slice(0, 1));
}

/** Files must come sorted by name: that order is the tie-breaker of rule ordering. */
export function mergeFiles(files: readonly FileInput[], report: Reporter): MergedPolicy {
  const merged: MergedPolicy = {
    version: null,
    settings: null,
    maps: Object.fromEntries(MAP_SECTIONS.map((s) => [s, new Map()])) as MergedPolicy['maps'],
    rules: Object.fromEntries(RULE_SECTIONS.map((s) => [s, []])) as unknown as MergedPolicy['rules'],
  };
  for (const file of files) {
    merged.version = single(file, 'version', merged.version, report);
    merged.settings = single(file, 'settings', merged.settings, report);
    for (const section of MAP_SECTIONS) mergeMap(file, section, merged.maps[section], report);
    for (const section of RULE_SECTIONS) appendRules(file, section, merged.rules[section], report);
  }
  for (const section of RULE_SECTIONS) {
    // Array.prototype.sort is stable: equal priorities keep file-name-then-position order.
    merged.rules[section].sort((a, b) => b.priority - a.priority);
  }
  return merged;
}

function isValid(file: FileInput, path: Path): boolean {
  return !file.invalid.has(JSON.stringify(path));
}

function single(
  file: FileInput,
  key: 'version' | 'settings',
  current: Item | null,
  report: Reporter,
): Item | null {
  if (!Object.hasOwn(file.value, key)) return current;
  const item: Item = { file: file.name, path: [key], value: file.value[key], valid: isValid(file, [key]) };
  if (current === null) return item;
  report.error(
    { ...item, key: true },
    `"${key}" is already set at ${report.describe({ ...current, key: true })}: exactly one file sets it`,
  );
  return current;
}

function mergeMap(
  file: FileInput,
  section: MapSection,
  into: Map<string, NamedItem>,
  report: Reporter,
): void {
  const entries = file.value[section];
  if (!isPlainObject(entries) || !isValid(file, [section])) return;
  for (const [name, value] of Object.entries(entries)) {
    const item: NamedItem = {
      file: file.name,
      path: [section, name],
      value,
      valid: isValid(file, [section, name]),
      name,
    };
    const existing = into.get(name);
    if (existing === undefined) {
      into.set(name, item);
      continue;
    }
    const noun = MAP_ITEM_NOUN[section];
    report.error(
      { ...item, key: true },
      `${noun} "${name}" is already defined at ${report.describe({ ...existing, key: true })}`,
    );
  }
}

function appendRules(file: FileInput, section: RuleSection, into: RuleItem[], report: Reporter): void {
  const rules = file.value[section];
  if (!Array.isArray(rules) || !isValid(file, [section])) return;
  rules.forEach((value: unknown, index) => {
    const rule = isPlainObject(value) ? value : {};
    const name = typeof rule['name'] === 'string' ? rule['name'] : null;
    const priority =
      typeof rule['priority'] === 'number' && Number.isFinite(rule['priority']) ? rule['priority'] : 0;
    const item: RuleItem = {
      file: file.name,
      path: [section, index],
      value,
      valid: isValid(file, [section, index]),
      name,
      priority,
    };
    const twin = name === null ? undefined : into.find((r) => r.name === name);
    if (twin !== undefined) {
      const where = (r: RuleItem): Where => ({ file: r.file, path: [...r.path, 'name'] });
      report.error(
        where(item),
        `${RULE_NOUN[section]} "${name}" is already defined at ${report.describe(where(twin))}`,
      );
    }
    into.push(item);
  });
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Where a node of the merged document came from, e.g. ['routes', 0, 'deliver']; null for defaults. */
export function originOf(merged: MergedPolicy, path: Path): SourceRef | null {
  const [section, key, ...rest] = path;
  if (section === 'version' || section === 'settings') {
    const item = merged[section];
    return item === null ? null : { file: item.file, path: [...path] };
  }
  const item = (MAP_SECTIONS as readonly unknown[]).includes(section)
    ? merged.maps[section as (typeof MAP_SECTIONS)[number]].get(String(key))
    : (RULE_SECTIONS as readonly unknown[]).includes(section)
      ? merged.rules[section as (typeof RULE_SECTIONS)[number]][Number(key)]
      : undefined;
  return item === undefined ? null : { file: item.file, path: [...item.path, ...rest] };
}
