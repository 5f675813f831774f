// An NDJSON file of log events as a diff source (docs/policy-diff.md, "Sources"): one event per line;
// a line that is not a valid event is reported with its line number and skipped.
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { eventToInput } from '../domain/log-event.js';
import { validateEvent } from '../ingest/validate.js';
import type { SourceItem } from './diff.js';

/** One line → an event, or a problem naming `file:line`. Blank lines are skipped silently. */
export function parseEventLine(line: string, ref: string): SourceItem | null {
  if (line.trim() === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return { problem: { ref, message: `not JSON: ${(err as Error).message}` } };
  }
  const v = validateEvent(value);
  if (!v.ok) return { problem: { ref, message: `invalid event: ${v.errors.join('; ')}` } };
  return { input: eventToInput(v.value), ref };
}

/** Items of lines, numbered from 1 and named `<name>:<line>`. */
export async function* eventsOfLines(lines: AsyncIterable<string>, name: string): AsyncGenerator<SourceItem> {
  let n = 0;
  for await (const line of lines) {
    n++;
    const item = parseEventLine(line, `${name}:${n}`);
    if (item !== null) yield item;
  }
}

export function readNdjsonFile(path: string): AsyncGenerator<SourceItem> {
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  return eventsOfLines(lines, basename(path));
}
