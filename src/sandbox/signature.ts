// HMAC signatures the simulators produce and check.
// PagerDuty Webhooks V3: `X-PagerDuty-Signature: v1=<lowercase hex HMAC-SHA256(key = the secret's literal
// bytes, message = the raw body)>`, several `v1=` joined by `,` during secret rotation; a receiver accepts
// any match (docs/providers.md, "PagerDuty webhook signatures"; go-pagerduty webhookv3).
// incident-router's own webhook provider signs the same way in `X-Incident-Router-Signature`.
import { createHmac, timingSafeEqual } from 'node:crypto';

export function hmacSha256Hex(secret: string, body: string | Buffer): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex');
}

/** The header value for every secret in force: `v1=<hex>[,v1=<hex>…]`. */
export function signV1(body: string | Buffer, secrets: readonly string[]): string {
  return secrets.map((secret) => `v1=${hmacSha256Hex(secret, body)}`).join(',');
}

/** True when any `v1=` entry of the header matches any secret (constant-time); other versions are ignored. */
export function verifyV1(
  header: string | undefined,
  body: string | Buffer,
  secrets: readonly string[],
): boolean {
  if (header === undefined || header === '' || body.length === 0) return false;
  const offered = header
    .split(',')
    .filter((part) => part.startsWith('v1='))
    .map((part) => Buffer.from(part.slice(3), 'utf8'));
  return secrets.some((secret) => {
    const expected = Buffer.from(hmacSha256Hex(secret, body), 'utf8');
    return offered.some((sig) => sig.length === expected.length && timingSafeEqual(sig, expected));
  });
}
