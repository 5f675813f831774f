// Silences (docs/http-api.md, "Silences"): create, list, read, extend, expire. Reading is open;
// every change needs the API token when one is set, like the incidents' manual actions.
import Router from '@koa/router';
import type { Clock } from '../../domain/clock.js';
import { AppError } from '../../errors.js';
import { publicSilence, SILENCE_STATES, type SilenceState } from '../../silences/model.js';
import { parseChange, parseCreate, parseExpire } from '../../silences/request.js';
import type { Silences } from '../../silences/silences.js';
import { readJson } from '../body.js';
import { answer, requireToken } from '../middleware.js';

function stateFilter(value: unknown): SilenceState | null {
  if (value === undefined || value === '') return null;
  if (typeof value !== 'string' || !(SILENCE_STATES as readonly string[]).includes(value))
    throw new AppError('validation_failed', `state: must be one of ${SILENCE_STATES.join(', ')}`, {
      details: { field: 'state' },
    });
  return value as SilenceState;
}

export function silencesRouter(deps: { silences: Silences; clock: Clock; apiToken: string | null }): Router {
  const router = new Router({ prefix: '/api/v1/silences' });
  const auth = requireToken(deps.apiToken);
  const shown = (s: Parameters<typeof publicSilence>[0]) => publicSilence(s, deps.clock.now());

  router.get('/', (ctx) => {
    const state = stateFilter(ctx.query['state']);
    answer(ctx, { silences: deps.silences.list(state).map(shown) });
  });

  router.get('/:id', (ctx) => {
    answer(ctx, shown(deps.silences.get(ctx.params['id'] as string)));
  });

  router.post('/', auth, async (ctx) => {
    const silence = await deps.silences.create(parseCreate(await readJson(ctx, 64 * 1024)));
    ctx.status = 201;
    ctx.set('Location', `/api/v1/silences/${silence.id}`);
    answer(ctx, shown(silence));
  });

  router.put('/:id', auth, async (ctx) => {
    const request = parseChange(await readJson(ctx, 64 * 1024));
    answer(ctx, shown(await deps.silences.change(ctx.params['id'] as string, request)));
  });

  router.delete('/:id', auth, async (ctx) => {
    const { by, comment } = parseExpire(ctx.query);
    const { silence, changed } = await deps.silences.expire(ctx.params['id'] as string, by, comment);
    answer(ctx, { ...shown(silence), changed });
  });

  return router;
}
