// A router small enough to read in one go: method + `/a/:param/b` patterns, params URL-decoded.
import type { SimReply, SimRequest } from './http.js';

export type RouteHandler = (req: SimRequest, params: Record<string, string>) => SimReply | Promise<SimReply>;

export interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handle: RouteHandler;
}

export function route(method: string, path: string, handle: RouteHandler): Route {
  const names: string[] = [];
  const source = path
    .split('/')
    .map((part) => {
      if (!part.startsWith(':')) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(part.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { method, pattern: new RegExp(`^${source}$`), names, handle };
}

/** A URL path segment decoded; a malformed escape is kept as sent. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The first route matching method and path, or null. */
export function findRoute(
  routes: readonly Route[],
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | null {
  for (const candidate of routes) {
    if (candidate.method !== method) continue;
    const match = candidate.pattern.exec(path);
    if (match === null) continue;
    const params: Record<string, string> = {};
    candidate.names.forEach((name, i) => (params[name] = decodeSegment(match[i + 1] ?? '')));
    return { route: candidate, params };
  }
  return null;
}
