/**
 * `requestState` tokens for the input-required bridge: the agent holds a 2025-era server's
 * request open while a 2026-07-28 client gathers input, and the client's retry names the held
 * call with this token. Integrity-protected (HMAC-SHA256) and bound to the principal, the
 * originating method and name, an expiry and the replica that holds the call — the MRTR
 * page's replay rules. The held call itself is single-use server-side.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface RequestStateClaims {
  /** The held call's id in this replica's registry. */
  held: string;
  /** Principal key of the caller that started the call. */
  sub: string;
  /** Method and name (tool, prompt or resource URI) of the originating request. */
  op: string;
  /** Expiry, epoch milliseconds. */
  exp: number;
  /** The replica (host name) that holds the upstream call. */
  node: string;
}

/** The reason `verify` gives for a genuine token past its expiry. */
export const EXPIRED = 'requestState has expired';

export class RequestStateSigner {
  private readonly key: Buffer;

  constructor(key?: Buffer) {
    this.key = key ?? randomBytes(32);
  }

  sign(claims: RequestStateClaims): string {
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  /** The claims, or a reason the token is not acceptable. */
  verify(token: string, now = Date.now()): RequestStateClaims | string {
    const dot = token.indexOf('.');
    if (dot <= 0) return 'requestState is malformed';
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.mac(body), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'requestState failed verification';
    let claims: RequestStateClaims;
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as RequestStateClaims;
    } catch {
      return 'requestState is malformed';
    }
    if (typeof claims.exp !== 'number' || claims.exp < now) return EXPIRED;
    return claims;
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
