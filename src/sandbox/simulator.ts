// What every simulator shares: a loopback server, the request log, fault injection, going down and
// coming back on the same port, and the common `/__sim` control routes. Each provider adds its API
// and its own bookkeeping.
import { systemClock, type Clock } from '../domain/clock.js';
import { SimulatorError } from './errors.js';
import { parseDown, parseFaultCommand } from './fault-spec.js';
import { FaultInjector, type ActiveFault, type FaultSpec } from './faults.js';
import { SimHttpServer, type DownOptions, type SimReply, type SimRequest } from './http.js';
import { isPlainObject, parseJson } from './json.js';
import { createPipeline } from './pipeline.js';
import { RequestLog, type LoggedRequest } from './request-log.js';
import { findRoute, route, type Route } from './routes.js';

export interface ListenOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1: simulators are for loopback. */
  host?: string;
  clock?: Clock;
}

export const DEFAULT_HOST = '127.0.0.1';

export abstract class Simulator {
  readonly faults = new FaultInjector();
  protected readonly clock: Clock;
  protected readonly log = new RequestLog();
  private readonly server: SimHttpServer;
  private readonly stopper = new AbortController();
  private routes: Route[] | null = null;

  protected constructor(
    readonly name: string,
    options: ListenOptions,
    bodyLimitBytes: number,
  ) {
    this.clock = options.clock ?? systemClock;
    const listener = createPipeline({
      log: this.log,
      faults: this.faults,
      clock: this.clock,
      bodyLimitBytes,
      signal: this.stopper.signal,
      isRefusing: () => this.server.isRefusing,
      api: (req) => this.serveApi(req),
      control: (req) => this.serveControl(req),
      actionOf: (req) => this.actionOf(req),
      faultReply: (status, retryAfterSec) => this.faultReply(status, retryAfterSec),
    });
    this.server = new SimHttpServer(listener, options.host ?? DEFAULT_HOST);
  }

  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  get url(): string {
    return this.server.url;
  }

  get port(): number {
    return this.server.port;
  }

  get isUp(): boolean {
    return this.server.isUp;
  }

  /** Every API request seen (not `/__sim`), oldest first, with what it was answered. */
  requests(): LoggedRequest[] {
    return this.log.list();
  }

  /** How many requests the log holds, without copying them (a benchmark polls it). */
  requestCount(): number {
    return this.log.size;
  }

  injectFault(spec: FaultSpec): ActiveFault {
    return this.faults.add(spec);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** Goes down (default: refuse API connections while `/__sim` keeps answering). */
  async down(options: DownOptions = { mode: 'refuse' }): Promise<void> {
    await this.server.down(options);
  }

  /** Comes back up on the same port. */
  async up(): Promise<void> {
    await this.server.up();
  }

  /** Forgets everything: bookkeeping, request log, faults. The port and configuration stay. */
  reset(): void {
    this.log.clear();
    this.faults.clear();
    this.resetState();
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    this.stopState();
    await this.server.stop();
  }

  protected async listen(port: number): Promise<void> {
    await this.server.listen(port);
  }

  protected abstract serveApi(req: SimRequest): SimReply | Promise<SimReply>;
  protected abstract actionOf(req: SimRequest): string | undefined;
  protected abstract faultReply(status: number, retryAfterSec: number | undefined): SimReply;
  protected abstract controlRoutes(): Route[];
  protected abstract resetState(): void;
  protected stopState(): void {}

  private async serveControl(req: SimRequest): Promise<SimReply> {
    this.routes ??= [...this.commonRoutes(), ...this.controlRoutes()];
    const found = findRoute(this.routes, req.method, req.path);
    if (found === null)
      return new SimulatorError('not_found', `no control route ${req.method} ${req.path}`).toReply();
    try {
      return await found.route.handle(req, found.params);
    } catch (err) {
      if (err instanceof SimulatorError) return err.toReply();
      throw err;
    }
  }

  private commonRoutes(): Route[] {
    return [
      route('GET', '/__sim', () => ok({ name: this.name, url: this.url, up: this.isUp })),
      route('GET', '/__sim/requests', () => ok({ requests: this.requests() })),
      route('GET', '/__sim/faults', () => ok({ faults: this.faults.list() })),
      route('POST', '/__sim/faults', (req) => this.addFaults(controlBody(req))),
      route('DELETE', '/__sim/faults', () => (this.clearFaults(), ok({ faults: [] }))),
      route('POST', '/__sim/down', (req) => this.applyDown(controlBody(req))),
      route('POST', '/__sim/up', async () => (await this.up(), ok({ up: this.isUp }))),
      route('POST', '/__sim/reset', () => (this.reset(), ok({ reset: true }))),
    ];
  }

  /** Arms the faults at once; a `down` command takes effect after the answer is sent, or it could not be. */
  private addFaults(body: unknown): SimReply {
    const commands = (Array.isArray(body) ? body : [body]).map((item) => mustParse(parseFaultCommand(item)));
    const added: ActiveFault[] = [];
    const downs: DownOptions[] = [];
    for (const command of commands) {
      if (command.kind === 'down') downs.push(command.options);
      else added.push(this.injectFault(command.spec));
    }
    const goDown = downs.at(-1);
    return {
      status: 201,
      body: { faults: added, down: goDown ?? null },
      ...(goDown === undefined ? {} : { after: () => this.down(goDown) }),
    };
  }

  private applyDown(body: unknown): SimReply {
    const options = mustParse(parseDown(isPlainObject(body) ? body : {}));
    return { status: 202, body: { down: options }, after: () => this.down(options) };
  }
}

function mustParse<T>(parsed: { ok: true; value: T } | { ok: false; errors: string[] }): T {
  if (parsed.ok) return parsed.value;
  throw new SimulatorError('bad_request', 'invalid fault command', parsed.errors);
}

/** A control request's JSON body; empty = `{}`. */
export function controlBody(req: SimRequest): unknown {
  if (req.body.length === 0) return {};
  const parsed = parseJson(req.body);
  if (!parsed.ok) throw new SimulatorError('bad_request', 'the body is not valid JSON');
  return parsed.value;
}

export function ok(body: unknown): SimReply {
  return { status: 200, body };
}
