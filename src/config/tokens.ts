// Tokens that clients present (API_TOKEN, OPSGENIE_WEBHOOK_TOKEN): one, or several separated by
// commas while one is rotated (docs/configuration.md, "Credentials").

/** The tokens a value names; none for null. */
export function tokenList(value: string | null): string[] {
  if (value === null) return [];
  return value
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}
