// POST /api/v1/policy/diff and GET /api/v1/recent-events (docs/http-api.md, "Policy diff"): a
// candidate policy against the active one over the recent-events ring, with the diff core that
// `incident-router diff` uses (src/diff).
import Router from '@koa/router';
import { Readable } from 'node:stream';
import type { Clock } from '../../domain/clock.js';
import { diffEvents } from '../../diff/diff.js';
import { ruleLocations } from '../../diff/locations.js';
import { eventsOfLines } from '../../diff/ndjson.js';
import type { RecentEvents } from '../../diff/recent/recent-events.js';
import { AppError, formatProblem } from '../../errors.js';
import { preparePolicyAsync } from '../../policy/active.js';
import type { PolicyManager } from '../../policy/manager.js';
import type { PatternChecker } from '../../policy/redos.js';
import { answer, requireToken } from '../middleware.js';
import { readCandidate, refusedCheck } from './policy.js';

export interface DiffRoutesDeps {
  policies: PolicyManager;
  recent: Pick<RecentEvents, 'flush' | 'read'> | null;
  clock: Clock;
  apiToken: string | null;
  sandbox: boolean;
  candidateEnv: Readonly<Record<string, string>>;
  checker: PatternChecker;
}

export function diffRouter(deps: DiffRoutesDeps): Router {
  const router = new Router({ prefix: '/api/v1' });
  const auth = requireToken(deps.apiToken);
  const ring = (): Pick<RecentEvents, 'flush' | 'read'> => {
    if (deps.recent === null)
      throw new AppError('not_found', 'the recent-events ring is off (RECENT_EVENTS_MAX=0)');
    return deps.recent;
  };

  router.post('/policy/diff', auth, async (ctx) => {
    const recent = ring();
    const sources = await readCandidate(ctx);
    const prepared = await preparePolicyAsync(
      sources,
      { env: deps.candidateEnv, candidate: true, sandbox: deps.sandbox },
      new Date(deps.clock.now()),
      (patterns) => deps.checker.verdicts(patterns, 'candidate'),
    ).catch(refusedCheck);
    if (!prepared.ok)
      throw new AppError('policy_invalid', 'the candidate policy is invalid', {
        details: { errors: prepared.problems.map(formatProblem) },
      });
    const active = deps.policies.current();
    await recent.flush(); // what was sampled up to now is part of the answer
    answer(
      ctx,
      await diffEvents(
        eventsOfLines(recent.read(), 'recent'),
        { policy: active.compiled, locations: ruleLocations(active.loaded) },
        { policy: prepared.policy.compiled, locations: ruleLocations(prepared.policy.loaded) },
      ),
    );
  });

  // NDJSON, oldest first: what `incident-router diff --recorded --url` reads.
  router.get('/recent-events', auth, async (ctx) => {
    const recent = ring();
    await recent.flush();
    const lines = recent.read();
    ctx.type = 'application/x-ndjson';
    ctx.body = Readable.from(
      (async function* () {
        for await (const line of lines) yield `${line}\n`;
      })(),
    );
  });

  return router;
}
