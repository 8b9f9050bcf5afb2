// Bearer and JWT: an `Authorization: Bearer …` token verified per oidcConfig by the Authenticator
// (JWT against the JWKS; an opaque token by RFC 7662 introspection, which JWT leaves out).
import type { Credentials } from './credentials.js';
import type { Authenticator } from './index.js';
import type { AuthMethod, AuthResult } from './method.js';

const isBearer = (a: string) => a.length > 7 && a.charCodeAt(6) === 32 && a.slice(0, 6).toLowerCase() === 'bearer';

export class BearerMethod implements AuthMethod {
  readonly challenge: string;
  readonly wants: string;

  constructor(
    readonly type: 'Bearer' | 'JWT',
    readonly authenticator: Authenticator,
  ) {
    this.challenge = authenticator.challenge;
    this.wants = type === 'JWT' ? 'a bearer token (JWT)' : 'a bearer token';
  }

  authenticate(c: Credentials): AuthResult | Promise<AuthResult> | undefined {
    const a = c.authorization;
    if (a === undefined || !isBearer(a)) return undefined;
    return this.authenticator.authenticate(a);
  }
}
