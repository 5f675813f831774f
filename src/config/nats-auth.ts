// How the sidecar proves who it is to NATS, and over what (docs/configuration.md, "NATS
// authentication and TLS"): user and password, a token, a credentials file (user JWT and NKey seed,
// NATS's decentralised auth) or an NKey seed file; a private CA and a client certificate for TLS.
// The variables are those of the `nats` command-line tool, so an environment set up for it works
// here. Credentials written into NATS_URL (`nats://user:password@host`, `nats://token@host`) are
// taken out of it: nats.js does not read them there, and the URL is shown in health and logs.
//
// Files are checked here, at start, and read again at every (re)connection, so a rotated
// credentials file or certificate is picked up without a restart.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

export interface NatsTls {
  /** NATS_CA: PEM file of the CA that signed the servers' certificates (else the system's). */
  caFile: string | null;
  /** NATS_CERT and NATS_KEY: this client's certificate and key, for servers that verify clients. */
  certFile: string | null;
  keyFile: string | null;
}

export interface NatsAuth {
  /** NATS_USER and NATS_PASSWORD, or `user:password@` in NATS_URL. */
  user: { name: string; password: string } | null;
  /** NATS_TOKEN, or `token@` in NATS_URL. */
  token: string | null;
  /** NATS_CREDS: a credentials file (user JWT and NKey seed). */
  credsFile: string | null;
  /** NATS_NKEY: a file holding a user NKey seed (`SU…`). */
  nkeyFile: string | null;
  /** Null when none of NATS_CA, NATS_CERT, NATS_KEY is set (a `tls://` URL still uses TLS). */
  tls: NatsTls | null;
}

export const NO_NATS_AUTH: NatsAuth = { user: null, token: null, credsFile: null, nkeyFile: null, tls: null };

type Env = Readonly<Record<string, string | undefined>>;

/** NATS_URL's servers without credentials, and the authentication and TLS settings. */
export interface NatsEndpoint {
  servers: string[];
  auth: NatsAuth;
  /** Credentials found in NATS_URL (masked wherever secrets are). */
  urlSecrets: string[];
}

/** `nats://user:secret@host` → `nats://***@host`: for messages about a URL as given. */
export function maskUserInfo(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1***@');
}

/**
 * Reads the authentication and TLS variables; `urls` are NATS_URL's servers as given (one that does
 * not parse is a problem, and left out). Problems are pushed to `problems`, one line each, naming the
 * variable and never a secret's value.
 */
export function readNatsEndpoint(
  env: Env,
  urls: readonly string[],
  problems: string[],
  cwd: string,
  urlName = 'NATS_URL',
): NatsEndpoint {
  const value = (name: string): string | null => {
    const v = env[name];
    return v === undefined || v === '' ? null : v;
  };
  const servers: string[] = [];
  const inUrls = new Set<string>();
  let fromUrl: { user: string; password: string } | null = null;
  for (const raw of urls) {
    if (!URL.canParse(raw)) {
      problems.push(`${urlName}: ${JSON.stringify(maskUserInfo(raw))} is not a URL`);
      continue;
    }
    const u = new URL(raw);
    if (u.username === '' && u.password === '') {
      servers.push(raw);
      continue;
    }
    const user = decodeURIComponent(u.username);
    const password = decodeURIComponent(u.password);
    inUrls.add(`${user}\u0000${password}`);
    fromUrl = { user, password };
    u.username = '';
    u.password = '';
    servers.push(u.toString().replace(/\/$/, ''));
  }
  if (inUrls.size > 1) problems.push(`${urlName}: its servers carry different credentials; give them once`);

  const userName = value('NATS_USER');
  const password = value('NATS_PASSWORD');
  const token = value('NATS_TOKEN');
  if (userName !== null && password === null) problems.push('NATS_USER is set but NATS_PASSWORD is not');
  if (password !== null && userName === null) problems.push('NATS_PASSWORD is set but NATS_USER is not');
  const file = (name: string, check: (text: string) => string | null): string | null => {
    const given = value(name);
    if (given === null) return null;
    const path = isAbsolute(given) ? given : resolve(cwd, given);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      problems.push(
        `${name}=${given}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      );
      return path;
    }
    const wrong = check(text);
    if (wrong !== null) problems.push(`${name}=${given}: ${wrong}`);
    return path;
  };
  const credsFile = file('NATS_CREDS', (t) =>
    /-----BEGIN NATS USER JWT-----/.test(t) && /-----BEGIN USER NKEY SEED-----/.test(t)
      ? null
      : 'not a NATS credentials file (expected a user JWT and a user NKey seed block)',
  );
  const nkeyFile = file('NATS_NKEY', (t) =>
    /^SU[A-Z2-7]{56}$/.test(t.trim()) ? null : 'not a user NKey seed (one line starting SU)',
  );
  const pem = (what: string) => (t: string) =>
    /-----BEGIN [A-Z ]+-----/.test(t) ? null : `not a PEM ${what}`;
  const caFile = file('NATS_CA', pem('certificate'));
  const certFile = file('NATS_CERT', pem('certificate'));
  const keyFile = file('NATS_KEY', pem('private key'));
  if ((certFile === null) !== (keyFile === null))
    problems.push(
      `${certFile === null ? 'NATS_KEY' : 'NATS_CERT'} is set without ${certFile === null ? 'NATS_CERT' : 'NATS_KEY'}: a client certificate needs both`,
    );

  const ways = [
    ...(userName !== null || password !== null ? ['NATS_USER/NATS_PASSWORD'] : []),
    ...(token !== null ? ['NATS_TOKEN'] : []),
    ...(credsFile !== null ? ['NATS_CREDS'] : []),
    ...(nkeyFile !== null ? ['NATS_NKEY'] : []),
    ...(fromUrl !== null ? [`credentials in ${urlName}`] : []),
  ];
  if (ways.length > 1)
    problems.push(
      `NATS authentication: use one of NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_CREDS, NATS_NKEY or credentials in ${urlName}, not ${ways.join(' and ')}`,
    );

  // `user:password@` is a user; a bare `token@` a token (as the other NATS clients read it).
  const urlUser =
    fromUrl !== null && fromUrl.password !== '' ? { name: fromUrl.user, password: fromUrl.password } : null;
  const urlToken = fromUrl !== null && fromUrl.password === '' ? fromUrl.user : null;
  return {
    servers,
    auth: {
      user: userName !== null && password !== null ? { name: userName, password } : urlUser,
      token: token ?? urlToken,
      credsFile,
      nkeyFile,
      tls: caFile === null && certFile === null && keyFile === null ? null : { caFile, certFile, keyFile },
    },
    urlSecrets: fromUrl === null ? [] : [fromUrl.password !== '' ? fromUrl.password : fromUrl.user],
  };
}
