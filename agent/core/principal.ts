// Who is calling, as every part of the agent sees it: authentication makes one per verified
// credential (or ANONYMOUS when it is off), sessions are bound to its `key`, policy stages read its
// claims, audit lines name its `iss`/`sub`. Every authentication method yields this one shape:
// `claims.groups` holds the groups and `claims.auth_method` the method, whichever method it was,
// so Cedar policies read them alike. Defined once, here.
import type { AuthMethodType } from '../../api/v1beta1/authentication.js';

export interface Principal {
  /** Stable identity for session binding, limits and audit: `iss|sub`, or `anonymous` when authentication is off. */
  readonly key: string;
  readonly sub: string;
  readonly iss?: string;
  /** The method that verified the caller (undefined: a principal the agent names itself). */
  readonly method?: AuthMethodType;
  /** Verified token claims (or introspection response; for other methods, what they verified). Never a credential. */
  readonly claims: Readonly<Record<string, unknown>>;
  readonly scopes: readonly string[];
  /** Epoch seconds. */
  readonly expiresAt?: number;
}

export const ANONYMOUS: Principal = Object.freeze({
  key: 'anonymous',
  sub: 'anonymous',
  method: 'None',
  claims: Object.freeze({ auth_method: 'None' }),
  scopes: Object.freeze([]) as readonly string[],
});

/** A principal with no claims, for tests and for callers the agent names itself. */
export function principalNamed(key: string): Principal {
  return { key, sub: key, claims: {}, scopes: [] };
}
