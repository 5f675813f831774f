// The tiny server plumbing every simulator shares, on plain node:http because the simulators need
// what a framework hides: leaving a response open forever, destroying a socket mid-request, refusing
// connections and listening again on the same port.
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SimRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** The raw bytes (empty when `tooLarge`). */
  readonly body: Buffer;
  readonly tooLarge: boolean;
}

export interface SimReply {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON; omitted = empty body. */
  body?: unknown;
  /** Written to the request log, never sent. */
  note?: string;
  /** Runs once the answer is written (e.g. going down after confirming the command). */
  after?: () => unknown;
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export type DownMode = 'refuse' | 'close';

export interface DownOptions {
  /** refuse: keep listening but destroy every API request's connection (`/__sim` still answers);
   *  close: stop listening (connection refused) and drop every open connection. */
  mode: DownMode;
  /** Come back up by itself after this long. */
  forMs?: number;
}

/** Reads a body up to `limitBytes`; past it keeps draining (discarding) up to `hardCapBytes`, then gives up. */
export function readBody(
  req: IncomingMessage,
  limitBytes: number,
  hardCapBytes: number,
): Promise<{ body: Buffer; tooLarge: boolean } | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > hardCapBytes) {
        req.socket.destroy();
        resolve(null);
      } else if (size > limitBytes) {
        chunks.length = 0;
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () =>
      resolve({
        body: size > limitBytes ? Buffer.alloc(0) : Buffer.concat(chunks),
        tooLarge: size > limitBytes,
      }),
    );
    req.on('error', () => resolve(null));
    req.on('close', () => resolve(null));
  });
}

export function sendReply(res: ServerResponse, reply: SimReply): void {
  if (res.headersSent || res.destroyed) return;
  const after = reply.after;
  if (after !== undefined)
    res.once(
      'finish',
      () =>
        void Promise.resolve()
          .then(after)
          .catch(() => undefined),
    );
  const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...reply.headers,
  });
  res.end(text);
}

/** A loopback HTTP server that can go down and come back on the same port, and leaves no socket behind. */
export class SimHttpServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private boundPort = 0;
  private listening = false;
  private refusing = false;
  private upTimer: NodeJS.Timeout | null = null;

  constructor(
    listener: RequestListener,
    private readonly host: string,
  ) {
    this.server = createServer(listener);
    // Slow clients must not hold a simulator forever; 30 s is far beyond any sane test.
    this.server.requestTimeout = 30_000;
    this.server.headersTimeout = 10_000;
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.on('clientError', (_err, socket: Socket) => socket.destroy());
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${host}:${this.boundPort}`;
  }

  get isUp(): boolean {
    return this.listening && !this.refusing;
  }

  /** True while API requests must be refused (`/__sim` keeps answering). */
  get isRefusing(): boolean {
    return this.refusing;
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (this.server.address() as AddressInfo).port;
    this.listening = true;
  }

  async down(options: DownOptions): Promise<void> {
    this.clearUpTimer();
    if (options.mode === 'refuse') this.refusing = true;
    else await this.closeListener();
    if (options.forMs !== undefined) {
      this.upTimer = setTimeout(() => void this.up().catch(() => undefined), options.forMs);
    }
  }

  /** Back up on the same port. */
  async up(): Promise<void> {
    this.clearUpTimer();
    this.refusing = false;
    if (!this.listening) await this.listen(this.boundPort);
  }

  async stop(): Promise<void> {
    this.clearUpTimer();
    await this.closeListener();
  }

  private async closeListener(): Promise<void> {
    const closed = this.listening
      ? new Promise<void>((resolve) => this.server.close(() => resolve()))
      : Promise.resolve();
    this.listening = false;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }

  private clearUpTimer(): void {
    if (this.upTimer !== null) clearTimeout(this.upTimer);
    this.upTimer = null;
  }
}
