import { createHash } from 'node:crypto';

/**
 * The provider-side identity of an incident (PagerDuty `dedup_key`, OpsGenie `alias`): `ir-` and
 * the first 40 hex chars of sha256(fingerprint) (SPEC §4). Derived from the fingerprint, never from
 * the route, so editing routes does not orphan open incidents. 43 chars: within PagerDuty's 255 and
 * OpsGenie's 512.
 */
export function providerKey(fingerprint: string): string {
  return `ir-${createHash('sha256').update(fingerprint).digest('hex').slice(0, 40)}`;
}
