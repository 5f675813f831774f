// The filters of `GET /api/v1/incidents` (docs/http-api.md, "Incidents"), one predicate for every
// state backend.
import type { Incident, IncidentState } from './incident.js';
import type { Severity } from './severity.js';

export interface IncidentFilter {
  state?: IncidentState;
  service?: string;
  team?: string;
  severity?: Severity;
  /** A provider instance that holds the incident (before any delivery: that one of its routes pages). */
  provider?: string;
  /** Words each found, case-insensitively, in the id, title, service, fingerprint or team. */
  search?: string;
  /** Default 100. */
  limit?: number;
  /** Only incidents older than this id (the previous page's last id). */
  before?: string;
}

/** Whether an incident passes a list filter (`before` and `limit` aside; PageCollector reads with it). */
function matchesFilter(incident: Incident, filter: IncidentFilter): boolean {
  if (filter.state !== undefined && incident.state !== filter.state) return false;
  if (filter.service !== undefined && incident.service !== filter.service) return false;
  if (filter.team !== undefined && incident.team !== filter.team) return false;
  if (filter.severity !== undefined && incident.severity !== filter.severity) return false;
  if (filter.provider !== undefined && !involves(incident, filter.provider)) return false;
  if (filter.search !== undefined) {
    const haystack =
      `${incident.id} ${incident.title} ${incident.service} ${incident.fingerprint} ${incident.team}`.toLowerCase();
    for (const word of filter.search.toLowerCase().split(/\s+/))
      if (word !== '' && !haystack.includes(word)) return false;
  }
  return true;
}

/** Held by the provider (delivered there), or, before any delivery, paged through it by a route. */
function involves(incident: Incident, provider: string): boolean {
  const held = Object.keys(incident.holds);
  if (held.length > 0) return held.some((name) => name === provider || name.startsWith(`${provider}#`));
  return incident.routes.some((r) => r.providers.includes(provider));
}

/** One page of a list: `next` is the id to go on from (`before`) when there may be more. */
export interface IncidentPage {
  incidents: Incident[];
  next: string | null;
}

/**
 * Incidents a list request passes over (read, not matching) before it answers what it found: a
 * search that matches little must not read the whole store for one page (docs/http-api.md,
 * "GET /api/v1/incidents"). The page is then short, and `next` goes on from where reading stopped.
 */
export const LIST_SKIP_AT_MOST = 10_000;

/** Collects one page from incidents read newest first; says when to stop reading. */
export class PageCollector {
  private readonly found: Incident[] = [];
  private skipped = 0;
  private lastRead: string | null = null;

  constructor(
    private readonly filter: IncidentFilter,
    private readonly limit: number,
    private readonly skipAtMost = LIST_SKIP_AT_MOST,
  ) {}

  /** Takes one incident read; true when the page is done (full, or too much passed over). */
  add(incident: Incident): boolean {
    this.lastRead = incident.id;
    if (matchesFilter(incident, this.filter)) this.found.push(incident);
    else this.skipped++;
    return this.found.length >= this.limit || this.skipped >= this.skipAtMost;
  }

  page(): IncidentPage {
    if (this.found.length >= this.limit)
      return { incidents: this.found, next: this.found.at(-1)?.id ?? null };
    return { incidents: this.found, next: this.skipped >= this.skipAtMost ? this.lastRead : null };
  }
}
