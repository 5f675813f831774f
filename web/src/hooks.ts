// Small hooks shared by the views: follow the live store, load from the API (again when the stream
// says what is shown may have changed), and navigate within the page.
import { useEffect, useState } from 'preact/hooks';
import { errorText } from './api';
import { live } from './live';

/** Re-renders on every stream message (at most about ten a second: the sidecar coalesces). */
export function useLive(): number {
  const [version, setVersion] = useState(live.version);
  useEffect(() => live.subscribe(() => setVersion(live.version)), []);
  return version;
}

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads with `load` now, whenever `deps` change, and whenever `stale` (read after each stream
 * message) changes; at most one load at a time, the last asked for wins.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], stale: unknown = null): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: string | null; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => current && setState({ data, error: null, loading: false }),
      (err: unknown) => current && setState((s) => ({ ...s, error: errorText(err), loading: false })),
    );
    return () => {
      current = false;
    };
  }, [...deps, tick, stale]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

/** The page's place: `?incident=<id>` (the link providers receive) or `?view=<name>`. */
export interface Place {
  view: string;
  incident: string | null;
}

export function currentPlace(): Place {
  const params = new URLSearchParams(location.search);
  const incident = params.get('incident');
  return { view: incident !== null ? 'incident' : (params.get('view') ?? 'incidents'), incident };
}

const placeListeners = new Set<() => void>();
window.addEventListener('popstate', () => placeListeners.forEach((l) => l()));

export function navigate(href: string): void {
  history.pushState(null, '', href);
  placeListeners.forEach((l) => l());
  window.scrollTo(0, 0);
}

export function usePlace(): Place {
  const [place, setPlace] = useState(currentPlace);
  useEffect(() => {
    const update = (): void => setPlace(currentPlace());
    placeListeners.add(update);
    return () => void placeListeners.delete(update);
  }, []);
  return place;
}

export const incidentHref = (id: string): string => `/?incident=${encodeURIComponent(id)}`;
