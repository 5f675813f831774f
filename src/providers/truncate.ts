// Payload limits are enforced by truncation, never by a rejected request (docs/providers.md,
// "How payloads are kept within limits"). Vendors do not say whether "characters" are UTF-16 units or
// code points; we count UTF-16 units, which is never fewer than code points, and never cut a surrogate
// pair, so both readings hold.

/** One UTF-16 unit, one code point, three UTF-8 bytes. */
export const ELLIPSIS = '…';
const ELLIPSIS_BYTES = 3;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** Cuts `text` to at most `end` UTF-16 units, one fewer when the cut would split a surrogate pair. */
function safeSlice(text: string, end: number): string {
  if (end <= 0) return '';
  return isHighSurrogate(text.charCodeAt(end - 1)) ? text.slice(0, end - 1) : text.slice(0, end);
}

/** `text` if it fits in `maxUnits` UTF-16 units, else its head plus "…", `maxUnits` units at most. */
export function truncateText(text: string, maxUnits: number): string {
  if (text.length <= maxUnits) return text;
  if (maxUnits < 1) return '';
  return safeSlice(text, maxUnits - ELLIPSIS.length) + ELLIPSIS;
}

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Bytes of `value` serialised as JSON (what goes on the wire). */
export function jsonBytes(value: unknown): number {
  return utf8Bytes(JSON.stringify(value) ?? '');
}

/** `text` if it fits in `maxBytes` UTF-8 bytes, else its head plus "…", `maxBytes` bytes at most. */
export function truncateBytes(text: string, maxBytes: number): string {
  if (utf8Bytes(text) <= maxBytes) return text;
  if (maxBytes < ELLIPSIS_BYTES) return '';
  const budget = maxBytes - ELLIPSIS_BYTES;
  // Each UTF-16 unit is 1–3 bytes (a pair is 4 bytes for 2 units): start at `budget` units and shrink.
  let end = Math.min(text.length, budget);
  let head = safeSlice(text, end);
  while (utf8Bytes(head) > budget) {
    end = Math.max(0, end - Math.max(1, Math.ceil((utf8Bytes(head) - budget) / 3)));
    head = safeSlice(text, end);
  }
  return head + ELLIPSIS;
}

/** Total size of a string map as OpsGenie counts `details`: the sum of key and value lengths. */
export function detailsSize(map: Readonly<Record<string, string>>): number {
  return Object.entries(map).reduce((sum, [key, value]) => sum + key.length + value.length, 0);
}

/** Shortest value worth keeping when a detail has to be cut: below this it is dropped instead. */
const MIN_KEPT_UNITS = 8;

/**
 * Fits a string map into `totalMax` (sum of key and value lengths). Entries are in order of importance,
 * most important first; the least important is truncated when that is enough, dropped otherwise, and
 * so on up the list until the map fits.
 */
export function budgetDetails(
  map: Readonly<Record<string, string>>,
  totalMax: number,
): Record<string, string> {
  const entries = Object.entries(map);
  let excess = detailsSize(map) - totalMax;
  for (let i = entries.length - 1; i >= 0 && excess > 0; i -= 1) {
    const [key, value] = entries[i] as [string, string];
    const keep = value.length - excess;
    if (keep >= MIN_KEPT_UNITS) {
      const cut = truncateText(value, keep);
      excess -= value.length - cut.length;
      entries[i] = [key, cut];
    } else {
      excess -= key.length + value.length;
      entries.splice(i, 1);
    }
  }
  return Object.fromEntries(entries);
}
