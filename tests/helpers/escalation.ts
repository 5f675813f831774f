// Reading escalation tiers back from an incident's detail (docs/http-api.md, incident detail).

/** Tiers on the timeline: the first on the opening entry, each later one on an `escalated` entry. */
export function tiersOf(detail: { timeline: { type: string; details?: any }[] }): number[] {
  return detail.timeline.flatMap((e) =>
    e.type === 'escalated'
      ? [e.details.tier]
      : e.type === 'opened' && e.details?.escalation
        ? [e.details.escalation.tier]
        : [],
  );
}
