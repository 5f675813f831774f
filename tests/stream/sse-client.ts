// A Server-Sent Events reader for tests: every message as it arrives (event, id, parsed data, when),
// heartbeat comments counted, and a wait for a condition over what has arrived.
import { request, type ClientRequest, type IncomingMessage } from 'node:http';

export interface SseMessage {
  event: string;
  id: string | null;
  data: any;
  atMs: number;
}

export class SseClient {
  readonly messages: SseMessage[] = [];
  comments = 0;
  ended = false;
  private buffer = '';
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly response: IncomingMessage,
    private readonly req: ClientRequest,
  ) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => this.read(chunk));
    response.on('close', () => ((this.ended = true), this.notify()));
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = request(`${url}/api/v1/stream`, { headers: { accept: 'text/event-stream', ...headers } });
      req.on('response', (res) => resolve(new SseClient(res, req)));
      req.on('error', reject);
      req.end();
    });
  }

  get status(): number {
    return this.response.statusCode ?? 0;
  }

  /** Every item of every `batch` message, in order. */
  items(type?: string): any[] {
    const all = this.messages.filter((m) => m.event === 'batch').flatMap((m) => m.data as any[]);
    return type === undefined ? all : all.filter((i) => i.type === type);
  }

  /** The id of the last message that carried one (what EventSource sends as Last-Event-ID). */
  lastEventId(): string | null {
    return this.messages.findLast((m) => m.id !== null)?.id ?? null;
  }

  async until<T>(probe: (c: SseClient) => T | undefined | null | false, timeoutMs = 10_000): Promise<T> {
    const found = probe(this);
    if (found) return found;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(`stream condition not met within ${timeoutMs} ms (${this.messages.length} messages)`),
        );
      }, timeoutMs);
      const check = (): void => {
        const value = probe(this);
        if (!value && !this.ended) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        if (value) resolve(value);
        else reject(new Error('the stream ended'));
      };
      this.waiters.add(check);
    });
  }

  close(): void {
    this.req.destroy();
  }

  private read(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.parse(block);
    }
    this.notify();
  }

  private parse(block: string): void {
    let event = 'message';
    let id: string | null = null;
    const data: string[] = [];
    let fields = 0;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments++;
        continue;
      }
      const colon = line.indexOf(':');
      const name = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      fields++;
      if (name === 'event') event = value;
      else if (name === 'id') id = value;
      else if (name === 'data') data.push(value);
    }
    if (data.length === 0 || fields === 0) return;
    this.messages.push({ event, id, data: JSON.parse(data.join('\n')), atMs: Date.now() });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}
