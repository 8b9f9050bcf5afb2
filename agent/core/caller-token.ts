// The bearer token a principal was verified from, for the one stage that may pass it on (the
// caller's identity to the server: exchanged, or passed through where a server opts in). Kept
// beside the principal, never on it: principals are logged and audited; a token must never be.
import type { Principal } from './principal.js';

const tokens = new WeakMap<Principal, string>();

export function rememberCallerToken(principal: Principal, token: string): void {
  tokens.set(principal, token);
}

export function callerTokenOf(principal: Principal): string | undefined {
  return tokens.get(principal);
}
