// A NATS that asks who connects, as production ones do: user and password, a token, an NKey, a
// credentials file (operator mode), TLS with a private CA and a client certificate
// (docs/configuration.md, "NATS authentication and TLS"). Each against a real nats-server set up
// that way; the sidecar must ingest through it, keep the secrets out of health and logs, and, in
// cluster mode, refuse to start when the server refuses it.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  connect,
  credsAuthenticator,
  nkeyAuthenticator,
  type ConnectionOptions,
} from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, startTestApp, waitFor, type TestApp } from '../helpers/app.js';
import { certificates, nkeyUser, operatorSetup } from '../helpers/nats-auth.js';
import { NatsServer } from '../helpers/nats-server.js';

let dir: string;
const servers: NatsServer[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ir-nats-auth-'));
});
afterAll(async () => {
  for (const s of servers) await s.dispose();
  await rm(dir, { recursive: true, force: true });
});

async function server(args: string[]): Promise<NatsServer> {
  const s = await NatsServer.start(args);
  servers.push(s);
  return s;
}

const PASSWORD = 'pw-3f9c1e7a5d';
const TOKEN = 'tok-8b2d6f0c4e9a';

/**
 * A sidecar on `env` (LevelDB state unless `env` says otherwise) that must take a paging line a
 * client with `client` options publishes, and show the incident it opens.
 */
async function ingests(env: Record<string, string>, client: Partial<ConnectionOptions>): Promise<TestApp> {
  const subject = `auth.${Math.random().toString(36).slice(2, 8)}`;
  const t = await startTestApp({ NATS_SUBJECT: `${subject}.>`, ...env }, { captureLogs: true });
  try {
    await waitFor(async () => (await get(`${t.url}/api/v1/health`)).body.nats?.connected === true);
    const nc = await connect({ servers: (env['NATS_URL'] as string).replace(/\/\/[^@]*@/, '//'), ...client });
    const service = `auth-${Math.random().toString(36).slice(2, 8)}`;
    nc.publish(
      `${subject}.app`,
      JSON.stringify({
        timestamp: new Date().toISOString(),
        service,
        level: 'error',
        source: 'database',
        message: 'connection refused to postgres',
      }),
    );
    await nc.flush();
    await nc.close();
    await waitFor(async () => {
      const { body } = await get(`${t.url}/api/v1/incidents?service=${service}`);
      return body.incidents.length === 1;
    });
    return t;
  } catch (err) {
    await t.stop();
    throw err;
  }
}

describe('NATS authentication and TLS', () => {
  it('user and password, from NATS_USER and NATS_PASSWORD or written into NATS_URL; neither health nor the log shows the password', async () => {
    const s = await server(['--user', 'sidecar', '--pass', PASSWORD]);
    const client = { user: 'sidecar', pass: PASSWORD };
    const a = await ingests({ NATS_URL: s.url, NATS_USER: 'sidecar', NATS_PASSWORD: PASSWORD }, client);
    await a.stop();
    const withPassword = s.url.replace('//', `//sidecar:${PASSWORD}@`);
    const b = await ingests({ NATS_URL: withPassword }, client);
    try {
      const health = await get(`${b.url}/api/v1/health`);
      expect(health.body.nats.url).toBe(s.url);
      expect(JSON.stringify(health.body)).not.toContain(PASSWORD);
      expect(b.logs()).toContain('nats_connected');
      expect(b.logs()).not.toContain(PASSWORD);
    } finally {
      await b.stop();
    }
  });

  it('a token, from NATS_TOKEN or as `token@` in NATS_URL', async () => {
    const s = await server(['--auth', TOKEN]);
    const a = await ingests({ NATS_URL: s.url, NATS_TOKEN: TOKEN }, { token: TOKEN });
    await a.stop();
    const b = await ingests({ NATS_URL: s.url.replace('//', `//${TOKEN}@`) }, { token: TOKEN });
    try {
      expect(JSON.stringify((await get(`${b.url}/api/v1/health`)).body)).not.toContain(TOKEN);
    } finally {
      await b.stop();
    }
  });

  it('an NKey seed file (NATS_NKEY)', async () => {
    const user = nkeyUser();
    const config = join(dir, 'nkey.conf');
    await writeFile(config, `authorization: { users: [ { nkey: ${user.publicKey} } ] }\n`);
    const seedFile = join(dir, 'user.nk');
    await writeFile(seedFile, `${user.seed}\n`);
    const s = await server(['-c', config]);
    const t = await ingests(
      { NATS_URL: s.url, NATS_NKEY: seedFile },
      { authenticator: nkeyAuthenticator(new TextEncoder().encode(user.seed)) },
    );
    await t.stop();
  });

  it('a credentials file (NATS_CREDS) against a server in operator mode', async () => {
    const { serverConfig, credsFile } = await operatorSetup(dir);
    const s = await server(['-c', serverConfig]);
    const t = await ingests(
      { NATS_URL: s.url, NATS_CREDS: credsFile },
      { authenticator: credsAuthenticator(await readFile(credsFile)) },
    );
    await t.stop();
  });

  it('TLS with a private CA and a client certificate the server verifies (NATS_CA, NATS_CERT, NATS_KEY), in cluster mode too', async () => {
    const c = certificates(dir);
    const s = await server([
      '--tls',
      '--tlscert',
      c.serverCert,
      '--tlskey',
      c.serverKey,
      '--tlscacert',
      c.ca,
      '--tlsverify',
    ]);
    const url = s.url.replace('nats://', 'tls://');
    const tls = { NATS_URL: url, NATS_CA: c.ca, NATS_CERT: c.clientCert, NATS_KEY: c.clientKey };
    const client = { tls: { caFile: c.ca, certFile: c.clientCert, keyFile: c.clientKey } };
    const a = await ingests(tls, client);
    await a.stop();
    const b = await ingests({ ...tls, STATE: 'jetstream', CLUSTER_NAME: 'tls' }, client);
    try {
      expect((await get(`${b.url}/api/v1/health`)).body.state.backend).toBe('jetstream');
    } finally {
      await b.stop();
    }
  });

  it('refused credentials: core mode keeps serving HTTP and says why in health; cluster mode does not start', async () => {
    const s = await server(['--user', 'sidecar', '--pass', PASSWORD]);
    const wrong = { NATS_URL: s.url, NATS_USER: 'sidecar', NATS_PASSWORD: 'not-the-password' };
    const t = await startTestApp(wrong);
    try {
      const health = await waitFor(async () => {
        const { body } = await get(`${t.url}/api/v1/health`);
        return body.nats?.last_error ? body : null;
      });
      expect(health.nats.connected).toBe(false);
      expect(health.nats.last_error).toMatch(/authorization/i);
      expect(health.system_status).toBe('degraded');
    } finally {
      await t.stop();
    }
    await expect(startTestApp({ ...wrong, STATE: 'jetstream', CLUSTER_NAME: 'refused' })).rejects.toThrow(
      /STATE=jetstream: cannot reach NATS at nats:\/\/127\.0\.0\.1:\d+ \(.*[Aa]uthorization/,
    );
  });
});
