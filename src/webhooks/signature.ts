// PagerDuty Webhooks V3 signatures (docs/providers.md, "PagerDuty webhook signatures"):
// `X-PagerDuty-Signature: v1=<lowercase hex HMAC-SHA256(key = the secret's literal bytes, message =
// the raw body)>`, several `v1=` entries joined by `,` while a secret rotates; any one valid entry is
// enough. Other versions are ignored. The secret looks like base64 and must NOT be decoded
// (go-pagerduty uses []byte(secret)). No timestamp is signed: replays are stopped by the
// signed body's `event.id` (and events older than 72 h are refused as stale).
import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck =
  { ok: true } | { ok: false; reason: 'missing' | 'empty_body' | 'no_v1' | 'malformed' | 'mismatch' };

/** Why a check failed, in words for the log. */
export const SIGNATURE_PROBLEMS: Readonly<Record<Exclude<SignatureCheck, { ok: true }>['reason'], string>> = {
  missing: 'no X-PagerDuty-Signature header',
  empty_body: 'the body is empty, so nothing was signed',
  no_v1: 'X-PagerDuty-Signature has no v1= entry',
  malformed: 'X-PagerDuty-Signature has no well-formed v1=<64 hex> entry',
  mismatch: 'no v1= signature matches PAGERDUTY_WEBHOOK_SECRET',
};

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** Checks the header against every secret in force; comparisons are constant-time. */
export function verifyPagerDutySignature(
  header: string | undefined,
  body: Buffer,
  secrets: readonly string[],
): SignatureCheck {
  if (header === undefined || header.trim() === '') return { ok: false, reason: 'missing' };
  if (body.length === 0) return { ok: false, reason: 'empty_body' };
  const entries = header
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith('v1='));
  if (entries.length === 0) return { ok: false, reason: 'no_v1' };
  // Hex is case-insensitive; PagerDuty sends lowercase. The length of a well-formed entry is public.
  const offered = entries.map((e) => e.slice(3).toLowerCase()).filter((hex) => HEX_SHA256.test(hex));
  if (offered.length === 0) return { ok: false, reason: 'malformed' };
  const given = offered.map((hex) => Buffer.from(hex, 'hex'));
  const matched = secrets.some((secret) => {
    const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest();
    // Every offered entry is compared, matched or not, so timing does not say which one matched.
    return given.reduce((found, sig) => timingSafeEqual(sig, expected) || found, false);
  });
  return matched ? { ok: true } : { ok: false, reason: 'mismatch' };
}

/** PAGERDUTY_WEBHOOK_SECRET as the secrets in force: one, or several separated by commas or spaces during a rotation. */
export function webhookSecrets(value: string | null): string[] {
  if (value === null) return [];
  return value.split(/[\s,]+/).filter((s) => s !== '');
}
