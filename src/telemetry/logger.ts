import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/**
 * Secret values known at run time (policy keys, tokens). Every log line is scrubbed of them before
 * it is written, whatever field or message they hide in; field-name redaction alone misses a key
 * quoted inside an error message.
 */
export class SecretScrubber {
  private secrets: string[] = [];

  /** Replace the set (policy reload brings new keys). Values shorter than 6 chars are not treated as secrets. */
  set(values: Iterable<string | undefined | null>): void {
    const unique = new Set<string>();
    for (const v of values) if (v && v.length >= 6) unique.add(v);
    // Longest first, so a secret that contains another is masked whole.
    this.secrets = [...unique].sort((a, b) => b.length - a.length);
  }

  add(values: Iterable<string | undefined | null>): void {
    this.set([...this.secrets, ...values]);
  }

  scrub(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join(`****${s.slice(-4)}`);
    return out;
  }
}

// Field names that hold secrets wherever they appear in a logged object.
const REDACT_PATHS = [
  'routing_key',
  'api_key',
  'secret',
  'token',
  'authorization',
  '*.routing_key',
  '*.api_key',
  '*.secret',
  '*.token',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-webhook-token"]',
  'req.headers["x-pagerduty-signature"]',
];

export interface LoggerOptions {
  level: LogLevelName;
  scrubber?: SecretScrubber;
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const scrubber = options.scrubber;
  return pino(
    {
      level: options.level,
      base: { service: 'incident-router' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '****' },
      ...(scrubber ? { hooks: { streamWrite: (line: string) => scrubber.scrub(line) } } : {}),
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
