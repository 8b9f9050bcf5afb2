// ApiKey: a key in a request header (default X-API-Key), matched against the SHA-256 digests of
// the keys file. A plain digest suffices for API keys: they are long random strings, so unlike
// passwords they cannot be guessed from a leaked digest, and the check stays a microsecond on the
// hot path. Every digest is compared in constant time and none is skipped, so the time taken says
// nothing about which key, or how much of one, matched.
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { DEFAULT_API_KEY_HEADER } from '../../../api/v1beta1/defaults.js';
import type { Principal } from '../types.js';
import type { Credentials } from './credentials.js';
import { sha256Bytes } from './digest.js';
import { invalidCredential, localPrincipal, type AuthMethod, type AuthResult } from './method.js';
import { CredentialsFile, entryError, groupsOf } from './secret-file.js';

const HASH = /^sha256:([0-9a-fA-F]{64})$/;
/** Longest key header looked at: nothing legitimate is longer, and hashing stays bounded. */
const MAX_KEY_BYTES = 4096;

interface Key {
  digest: Buffer;
  principal: Principal;
}

/** The keys file: a list of `{ hash: "sha256:<hex>", principal: <name>, groups: [..] }`. */
export function parseKeys(entries: Record<string, unknown>[]): Key[] {
  const seen = new Set<string>();
  return entries.map((e, i) => {
    const m = typeof e.hash === 'string' ? HASH.exec(e.hash) : null;
    if (!m) throw entryError(i, 'hash must be "sha256:" and 64 hex digits (the SHA-256 of the key)');
    if (typeof e.principal !== 'string' || e.principal === '') throw entryError(i, 'principal must be a non-empty name');
    const hex = m[1]!.toLowerCase();
    if (seen.has(hex)) throw entryError(i, 'the same key is listed twice');
    seen.add(hex);
    return { digest: Buffer.from(hex, 'hex'), principal: localPrincipal('ApiKey', e.principal, groupsOf(e, i)) };
  });
}

export interface ApiKeyOptions {
  logger: Logger;
  keysFile: string;
  header?: string;
  watch?: boolean;
  debounceMs?: number;
}

export class ApiKeyMethod implements AuthMethod {
  readonly type = 'ApiKey';
  readonly challenge: string;
  readonly wants: string;
  private readonly header: string;
  readonly keys: CredentialsFile<Key[]>;

  constructor(o: ApiKeyOptions) {
    this.header = (o.header ?? DEFAULT_API_KEY_HEADER).toLowerCase();
    // Not an RFC 7235 scheme, but it tells a client which header is expected.
    this.challenge = `ApiKey header="${o.header ?? DEFAULT_API_KEY_HEADER}"`;
    this.wants = `an API key (header ${o.header ?? DEFAULT_API_KEY_HEADER})`;
    this.keys = new CredentialsFile(o.keysFile, parseKeys, { logger: o.logger, what: 'API keys', watch: o.watch, debounceMs: o.debounceMs });
  }

  authenticate(c: Credentials): AuthResult | undefined {
    const key = c.header(this.header);
    if (key === undefined || key === '') return undefined;
    if (key.length > MAX_KEY_BYTES) return invalidCredential(this.challenge, 'invalid API key', 'API key too long');
    const digest = sha256Bytes(key);
    let found: Principal | undefined;
    for (const k of this.keys.current) if (timingSafeEqual(k.digest, digest) && found === undefined) found = k.principal;
    return found ?? invalidCredential(this.challenge, 'invalid API key', 'unknown API key');
  }

  close(): void {
    this.keys.close();
  }
}
