// What a secured NATS needs, made on the spot for tests: NKey users, an operator with an account and a
// user (a credentials file, NATS's decentralised auth, with the server's memory resolver), and a
// private CA with server and client certificates (openssl). Nothing here is read by the sidecar.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nkeys } from '@nats-io/transport-node';

const text = new TextDecoder();
const b64url = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('base64url');

/** A user NKey: its seed (the sidecar's NATS_NKEY file) and public key (the server's config). */
export function nkeyUser(): { seed: string; publicKey: string } {
  const kp = nkeys.createUser();
  return { seed: text.decode(kp.getSeed()), publicKey: kp.getPublicKey() };
}

/** A NATS JWT (ed25519-nkey), signed by `issuer`. */
function jwt(issuer: nkeys.KeyPair, subject: string, name: string, nats: Record<string, unknown>): string {
  const claims: Record<string, unknown> = {
    iat: Math.floor(Date.now() / 1000),
    iss: issuer.getPublicKey(),
    name,
    sub: subject,
    nats: { ...nats, version: 2 },
  };
  claims['jti'] = createHash('sha256').update(JSON.stringify(claims)).digest('base64url').slice(0, 52);
  const body = `${b64url(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' }))}.${b64url(JSON.stringify(claims))}`;
  return `${body}.${b64url(issuer.sign(new TextEncoder().encode(body)))}`;
}

const UNLIMITED = { subs: -1, data: -1, payload: -1 };

/**
 * Operator mode: a nats-server configuration file trusting one operator and preloading its one
 * account, and a credentials file for a user of that account.
 */
export async function operatorSetup(dir: string): Promise<{ serverConfig: string; credsFile: string }> {
  const operator = nkeys.createOperator();
  const system = nkeys.createAccount(); // JetStream needs one
  const account = nkeys.createAccount();
  const user = nkeys.createUser();
  const operatorJwt = jwt(operator, operator.getPublicKey(), 'test-operator', { type: 'operator' });
  const accountJwt = jwt(operator, account.getPublicKey(), 'test-account', {
    type: 'account',
    limits: { ...UNLIMITED, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 },
  });
  const systemJwt = jwt(operator, system.getPublicKey(), 'SYS', { type: 'account', limits: UNLIMITED });
  const userJwt = jwt(account, user.getPublicKey(), 'sidecar', {
    type: 'user',
    pub: {},
    sub: {},
    ...UNLIMITED,
  });
  const serverConfig = join(dir, 'operator.conf');
  await writeFile(
    serverConfig,
    [
      `operator: ${operatorJwt}`,
      `system_account: ${system.getPublicKey()}`,
      'resolver: MEMORY',
      `resolver_preload: {`,
      `  ${system.getPublicKey()}: ${systemJwt}`,
      `  ${account.getPublicKey()}: ${accountJwt}`,
      `}`,
      '',
    ].join('\n'),
  );
  const credsFile = join(dir, 'sidecar.creds');
  await writeFile(
    credsFile,
    [
      '-----BEGIN NATS USER JWT-----',
      userJwt,
      '------END NATS USER JWT------',
      '',
      '************************* IMPORTANT *************************',
      'NKEY Seed printed below can be used to sign and prove identity.',
      '',
      '-----BEGIN USER NKEY SEED-----',
      text.decode(user.getSeed()),
      '------END USER NKEY SEED------',
      '',
    ].join('\n'),
  );
  return { serverConfig, credsFile };
}

export interface TestCertificates {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** A private CA, a certificate for 127.0.0.1 and a client certificate, all PEM files in `dir`. */
export function certificates(dir: string): TestCertificates {
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'pipe' });
  };
  const f = (name: string): string => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=ir-test-ca',
  );
  for (const [who, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    openssl('req', ...ec, '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=ir-test-${who}`);
    execFileSync('sh', ['-c', `printf '${ext}\\n' > '${f(`${who}.ext`)}'`]);
    openssl(
      'x509',
      '-req',
      '-in',
      f(`${who}.csr`),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-out',
      f(`${who}.pem`),
      '-days',
      '2',
      '-extfile',
      f(`${who}.ext`),
    );
  }
  return {
    ca: f('ca.pem'),
    serverCert: f('server.pem'),
    serverKey: f('server.key'),
    clientCert: f('client.pem'),
    clientKey: f('client.key'),
  };
}
