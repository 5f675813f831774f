/**
 * How a secret may be shown anywhere (logs, API, dashboard): `****` and its last 4 characters
 * (docs/http-api.md, "Secrets").
 */
export function maskSecret(secret: string | undefined | null): string {
  if (!secret) return '';
  return secret.length <= 4 ? '****' : `****${secret.slice(-4)}`;
}

/** Header names whose values are credentials (Authorization: Bearer …, X-Api-Key, …). */
export const SECRET_HEADER = /auth|token|key|secret|password|signature|cookie/i;

/**
 * What a credential header's value hides: the value, and its last word when that is long enough to
 * be a token on its own ("Bearer abc…": the token alone may be quoted back).
 */
export function headerSecrets(name: string, value: string): string[] {
  if (!SECRET_HEADER.test(name)) return [];
  const token = value.split(/\s+/).pop() ?? '';
  return token.length >= 8 && token !== value ? [value, token] : [value];
}
