// Provider requests through an outbound HTTP proxy (docs/configuration.md, "Outbound proxy"): a real
// forward proxy on loopback (CONNECT tunnels, as undici asks for them, and absolute-form requests),
// in front of the simulators. HTTP_PROXY sends them through it, NO_PROXY exempts a host and port,
// and a proxy that wants credentials gets the ones in its URL, which stay out of the log.
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { post, startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { useSimulators } from '../helpers/sandbox.js';

let sandbox: Sandbox;
useSimulators((s) => (sandbox = s));

interface TestProxy {
  url: string;
  /** `host:port` of every target it carried, in order. */
  targets: string[];
  refused: number;
  close(): Promise<void>;
}

/** A forward proxy; with `credentials`, it answers 407 to a request without them. */
async function startProxy(credentials: string | null = null): Promise<TestProxy> {
  const targets: string[] = [];
  let refused = 0;
  const allowed = (req: IncomingMessage): boolean =>
    credentials === null ||
    req.headers['proxy-authorization'] === `Basic ${Buffer.from(credentials).toString('base64')}`;
  const server: Server = createServer((req, res) => {
    if (!allowed(req)) {
      refused++;
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' }).end();
      return;
    }
    const target = new URL(req.url ?? '/');
    targets.push(target.host);
    const upstream = httpRequest(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    if (!allowed(req)) {
      refused++;
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n',
      );
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    targets.push(req.url ?? '');
    const upstream = netConnect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    targets,
    get refused() {
      return refused;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const ALERT = {
  title: 'Database Connection Failed',
  source: 'database',
  severity: 'critical',
  service_name: 'payment-service',
};

let app: TestApp | null = null;
let proxy: TestProxy | null = null;
afterEach(async () => {
  await app?.stop();
  await proxy?.close();
  app = null;
  proxy = null;
});

/** A sidecar in production mode (providers from the environment, pointed at the simulators). */
async function sidecar(env: Record<string, string>, captureLogs = false): Promise<TestApp> {
  app = await startTestApp(env, { sandbox, production: true, captureLogs });
  return app;
}

async function paged(t: TestApp): Promise<void> {
  const answer = await post(`${t.url}/api/v1/alerts`, ALERT);
  expect(answer.status).toBe(202);
  await waitFor(
    async () => sandbox.pagerduty.requests().length > 0 && sandbox.opsgenie.requests().length > 0,
  );
}

const hostOf = (url: string): string => new URL(url).host;

describe('outbound proxy', () => {
  it('HTTP_PROXY carries every provider request; NO_PROXY exempts a host and port', async () => {
    proxy = await startProxy();
    await paged(await sidecar({ HTTP_PROXY: proxy.url }));
    expect(new Set(proxy.targets)).toEqual(
      new Set([hostOf(sandbox.urls.pagerdutyEvents), hostOf(sandbox.urls.opsgenie)]),
    );
    await app?.stop();
    app = null;
    sandbox.pagerduty.reset();
    sandbox.opsgenie.reset();
    proxy.targets.length = 0;

    await paged(await sidecar({ HTTP_PROXY: proxy.url, NO_PROXY: hostOf(sandbox.urls.pagerdutyEvents) }));
    expect(new Set(proxy.targets)).toEqual(new Set([hostOf(sandbox.urls.opsgenie)]));
  });

  it('a proxy that asks for credentials gets those in its URL, and the log never shows the password', async () => {
    proxy = await startProxy('relay:pr0xy-s3cret');
    const t = await sidecar({ HTTP_PROXY: proxy.url.replace('//', '//relay:pr0xy-s3cret@') }, true);
    await paged(t);
    expect(proxy.refused).toBe(0);
    expect(proxy.targets.length).toBeGreaterThanOrEqual(2);
    expect(t.logs()).not.toContain('pr0xy-s3cret');
  });

  it("--sandbox never sends the simulators' requests through it", async () => {
    proxy = await startProxy();
    app = await startTestApp({ HTTP_PROXY: proxy.url }, { sandbox });
    await paged(app);
    expect(proxy.targets).toEqual([]);
  });

  it('a proxy URL that is not http(s) is refused at start, without its credentials', async () => {
    await expect(sidecar({ HTTPS_PROXY: 'socks5://relay:pr0xy-s3cret@127.0.0.1:1080' })).rejects.toThrow(
      'HTTPS_PROXY="socks5://***@127.0.0.1:1080": expected an http: or https: proxy URL',
    );
  });
});
