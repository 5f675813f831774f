/** How a secret may be shown anywhere (logs, API, dashboard): `****` and its last 4 characters (SPEC §3). */
export function maskSecret(secret: string | undefined | null): string {
  if (!secret) return '';
  return secret.length <= 4 ? '****' : `****${secret.slice(-4)}`;
}
