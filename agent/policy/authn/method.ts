// The one seam every client authentication method implements, and the principal shape they all
// yield. A method looks for its own kind of credential: absent → `undefined` (the chain tries the
// next method); present → a Principal, or a Refusal that ends the chain (a wrong API key must
// never fall through to a later method such as None).
import type { AuthMethodType } from '../../../api/v1beta1/authentication.js';
import { ErrorCode } from '../../protocol/jsonrpc.js';
import { Refusal, type Principal } from '../types.js';
import type { Credentials } from './credentials.js';

export type AuthResult = Principal | Refusal;

export interface AuthMethod {
  readonly type: AuthMethodType;
  /** The RFC 7235 challenge this method offers in a 401 (`WWW-Authenticate`), if any. */
  readonly challenge: string | undefined;
  /** What a client must present, for the 401 message: "an API key (header X-API-Key)". */
  readonly wants: string;
  /** undefined: no credential of this kind. Synchronous unless the credential must be verified remotely or by a slow hash. */
  authenticate(credentials: Credentials): AuthResult | Promise<AuthResult> | undefined;
  /** Stops file watchers. */
  close?(): void;
}

/** The `iss` of principals the agent verifies itself: keys, passwords, certificates. */
export const localIssuer = (type: AuthMethodType) => `urn:ome-mcp:auth:${type}`;

/**
 * A principal verified by the agent itself, in the shape Bearer principals have: `sub`, `groups`
 * and `auth_method` in its claims (Cedar reads `claim_*` and the groups as THVGroup parents).
 */
export function localPrincipal(type: AuthMethodType, sub: string, groups: readonly string[], extra: Record<string, unknown> = {}): Principal {
  const iss = localIssuer(type);
  return Object.freeze({
    key: `${iss}|${sub}`,
    sub,
    iss,
    method: type,
    claims: Object.freeze({ ...extra, iss, sub, groups: [...groups], auth_method: type }),
    scopes: Object.freeze([]) as readonly string[],
  });
}

/** 401 for a presented but wrong credential. `reason` goes to audit only and must never hold a credential. */
export function invalidCredential(challenge: string | undefined, message: string, reason: string): Refusal {
  return new Refusal(401, ErrorCode.Unauthorized, `Unauthorized: ${message}`, challenge ? { 'WWW-Authenticate': challenge } : undefined, reason);
}

/** The scheme of an Authorization header (lower case) and its parameter, or undefined. */
export function authScheme(authorization: string | undefined): { scheme: string; value: string } | undefined {
  if (!authorization) return undefined;
  const sp = authorization.indexOf(' ');
  if (sp <= 0) return undefined;
  return { scheme: authorization.slice(0, sp).toLowerCase(), value: authorization.slice(sp + 1).trim() };
}
