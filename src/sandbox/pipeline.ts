// One request through a simulator, in the order a real outage would hit it:
// refused? → read body → control (/__sim) → log → injected faults → the provider API → answer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../domain/clock.js';
import type { FaultInjector, FaultPlan } from './faults.js';
import { readBody, sendReply, type RequestListener, type SimReply, type SimRequest } from './http.js';
import { maskCredentials } from './json.js';
import type { LoggedRequest, RequestLog } from './request-log.js';

export interface PipelineDeps {
  log: RequestLog;
  faults: FaultInjector;
  clock: Clock;
  bodyLimitBytes: number;
  signal: AbortSignal;
  isRefusing(): boolean;
  api(req: SimRequest): SimReply | Promise<SimReply>;
  control(req: SimRequest): SimReply | Promise<SimReply>;
  actionOf(req: SimRequest): string | undefined;
  /** The provider's own answer for an injected status (its error body, its rate-limit headers). */
  faultReply(status: number, retryAfterSec: number | undefined): SimReply;
}

const MIN_HARD_CAP_BYTES = 4 * 1024 * 1024;

export function isControlPath(path: string): boolean {
  return path === '/__sim' || path.startsWith('/__sim/');
}

export function createPipeline(deps: PipelineDeps): RequestListener {
  return (req, res) => {
    handle(deps, req, res).catch(() => {
      // Never let a handler bug take the simulator down: answer 500 if we still can.
      sendReply(res, { status: 500, body: { message: 'simulator internal error' } });
    });
  };
}

async function handle(deps: PipelineDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://simulator.invalid');
  const isControl = isControlPath(url.pathname);
  if (!isControl && deps.isRefusing()) {
    const entry = startEntry(deps, req, url, Buffer.alloc(0));
    entry.outcome = 'refused';
    req.socket.destroy();
    return;
  }
  const read = await readBody(
    req,
    deps.bodyLimitBytes,
    Math.max(deps.bodyLimitBytes * 4, MIN_HARD_CAP_BYTES),
  );
  if (read === null) return;
  const simReq: SimRequest = {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    headers: req.headers,
    body: read.body,
    tooLarge: read.tooLarge,
  };
  if (isControl) {
    const reply = await deps.control(simReq);
    sendReply(res, reply.body === undefined ? reply : { ...reply, body: maskCredentials(reply.body) });
    return;
  }
  await serveApi(deps, simReq, req, res);
}

async function serveApi(
  deps: PipelineDeps,
  simReq: SimRequest,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const action = deps.actionOf(simReq);
  const entry = deps.log.start(simReq, new Date(deps.clock.now()).toISOString());
  if (action !== undefined) entry.action = action;
  const plan = deps.faults.take({ path: simReq.path, action });
  if (plan.label !== null) entry.fault = plan.label;
  if (plan.delayMs > 0 && !(await delay(plan.delayMs, deps.signal))) return;
  const reply = injectedReply(deps, plan, entry, req);
  if (reply === 'ended') return;
  const answer = reply ?? (await deps.api(simReq));
  entry.status = answer.status;
  if (answer.body !== undefined) entry.response = answer.body;
  if (answer.note !== undefined) entry.note = answer.note;
  sendReply(res, answer);
}

/** The reply an injected fault forces, 'ended' when the fault ends the request itself, null for none. */
function injectedReply(
  deps: PipelineDeps,
  plan: FaultPlan,
  entry: LoggedRequest,
  req: IncomingMessage,
): SimReply | 'ended' | null {
  const fault = plan.terminal;
  if (fault === null) return null;
  switch (fault.kind) {
    case 'hang':
      // Accept and never answer: the socket stays open until the client gives up or the simulator stops.
      entry.outcome = 'hung';
      return 'ended';
    case 'drop':
      entry.outcome = 'dropped';
      req.socket.destroy();
      return 'ended';
    case 'status': {
      entry.outcome = 'injected';
      const base = deps.faultReply(fault.status, fault.retryAfterSec);
      return fault.body === undefined ? base : { ...base, body: fault.body };
    }
  }
}

function startEntry(deps: PipelineDeps, req: IncomingMessage, url: URL, body: Buffer): LoggedRequest {
  const at = new Date(deps.clock.now()).toISOString();
  return deps.log.start(
    { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body },
    at,
  );
}

/** Waits; false when the simulator stopped meanwhile. */
async function delay(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
