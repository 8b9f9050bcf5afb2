// Who is calling, as every part of the agent sees it: authentication makes one per verified
// token (or ANONYMOUS when it is off), sessions are bound to its `key`, policy stages read its
// claims, audit lines name its `iss`/`sub`. Defined once, here.

export interface Principal {
  /** Stable identity for session binding, limits and audit: `iss|sub`, or `anonymous` when authentication is off. */
  readonly key: string;
  readonly sub: string;
  readonly iss?: string;
  /** Verified token claims (or introspection response). Never the token itself. */
  readonly claims: Readonly<Record<string, unknown>>;
  readonly scopes: readonly string[];
  /** Epoch seconds. */
  readonly expiresAt?: number;
}

export const ANONYMOUS: Principal = Object.freeze({
  key: 'anonymous',
  sub: 'anonymous',
  claims: Object.freeze({}),
  scopes: Object.freeze([]) as readonly string[],
});

/** A principal with no claims, for tests and for callers the agent names itself. */
export function principalNamed(key: string): Principal {
  return { key, sub: key, claims: {}, scopes: [] };
}
