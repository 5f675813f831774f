// The policy directory → one validated PolicyDocument, or every problem with its `file:line:col`
// (docs/policy-language.md, "Errors and warnings"). The steps: YAML with positions and `${ENV}`
// (load/source.ts), the JSON schema per file (load/schema.ts), the merge (load/merge.ts), checks across
// the merged policy (load/check-*.ts), defaults, revision and secrets (load/build.ts). A policy is
// loaded whole or not at all.
import { errorMessage, type PolicyProblem } from '../errors.js';
import {
  MAP_SECTIONS,
  RULE_SECTIONS,
  type PolicyDocument,
  type PolicyFileInfo,
  type SourceRef,
} from './types.js';
import { buildDocument, revisionOf, secretsOf } from './load/build.js';
import { parseCache, type ParseCache } from './load/parse-cache.js';
import { checkProviders, checkServices, checkTeams } from './load/check-catalog.js';
import { checkConditions } from './load/check-conditions.js';
import { checkClassify, checkRoutes, warnUnusedConditions } from './load/check-rules.js';
import { checkEscalations } from '../escalation/check.js';
import { checkSettings, checkTimeWindows, isValidZone, warnUnusedWindows } from './load/check-settings.js';
import { checkOnCall } from '../oncall/check.js';
import type { CheckContext } from './load/context.js';
import { withDefaults } from './load/defaults.js';
import {
  isPlainObject,
  itemOf,
  mergeFiles,
  originOf,
  type FileInput,
  type MergedPolicy,
} from './load/merge.js';
import { formatAll, Reporter } from './load/report.js';
import { isRegExp, MAX_PATTERN_CHARS } from './patterns.js';
import { checkReDoSSync, type Verdicts } from './redos.js';
import { validateFile } from './load/schema.js';
import { parseFile, type ParsedFile, type Path } from './load/source.js';

export { DEFAULT_SETTINGS } from './load/defaults.js';
export { readPolicyDir } from './load/read-dir.js';

export interface PolicySource {
  /** The file name shown in problems, e.g. "routing.yaml". */
  name: string;
  text: string;
}

export interface LoadOptions {
  /** Where `${NAME}` references are looked up. */
  env: Readonly<Record<string, string | undefined>>;
  /**
   * A candidate policy from a request: a variable missing from `env` is withheld (it becomes
   * the placeholder `$NAME`, and the values built from it are not checked) rather than unset.
   */
  candidate?: boolean;
  /** Provider keys may be left empty only in sandbox mode (the providers are simulators). */
  sandbox: boolean;
  /** Files read before, by their text (load/parse-cache.ts); the process's own unless given; null: none. */
  parseCache?: ParseCache | null;
}

export interface LoadedPolicy {
  /** Merged, defaults applied, rule lists ordered by priority, then file name, then position. */
  document: PolicyDocument;
  version: string;
  /** "sha256:" + hex sha256 of the canonical (sorted-keys JSON) document. */
  revision: string;
  files: PolicyFileInfo[];
  /** `file:line:col message`: things that load but are probably mistakes. */
  warnings: string[];
  /** `file:line:col message`: informational, e.g. patterns that run on RE2. */
  notes: string[];
  /** Every secret value in the document, longest first, so logs can scrub them. */
  secrets: string[];
  /** The ReDoS verdict of each of its patterns (what compile builds the matchers from). */
  verdicts: Verdicts;
  /** Where a node of the document came from, e.g. ['routes', 0, 'deliver']; null for defaults. */
  origin(path: Path): SourceRef | null;
  /** `file:line:col` of a node of the document; null for defaults. */
  locate(path: Path): string | null;
}

export type LoadResult =
  { ok: true; policy: LoadedPolicy } | { ok: false; problems: PolicyProblem[]; warnings: string[] };

/** A load up to the point where its patterns' ReDoS verdicts are needed. */
interface Begun {
  parsed: ParsedFile[];
  report: Reporter;
  merged: MergedPolicy;
  ctx: Omit<CheckContext, 'verdicts'>;
  /** Every `matches` pattern that compiles: what the checker must judge. */
  patterns: string[];
}

/**
 * The command line's and tests' loader: synchronous, and it blocks while a child process checks
 * new patterns. The running sidecar uses `loadPolicyAsync`. Never throws: every problem, however
 * odd the input, comes back as a result.
 */
export function loadPolicy(sources: readonly PolicySource[], options: LoadOptions): LoadResult {
  return guarded(sources, () => {
    const begun = begin(sources, options);
    return 'ok' in begun ? begun : complete(begun, checkReDoSSync(begun.patterns));
  });
}

/**
 * The same load, with the patterns checked off the event loop by `verdicts` (a PatternChecker);
 * rejects only when the checker refuses the request (its bounds), with the reason.
 */
export async function loadPolicyAsync(
  sources: readonly PolicySource[],
  options: LoadOptions,
  verdicts: (patterns: readonly string[]) => Promise<Verdicts>,
): Promise<LoadResult> {
  const begun = guarded(sources, () => begin(sources, options));
  if ('ok' in begun) return begun;
  const judged = await verdicts(begun.patterns);
  return guarded(sources, () => complete(begun, judged));
}

function guarded<T>(sources: readonly PolicySource[], load: () => T): T | LoadResult {
  try {
    return load();
  } catch (err) {
    const file = sources[0]?.name ?? '(policy)';
    return {
      ok: false,
      problems: [
        { file, line: 1, col: 1, message: `internal error while loading the policy: ${errorMessage(err)}` },
      ],
      warnings: [],
    };
  }
}

