import { createHash } from 'node:crypto';

/**
 * The provider-side identity of an incident (PagerDuty `dedup_key`, OpsGenie `alias`): `ir-` and
 * the first 40 hex chars of sha256(fingerprint) (docs/policy-language.md,
 * "Fingerprints and provider keys"). Derived from the fingerprint, never from the route, so editing
 * routes does not orphan open incidents. 43 chars: within PagerDuty's 255 and OpsGenie's 512.
 */
export function providerKey(fingerprint: string): string {
  return `ir-${createHash('sha256').update(fingerprint).digest('hex').slice(0, 40)}`;
}

/** The longest fingerprint kept as it is; the store keys incidents by it (docs/policy-language.md). */
export const MAX_FINGERPRINT_CHARS = 256;

/**
 * A fingerprint built from event text (`{message}` in a template) can be 64 KiB long. Past the
 * limit it is its head and a digest of the whole: still one value per distinct fingerprint, so
 * dedup and resolve targets agree, and always short enough to be a key.
 */
export function boundFingerprint(fingerprint: string): string {
  // A template of fields the event lacks renders empty; a key cannot be.
  if (fingerprint === '') return '(empty)';
  if (fingerprint.length <= MAX_FINGERPRINT_CHARS) return fingerprint;
  const digest = createHash('sha256').update(fingerprint).digest('hex').slice(0, 32);
  return `${fingerprint.slice(0, MAX_FINGERPRINT_CHARS - 33)}~${digest}`;
}
