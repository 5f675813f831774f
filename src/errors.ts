// One catalogue of error codes. Every error a client can see carries one of these codes; the HTTP
// status is a property of the code, never chosen ad hoc at the throw site.
export const ERROR_CATALOGUE = {
  bad_request: { status: 400, message: 'The request is malformed.' },
  invalid_json: { status: 400, message: 'The request body is not valid JSON.' },
  validation_failed: { status: 400, message: 'The request does not match its schema.' },
  unauthorized: { status: 401, message: 'Missing or invalid credentials.' },
  not_found: { status: 404, message: 'No such resource.' },
  method_not_allowed: { status: 405, message: 'This resource does not accept that method.' },
  conflict: { status: 409, message: 'The resource is in a state that does not allow this.' },
  payload_too_large: { status: 413, message: 'The request body is too large.' },
  unsupported_media_type: { status: 415, message: 'Send application/json.' },
  policy_invalid: { status: 422, message: 'The policy is invalid; the active policy keeps serving.' },
  not_ready: { status: 503, message: 'The service is not ready.' },
  busy: { status: 503, message: 'Too much work in progress; retry shortly.' },
  internal: { status: 500, message: 'Internal error.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface AppErrorOptions {
  /** Extra facts for the client (validation reasons, policy errors). Must never hold secrets. */
  details?: unknown;
  cause?: unknown;
  /** false: the message is internal, only the log sees it; the client gets the catalogue's text. */
  expose?: boolean;
}

export class AppError extends Error {
  override readonly name: string = 'AppError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  readonly expose: boolean;

  constructor(code: ErrorCode, message?: string, options: AppErrorOptions = {}) {
    super(message ?? ERROR_CATALOGUE[code].message, { cause: options.cause });
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.details = options.details;
    this.expose = options.expose ?? this.status < 500;
  }

  /** The body a client receives: `{"error": {"code", "message", "details"?}}`. */
  toBody(): { error: { code: ErrorCode; message: string; details?: unknown } } {
    const message = this.expose ? this.message : ERROR_CATALOGUE[this.code].message;
    return {
      error: { code: this.code, message, ...(this.details === undefined ? {} : { details: this.details }) },
    };
  }
}

/** One located problem in a policy: `file:line:col message`. */
export interface PolicyProblem {
  file: string;
  line: number;
  col: number;
  message: string;
}

export function formatProblem(p: PolicyProblem): string {
  return `${p.file}:${p.line}:${p.col} ${p.message}`;
}

/** A policy that cannot be loaded, with every problem found (never just the first). */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  readonly problems: readonly PolicyProblem[];

  constructor(problems: readonly PolicyProblem[]) {
    super(
      `policy invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map(formatProblem).join('\n')}`,
    );
    this.problems = problems;
  }

  get lines(): string[] {
    return this.problems.map(formatProblem);
  }
}

/** Environment configuration that cannot be used; one message per problem. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`configuration invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** The data directory cannot be opened (held by another process, unreadable, ...). */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
