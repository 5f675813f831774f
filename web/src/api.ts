// The sidecar's HTTP API as the dashboard uses it (docs/http-api.md). The token, when the sidecar
// has one (API_TOKEN), is entered once and kept in this tab's sessionStorage: sent as a header,
// never put in a URL (docs/dashboard.md, "Security").
const TOKEN_KEY = 'incident-router.api-token';

export function storedToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null; // storage disabled: the token is asked again
  }
}

export function storeToken(token: string | null): void {
  try {
    if (token === null || token === '') sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // storage disabled: nothing kept
  }
}

/** An error answer of the API: `{"error": {"code", "message", "details"?}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = storedToken();
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (!res.ok) {
    const error = (parsed as { error?: { code?: string; message?: string; details?: unknown } } | null)
      ?.error;
    throw new ApiError(
      res.status,
      error?.code ?? `http_${res.status}`,
      error?.message ?? `${method} ${path}: HTTP ${res.status}`,
      error?.details,
    );
  }
  return parsed as T;
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    const hint = err.status === 401 ? ' (enter the API token above)' : '';
    return `${err.status} ${err.code}: ${err.message}${hint}`;
  }
  return err instanceof Error ? err.message : String(err);
}
