// Smaller findings of issue 11 over real HTTP: a slow request body was held for Node's default
// 300 s; invalid UTF-8 was accepted with replacement characters (NATS refuses it).
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../helpers/app.js';

/** Sends the head of a request and part of its body, then nothing: how long until the server hangs up. */
function slowBody(url: string): Promise<{ closedAfterMs: number; answer: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let answer = '';
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        'POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"tim',
      );
    });
    socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
    socket.on('close', () => resolve({ closedAfterMs: Date.now() - started, answer }));
    socket.on('error', reject);
    setTimeout(() => socket.destroy(new Error('still open after 20 s')), 20_000).unref();
  });
}

describe('HTTP limits', () => {
  it('a request whose body never finishes is answered 408 and closed once the request timeout passes', async () => {
    const t = await startTestApp({}, { httpTimeouts: { headersMs: 500, requestMs: 1_000 } });
    try {
      const { answer } = await slowBody(t.url);
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await t.stop();
    }
  });

  it('a body that is not UTF-8 is refused with 400, as NATS refuses it', async () => {
    const t = await startTestApp();
    try {
      const valid = `{"timestamp":"${new Date().toISOString()}","service":"search","level":"info","message":"caf`;
      const body = Buffer.concat([Buffer.from(valid), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
      const res = await fetch(`${t.url}/api/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/not valid UTF-8/);
    } finally {
      await t.stop();
    }
  });
});
