// Basic: `Authorization: Basic base64(user:password)` checked against the users file's bcrypt or
// argon2 hashes. A successful check is remembered by the SHA-256 of the header for a short while
// (and forgotten when the file changes), so the hot path does not pay for the hash per call; an
// unknown user is checked against a decoy hash, so the answer's timing does not tell users apart.
import type { Logger } from 'pino';
import type { Principal } from '../types.js';
import type { Credentials } from './credentials.js';
import { sha256 } from './digest.js';
import { authScheme, invalidCredential, localPrincipal, type AuthMethod, type AuthResult } from './method.js';
import { DECOY_HASH, parsePasswordHash, verifyPassword, type PasswordHash } from './password-hash.js';
import { CredentialsFile, entryError, groupsOf } from './secret-file.js';

const MAX_HEADER_BYTES = 4096;

interface User {
  hash: PasswordHash;
  principal: Principal;
}

/** The users file: a list of `{ user: <name>, hash: <bcrypt or argon2>, groups: [..] }`. */
export function parseUsers(entries: Record<string, unknown>[]): Map<string, User> {
  const users = new Map<string, User>();
  entries.forEach((e, i) => {
    if (typeof e.user !== 'string' || e.user === '' || e.user.includes(':')) throw entryError(i, 'user must be a non-empty name without ":"');
    if (users.has(e.user)) throw entryError(i, 'the user is listed twice');
    if (typeof e.hash !== 'string') throw entryError(i, 'hash is required');
    let hash: PasswordHash;
    try {
      hash = parsePasswordHash(e.hash);
    } catch (err) {
      throw entryError(i, (err as Error).message);
    }
    users.set(e.user, { hash, principal: localPrincipal('Basic', e.user, groupsOf(e, i)) });
  });
  return users;
}

export interface BasicOptions {
  logger: Logger;
  usersFile: string;
  realm: string;
  /** How long a successful check is remembered (default 5 min). */
  cacheTtlMs?: number;
  /** Checks remembered (default 1000). */
  cacheSize?: number;
  watch?: boolean;
  debounceMs?: number;
}

export class BasicMethod implements AuthMethod {
  readonly type = 'Basic';
  readonly challenge: string;
  readonly wants = 'a username and password';
  readonly users: CredentialsFile<Map<string, User>>;
  private readonly cache = new Map<string, { principal: Principal; until: number }>();
  private readonly inflight = new Map<string, Promise<AuthResult>>();
  private readonly ttl: number;
  private readonly size: number;

  constructor(o: BasicOptions) {
    this.challenge = `Basic realm="${o.realm}", charset="UTF-8"`;
    this.ttl = o.cacheTtlMs ?? 300_000;
    this.size = o.cacheSize ?? 1000;
    this.users = new CredentialsFile(o.usersFile, parseUsers, { logger: o.logger, what: 'Basic users', watch: o.watch, debounceMs: o.debounceMs, onReload: () => this.cache.clear() });
  }

  authenticate(c: Credentials): AuthResult | Promise<AuthResult> | undefined {
    const auth = authScheme(c.authorization);
    if (auth?.scheme !== 'basic') return undefined;
    if (auth.value.length > MAX_HEADER_BYTES) return this.invalid('credentials too long');
    const id = sha256(auth.value);
    const hit = this.cache.get(id);
    if (hit !== undefined) {
      if (hit.until > Date.now()) return hit.principal;
      this.cache.delete(id);
    }
    let p = this.inflight.get(id);
    if (p === undefined) {
      p = this.verify(auth.value, id).finally(() => this.inflight.delete(id));
      this.inflight.set(id, p);
    }
    return p;
  }

  private async verify(value: string, id: string): Promise<AuthResult> {
    const text = Buffer.from(value, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon <= 0) return this.invalid('malformed Basic credentials');
    const users = this.users.current;
    const user = users.get(text.slice(0, colon));
    const ok = await verifyPassword(text.slice(colon + 1), user?.hash ?? DECOY_HASH);
    if (!ok || user === undefined) return this.invalid('unknown user or wrong password');
    // A reload during the check: the answer is for the old file, so it is not remembered.
    if (this.users.current === users) this.remember(id, user.principal);
    return user.principal;
  }

  private remember(id: string, principal: Principal): void {
    if (this.cache.size >= this.size) {
      let n = this.size >> 3 || 1;
      for (const k of this.cache.keys()) {
        this.cache.delete(k);
        if (--n === 0) break;
      }
    }
    this.cache.set(id, { principal, until: Date.now() + this.ttl });
  }

  private invalid(reason: string) {
    return invalidCredential(this.challenge, 'invalid username or password', reason);
  }

  close(): void {
    this.users.close();
  }
}
