// Collects what the loader finds, each located as `file:line:col` (STYLE: name and locate every
// error). Checks say *where* as a file and a path inside it; positions are looked up here.
import { formatProblem, type PolicyProblem } from '../../errors.js';
import { positionOf, type Path, type PolicyFile } from './source.js';

/** A node in one file: the path of a value, or of its key when `key` is set. */
/** Enough to fix a file; a file with thousands of problems is not worth listing in full. */
export const MAX_PROBLEMS_PER_FILE = 100;

export interface Where {
  file: string;
  path: Path;
  key?: boolean;
}

export class Reporter {
  readonly problems: PolicyProblem[] = [];
  readonly warnings: PolicyProblem[] = [];
  readonly notes: PolicyProblem[] = [];

  /** Positions that already have a problem whose consequences would only repeat it. */
  private readonly muted = new Set<string>();

  constructor(private readonly files: ReadonlyMap<string, PolicyFile>) {}

  /** Problems per file beyond MAX_PROBLEMS_PER_FILE, summed up in one line by `finish`. */
  private readonly dropped = new Map<string, number>();

  error(where: Where, message: string): void {
    if (this.isFull(where.file)) return;
    const problem = this.locate(where, message);
    if (!this.muted.has(`${problem.file}:${problem.line}:${problem.col}`)) this.problems.push(problem);
  }

  /** The problems in reading order, with a line at 1:1 of each file that had too many to list. */
  finish(): PolicyProblem[] {
    const summaries = [...this.dropped].map(([file, n]) => ({
      file,
      line: 1,
      col: 1,
      message: `${MAX_PROBLEMS_PER_FILE + n} problems in this file; the first ${MAX_PROBLEMS_PER_FILE} found are listed`,
    }));
    return sortProblems([...summaries, ...this.problems]);
  }

  private isFull(file: string): boolean {
    const listed = this.problems.reduce((n, p) => n + (p.file === file ? 1 : 0), 0);
    if (listed < MAX_PROBLEMS_PER_FILE) return false;
    this.dropped.set(file, (this.dropped.get(file) ?? 0) + 1);
    return true;
  }

  /**
   * Record a problem found before the checks (YAML, `${VAR}`, schema) and silence later errors at
   * its position, which would only repeat it: an unset `${VAR}` becomes "", and "routing_key is
   * empty" would say it again; a condition name the schema refused is also "unknown".
   */
  root(problem: PolicyProblem): void {
    if (this.isFull(problem.file)) return;
    this.problems.push(problem);
    this.muted.add(`${problem.file}:${problem.line}:${problem.col}`);
  }

  /** `root` for a problem that still needs locating. */
  rootAt(where: Where, message: string): void {
    if (!this.isFull(where.file)) this.root(this.locate(where, message));
  }

  warn(where: Where, message: string): void {
    this.warnings.push(this.locate(where, message));
  }

  note(where: Where, message: string): void {
    this.notes.push(this.locate(where, message));
  }

  /** `file:line:col` of a node, for messages that point at a second place. */
  describe(where: Where): string {
    const p = this.locate(where, '');
    return `${p.file}:${p.line}:${p.col}`;
  }

  locate(where: Where, message: string): PolicyProblem {
    const file = this.files.get(where.file);
    const { line, col } = file === undefined ? { line: 1, col: 1 } : positionOf(file, where.path, where.key);
    return { file: where.file, line, col, message };
  }
}

/** Problems in reading order: by file, then line, then column (stable otherwise). */
export function sortProblems(problems: readonly PolicyProblem[]): PolicyProblem[] {
  return [...problems].sort((a, b) =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col,
  );
}

export function formatAll(problems: readonly PolicyProblem[]): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const line of sortProblems(problems).map(formatProblem)) {
    if (!seen.has(line)) lines.push(line);
    seen.add(line);
  }
  return lines;
}

/** `classify[2].when.all[0].operator`, the way an author reads the file. */
export function formatPath(path: Path): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** `path: message`, or just the message at the top of the file. */
export function atPath(path: Path, message: string): string {
  return path.length === 0 ? message : `${formatPath(path)}: ${message}`;
}