function begin(sources: readonly PolicySource[], options: LoadOptions): Begun | LoadResult {
  const ordered = [...sources].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const first = ordered[0];
  if (first === undefined)
    return {
      ok: false,
      problems: [{ file: '(policy)', line: 1, col: 1, message: 'no policy files' }],
      warnings: [],
    };
  const unique = ordered.filter((s, i) => s.name !== ordered[i - 1]?.name);
  const lookup = { env: options.env, withhold: options.candidate === true };
  const cache = options.parseCache === undefined ? parseCache : options.parseCache;
  const parsed = unique.map((s) => parseFile(s.name, s.text, lookup, cache));
  const report = new Reporter(new Map(parsed.map((p) => [p.file.name, p.file])));
  if (unique.length < ordered.length)
    report.error({ file: first.name, path: [] }, 'two policy files have the same name');
  const { inputs, complete } = validateFiles(parsed, report);
  const merged = mergeFiles(inputs, report);
  const ctx = checkContext(merged, report, options, complete, first.name);
  if (merged.version === null && complete)
    report.error({ file: first.name, path: [] }, 'no file sets "version"');
  // Only what compiles and is not too long to be allowed is worth a check (patterns.ts).
  const patterns = parsed
    .flatMap((p) => patternsIn(p.value))
    .filter((p) => p.length <= MAX_PATTERN_CHARS && isRegExp(p));
  return { parsed, report, merged, ctx, patterns };
}

function complete(begun: Begun, verdicts: Verdicts): LoadResult {
  const { parsed, report, merged } = begun;
  const ctx: CheckContext = { ...begun.ctx, verdicts };
  runChecks(ctx);
  const warnings = formatAll(report.warnings);
  if (report.problems.length > 0) return { ok: false, problems: dedupe(report.finish()), warnings };
  const document = buildDocument(merged, ctx.settings);
  const files = parsed.map((p) => ({ name: p.file.name, sha256: p.file.sha256 }));
  const origin = (path: Path): SourceRef | null => originOf(merged, path);
  const own = new Set(begun.patterns);
  return {
    ok: true,
    policy: {
      document,
      version: document.version,
      revision: revisionOf(document),
      files,
      warnings,
      notes: formatAll(report.notes),
      secrets: secretsOf(document),
      verdicts: new Map([...verdicts].filter(([source]) => own.has(source))),
      origin,
      locate: (path) => {
        const ref = origin(path);
        return ref === null ? null : report.describe(ref);
      },
    },
  };
}

/** YAML problems, then the schema per file; returns what can be merged. */
function validateFiles(
  parsed: readonly ParsedFile[],
  report: Reporter,
): { inputs: FileInput[]; complete: boolean } {
  const inputs: FileInput[] = [];
  let complete = true;
  for (const { file, problems, warnings, value, empty } of parsed) {
    for (const p of problems) report.root({ file: file.name, ...p });
    for (const w of warnings) report.warnings.push({ file: file.name, ...w });
    if (value === undefined) {
      complete &&= empty;
      continue;
    }
    const issues = validateFile(value);
    for (const issue of issues)
      report.rootAt({ file: file.name, path: issue.path, key: issue.key }, issue.message);
    if (!isPlainObject(value)) {
      complete = false;
      continue;
    }
    const invalid = new Set(issues.map((i) => itemOf(i.path)));
    const sections = [...MAP_SECTIONS, ...RULE_SECTIONS] as string[];
    if (sections.some((s) => invalid.has(JSON.stringify([s])))) complete = false;
    inputs.push({ name: file.name, value, invalid });
  }
  return { inputs, complete };
}

function checkContext(
  merged: MergedPolicy,
  report: Reporter,
  options: LoadOptions,
  complete: boolean,
  firstFile: string,
): Omit<CheckContext, 'verdicts'> {
  const settings = withDefaults(merged.settings?.valid === true ? merged.settings.value : undefined);
  // An unknown zone is reported once, by checkSettings; time windows fall back to UTC meanwhile.
  if (!isValidZone(settings.timezone)) settings.timezone = 'UTC';
  const used = { windows: new Set<string>(), conditions: new Set<string>() };
  const candidate = options.candidate === true;
  return { merged, report, sandbox: options.sandbox, candidate, firstFile, complete, settings, used };
}

function runChecks(ctx: CheckContext): void {
  checkSettings(ctx);
  checkTimeWindows(ctx);
  checkProviders(ctx);
  checkTeams(ctx);
  checkServices(ctx);
  checkConditions(ctx);
  checkClassify(ctx);
  checkRoutes(ctx);
  checkEscalations(ctx);
  checkOnCall(ctx);
  warnUnusedWindows(ctx);
  warnUnusedConditions(ctx);
}

function dedupe(problems: readonly PolicyProblem[]): PolicyProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const id = `${p.file}:${p.line}:${p.col} ${p.message}`;
    const fresh = !seen.has(id);
    seen.add(id);
    return fresh;
  });
}

/** Every `matches` pattern in a file's conditions (with decorators, as in `some:matches`). */
function patternsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const item of value) patternsIn(item, out);
  } else if (isPlainObject(value)) {
    const { operator, value: operand } = value as { operator?: unknown; value?: unknown };
    if (typeof operator === 'string' && operator.split(':').at(-1) === 'matches') {
      for (const v of Array.isArray(operand) ? operand : [operand]) if (typeof v === 'string') out.push(v);
    }
    for (const child of Object.values(value)) patternsIn(child, out);
  }
  return out;
}
