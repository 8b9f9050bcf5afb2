// What a request presents to authentication, gathered once per request by the transports: the
// Authorization header, any other header a method reads (an API key's), the TLS peer certificate
// (read only when a method asks, so a request without client-certificate auth never touches it)
// and the client address (failure rate limiting).
import type { Socket } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';

export interface PeerIdentity {
  /** The client's certificate; undefined when it sent none (or the connection is not TLS). */
  readonly certificate: PeerCertificate | undefined;
  /** True when the TLS layer verified the certificate against the client CA. */
  readonly authorized: boolean;
  /** Why the TLS layer did not verify it. */
  readonly error?: string;
}

export interface Credentials {
  readonly authorization: string | undefined;
  /** Any request header, by name (case-insensitive). */
  header(name: string): string | undefined;
  /** The TLS peer; undefined over plain HTTP. */
  readonly peer: PeerIdentity | undefined;
  /** The client's address as the socket sees it. */
  readonly address: string | undefined;
}

/**
 * The verified peer of a TLS socket. The HTTPS server (agent/ops/tls.ts) requests a certificate
 * without requiring it, so `authorized` says whether the one sent (if any) chains to the client CA.
 */
export function peerOf(socket: Socket | undefined): PeerIdentity | undefined {
  const tls = socket as TLSSocket | undefined;
  if (typeof tls?.getPeerCertificate !== 'function') return undefined;
  const cert = tls.getPeerCertificate();
  const certificate = cert && Object.keys(cert).length > 0 ? cert : undefined;
  const error = tls.authorizationError;
  return { certificate, authorized: tls.authorized === true, ...(error ? { error: String(error) } : {}) };
}

interface HeaderSource {
  header(name: string): string | undefined;
}

/** Credentials over a request's headers and socket; the peer is read on first use. */
export class RequestCredentials implements Credentials {
  readonly authorization: string | undefined;
  private peerRead = false;
  private peerValue: PeerIdentity | undefined;

  constructor(
    private readonly req: HeaderSource,
    private readonly socket: Socket | undefined,
  ) {
    this.authorization = req.header('authorization');
  }

  header(name: string): string | undefined {
    return this.req.header(name);
  }

  get peer(): PeerIdentity | undefined {
    if (!this.peerRead) {
      this.peerRead = true;
      this.peerValue = peerOf(this.socket);
    }
    return this.peerValue;
  }

  get address(): string | undefined {
    return this.socket?.remoteAddress;
  }
}

/** Credentials of a bare Authorization header (tests, callers without a request). */
export function bearerOnly(authorization: string | undefined): Credentials {
  return { authorization, header: (n) => (n.toLowerCase() === 'authorization' ? authorization : undefined), peer: undefined, address: undefined };
}
