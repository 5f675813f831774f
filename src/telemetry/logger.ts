import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { maskSecret } from '../domain/secrets.js';

export type Logger = PinoLogger;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/**
 * Secret values known at run time, in named groups (the configuration's tokens at start, the
 * policy's keys on every reload). Every log line and every HTTP answer is scrubbed of them before
 * it leaves, whatever field or message they hide in: field-name redaction alone misses a key
 * quoted inside an error message or interpolated into a title (docs/http-api.md, "Secrets").
 */
export class SecretScrubber {
  private readonly groups = new Map<string, readonly string[]>();
  private secrets: string[] = [];

  /** Replace one group's values. Values shorter than 6 characters are not treated as secrets. */
  set(group: string, values: Iterable<string | undefined | null>): void {
    this.groups.set(
      group,
      [...values].filter((v): v is string => typeof v === 'string' && v.length >= 6),
    );
    // Longest first, so a secret that contains another is masked whole.
    this.secrets = [...new Set([...this.groups.values()].flat())].sort((a, b) => b.length - a.length);
  }

  scrub(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join(maskSecret(s));
    return out;
  }

  /** Whether `text` holds a known secret (cheaper than scrubbing when it does not). */
  holdsSecret(text: string): boolean {
    return this.secrets.some((s) => text.includes(s));
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
