// Audit seq allocation. Each incident's last seq is seeded lazily from the last key of its audit
// range, then counted in memory; only the writer allocates, one flush at a time, so seqs are
// strictly increasing per incident, across restarts too. Memory is bounded: a forgotten incident
// is simply seeded from disk again.
const REMEMBERED_INCIDENTS = 100_000;

export class AuditSeqs {
  private readonly last = new Map<string, number>();

  has(incidentId: string): boolean {
    return this.last.has(incidentId);
  }

  /** Seeds from disk; call only while no flush for this incident is in progress. */
  seed(incidentId: string, lastSeq: number): void {
    this.last.set(incidentId, lastSeq);
  }

  /** Forgets every seq; call only while no flush is in progress (they are seeded from disk again). */
  forget(): void {
    this.last.clear();
  }

  draft(): SeqDraft {
    return new SeqDraft(this.last, (drafted) => this.remember(drafted));
  }

  private remember(drafted: Map<string, number>): void {
    for (const [id, seq] of drafted) {
      this.last.delete(id); // re-insert: Map order then runs from least to most recently written
      this.last.set(id, seq);
    }
    for (const id of this.last.keys()) {
      if (this.last.size <= REMEMBERED_INCIDENTS) break;
      this.last.delete(id);
    }
  }
}

export class SeqDraft {
  private readonly drafted = new Map<string, number>();

  constructor(
    private readonly last: ReadonlyMap<string, number>,
    private readonly commit: (drafted: Map<string, number>) => void,
  ) {}

  next(incidentId: string): number {
    const seq = (this.drafted.get(incidentId) ?? this.last.get(incidentId) ?? 0) + 1;
    this.drafted.set(incidentId, seq);
    return seq;
  }

  /** Call only after the batch is on disk; a failed batch leaves its seqs free for reuse. */
  apply(): void {
    this.commit(this.drafted);
  }
}
