// How the sidecar connects to NATS (docs/architecture.md, "NATS connections"): nats.js's own
// client, with one change in how it writes. nats.js hands the socket one write per microtask turn
// in which something was sent; in cluster mode the continuations of many requests run in separate
// turns, so nearly every request cost its own system call: a fifth of a sidecar's CPU during a
// burst of new incidents (docs/performance.md, "Cluster mode"). Here frames sent within one turn of
// the event loop are written together, in order, once the turn's I/O callbacks are done. And no
// stack is captured up front for every request (`noAsyncTraces`): nats.js built two Error objects
// per request for it, a sixth of the sidecar's CPU in the same burst.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions, NatsConnection } from '@nats-io/transport-node';
import {
  credsAuthenticator,
  NatsConnectionImpl,
  nkeyAuthenticator,
  setTransportFactory,
} from '@nats-io/transport-node/lib/nats-base-client.js';
import { NodeTransport, nodeResolveHost } from '@nats-io/transport-node/lib/node_transport.js';
import { NO_NATS_AUTH, type NatsAuth } from '../config/nats-auth.js';

/** Frames queued for the next write; written at once past this many bytes. */
const FLUSH_AT_BYTES = 64 * 1024;

class CoalescingTransport extends NodeTransport {
  private queued: Uint8Array[] = [];
  private queuedBytes = 0;
  private scheduled = false;

  override send(frame: Uint8Array): void {
    this.queued.push(frame);
    this.queuedBytes += frame.length;
    if (this.queuedBytes >= FLUSH_AT_BYTES) this.flushQueued();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flushQueued());
    }
  }

  override close(err?: Error): Promise<void> {
    this.flushQueued();
    return super.close(err);
  }

  private flushQueued(): void {
    this.scheduled = false;
    if (this.queued.length === 0) return;
    const frames = this.queued;
    this.queued = [];
    this.queuedBytes = 0;
    super.send(frames.length === 1 ? (frames[0] as Uint8Array) : Buffer.concat(frames));
  }
}

/**
 * nats.js's `connect`, writing through CoalescingTransport, without async stack traces, and
 * authenticated as `auth` says (docs/configuration.md, "NATS authentication and TLS").
 */
export function connect(options: ConnectionOptions, auth: NatsAuth = NO_NATS_AUTH): Promise<NatsConnection> {
  // The factory is nats.js's global; it is read when a connection (or a reconnect) opens a socket.
  setTransportFactory({ factory: () => new CoalescingTransport(), dnsResolveFn: nodeResolveHost });
  return NatsConnectionImpl.connect({ noAsyncTraces: true, ...authOptions(auth), ...options });
}

/**
 * nats.js's options for `auth`. Credentials and seed files are read at every connection attempt
 * (nats.js asks the authenticator each time), TLS files by nats.js when it opens a socket: a
 * rotated file is used from the next reconnection on.
 */
export function authOptions(auth: NatsAuth): Partial<ConnectionOptions> {
  const options: Partial<ConnectionOptions> = {};
  if (auth.user !== null) {
    options.user = auth.user.name;
    options.pass = auth.user.password;
  }
  if (auth.token !== null) options.token = auth.token;
  const { credsFile, nkeyFile, tls } = auth;
  if (credsFile !== null) options.authenticator = credsAuthenticator(() => readFileSync(credsFile));
  if (nkeyFile !== null)
    options.authenticator = nkeyAuthenticator(() =>
      new TextEncoder().encode(readFileSync(nkeyFile, 'utf8').trim()),
    );
  if (tls !== null)
    options.tls = {
      ...(tls.caFile === null ? {} : { caFile: tls.caFile }),
      ...(tls.certFile === null ? {} : { certFile: tls.certFile }),
      ...(tls.keyFile === null ? {} : { keyFile: tls.keyFile }),
    };
  return options;
}
