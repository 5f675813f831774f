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
const MIN_CUT_CHARS = 8;

export class SecretScrubber {
  private readonly groups = new Map<string, readonly string[]>();
  private secrets: string[] = [];
  /**
   * Any secret, or an ellipsis (a secret may be cut short before one), in one scan: most text holds
   * neither, and one regular-expression test is about 5× cheaper than a search per secret.
   */
  private mayHold = /\.\.\.|…/;

  /** Replace one group's values. Values shorter than 6 characters are not treated as secrets. */
  set(group: string, values: Iterable<string | undefined | null>): void {
    this.groups.set(
      group,
      [...values].filter((v): v is string => typeof v === 'string' && v.length >= 6),
    );
    // Longest first, so a secret that contains another is masked whole.
    this.secrets = [...new Set([...this.groups.values()].flat())].sort((a, b) => b.length - a.length);
    this.mayHold = new RegExp([...this.secrets.map(escapeRegExp), '\\.\\.\\.', '…'].join('|'));
  }

  scrub(text: string): string {
    if (!this.mayHold.test(text)) return text;
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join(maskSecret(s));
    return out.includes('...') || out.includes('…') ? this.scrubCut(out) : out;
  }

  /**
   * A secret cut short for display ("R0abcdefgh..." in a long value quoted by an error) is still
   * most of the secret: any head of one, 8 characters or more, right before an ellipsis goes too.
   */
  private scrubCut(text: string): string {
    const cuts: [start: number, end: number][] = [];
    for (const m of text.matchAll(/\.\.\.|…/g)) {
      const at = m.index;
      let longest = 0;
      for (const s of this.secrets) {
        for (let k = Math.min(s.length - 1, at); k >= MIN_CUT_CHARS && k > longest; k--) {
          if (text.startsWith(s.slice(0, k), at - k)) {
            longest = k;
            break;
          }
        }
      }
      if (longest > 0) cuts.push([at - longest, at]);
    }
    let out = text;
    for (const [start, end] of cuts.reverse()) out = `${out.slice(0, start)}****${out.slice(end)}`;
    return out;
  }

  /** Whether `text` may hold a known secret, whole or cut short (cheaper than scrubbing when not). */
  holdsSecret(text: string): boolean {
    return this.mayHold.test(text);
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
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
