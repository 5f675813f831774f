// NATS authentication and TLS settings (src/config/nats-auth.ts; docs/configuration.md, "NATS
// authentication and TLS"): what is read, what is refused and said how, and that no secret reaches
// a message or the URL that health shows. Connections through them: tests/nats/auth.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { authOptions } from '../../src/nats/connect.js';
import { problems } from './support.js';
import { nkeyUser } from '../helpers/nats-auth.js';

const URL_ = 'nats://127.0.0.1:4222';
const dir = mkdtempSync(join(tmpdir(), 'ir-nats-auth-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const CREDS =
  '-----BEGIN NATS USER JWT-----\neyJ0\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\nSUAB\n------END USER NKEY SEED------\n';

describe('NATS authentication and TLS settings', () => {
  it('none set: no credentials, the URL as given', () => {
    const nats = loadConfig({ NATS_URL: URL_ }).nats!;
    expect(nats.url).toBe(URL_);
    expect(nats.auth).toEqual({ user: null, token: null, credsFile: null, nkeyFile: null, tls: null });
    expect(authOptions(nats.auth)).toEqual({});
  });

  it('credentials written into NATS_URL are taken out of it, kept as a user or a token, and masked', () => {
    const config = loadConfig({
      NATS_URL: 'nats://ops:p%40ss-w0rd@10.0.0.1:4222,nats://ops:p%40ss-w0rd@10.0.0.2:4222',
    });
    expect(config.nats!.servers).toEqual(['nats://10.0.0.1:4222', 'nats://10.0.0.2:4222']);
    expect(config.nats!.url).toBe('nats://10.0.0.1:4222,nats://10.0.0.2:4222');
    expect(config.nats!.auth.user).toEqual({ name: 'ops', password: 'p@ss-w0rd' });
    expect(config.secretValues).toContain('p@ss-w0rd');
    const token = loadConfig({ NATS_URL: 'tls://s3cr3t-token@nats.example:4222' });
    expect(token.nats!.auth.token).toBe('s3cr3t-token');
    expect(token.nats!.url).toBe('tls://nats.example:4222');
    expect(token.secretValues).toContain('s3cr3t-token');
    expect(authOptions(token.nats!.auth)).toEqual({ token: 's3cr3t-token' });
  });

  it('NATS_USER and NATS_PASSWORD, NATS_TOKEN: one way at a time, each complete', () => {
    const nats = loadConfig({ NATS_URL: URL_, NATS_USER: 'ops', NATS_PASSWORD: 'pw' }).nats!;
    expect(authOptions(nats.auth)).toEqual({ user: 'ops', pass: 'pw' });
    expect(problems({ NATS_URL: URL_, NATS_USER: 'ops' })).toEqual([
      'NATS_USER is set but NATS_PASSWORD is not',
    ]);
    expect(problems({ NATS_URL: URL_, NATS_PASSWORD: 'pw' })).toEqual([
      'NATS_PASSWORD is set but NATS_USER is not',
    ]);
    expect(problems({ NATS_URL: 'nats://a:b@127.0.0.1:4222', NATS_TOKEN: 'tok' })).toEqual([
      'NATS authentication: use one of NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_CREDS, NATS_NKEY or credentials in NATS_URL, not NATS_TOKEN and credentials in NATS_URL',
    ]);
    expect(problems({ NATS_URL: 'nats://a:b@127.0.0.1:4222,nats://a:c@127.0.0.2:4222' })).toEqual([
      'NATS_URL: its servers carry different credentials; give them once',
    ]);
  });

  it('files are checked at start: readable, and of the kind the variable names; no secret in a message', () => {
    const seed = nkeyUser().seed;
    const good = loadConfig({
      NATS_URL: URL_,
      NATS_NKEY: file('ok.nk', `${seed}\n`),
      NATS_CA: file('ca.pem', PEM),
      NATS_CERT: file('cert.pem', PEM),
      NATS_KEY: file('key.pem', '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n'),
    }).nats!;
    expect(good.auth.nkeyFile).toBe(join(dir, 'ok.nk'));
    expect(good.auth.tls).toEqual({
      caFile: join(dir, 'ca.pem'),
      certFile: join(dir, 'cert.pem'),
      keyFile: join(dir, 'key.pem'),
    });
    const options = authOptions(good.auth);
    expect(typeof options.authenticator).toBe('function');
    expect(options.tls).toEqual({
      caFile: join(dir, 'ca.pem'),
      certFile: join(dir, 'cert.pem'),
      keyFile: join(dir, 'key.pem'),
    });
    expect(loadConfig({ NATS_URL: URL_, NATS_CREDS: file('ok.creds', CREDS) }).nats!.auth.credsFile).toBe(
      join(dir, 'ok.creds'),
    );

    const missing = join(dir, 'missing.creds');
    expect(problems({ NATS_URL: URL_, NATS_CREDS: missing })).toEqual([
      `NATS_CREDS=${missing}: cannot read it (ENOENT)`,
    ]);
    const notCreds = file('seed-only.creds', `${seed}\n`);
    const notSeed = file('bad.nk', 'not a seed\n');
    const notPem = file('cert.txt', 'hello\n');
    const found = problems({ NATS_URL: URL_, NATS_CREDS: notCreds, NATS_NKEY: notSeed, NATS_CERT: notPem });
    expect(found).toEqual([
      `NATS_CREDS=${notCreds}: not a NATS credentials file (expected a user JWT and a user NKey seed block)`,
      `NATS_NKEY=${notSeed}: not a user NKey seed (one line starting SU)`,
      `NATS_CERT=${notPem}: not a PEM certificate`,
      'NATS_CERT is set without NATS_KEY: a client certificate needs both',
      'NATS authentication: use one of NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_CREDS, NATS_NKEY or credentials in NATS_URL, not NATS_CREDS and NATS_NKEY',
    ]);
    expect(found.join('\n')).not.toContain(seed);
  });

  it('a NATS_URL that does not parse is named without the credentials in it', () => {
    expect(problems({ NATS_URL: 'http://ops:hunter2-secret@127.0.0.1:4222' })).toEqual([
      'NATS_URL: "http://***@127.0.0.1:4222" is not a nats: or tls: or ws: or wss: URL',
    ]);
  });
});
