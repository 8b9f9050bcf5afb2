// Password hashes of the Basic users file: bcrypt (`$2a$`/`$2b$`/`$2y$`, as htpasswd -B writes
// them) through bcryptjs, and argon2 (`$argon2id$…`, PHC string format) through node:crypto's
// argon2, which Node has from 24.7 (the agent image's Node). Both are slow on purpose; the Basic
// method caches a successful check so a client's calls do not each pay for one.
import * as nodeCrypto from 'node:crypto';
import bcrypt from 'bcryptjs';

export type PasswordHash = { kind: 'bcrypt'; text: string } | { kind: 'argon2'; algorithm: 'argon2d' | 'argon2i' | 'argon2id'; memory: number; passes: number; parallelism: number; salt: Buffer; tag: Buffer };

const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;
const ARGON2 = /^\$(argon2(?:id|i|d))\$(?:v=(\d+)\$)?m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

type Argon2Fn = (algorithm: string, params: Record<string, unknown>, cb: (err: Error | null, out: Buffer) => void) => void;
const argon2 = (nodeCrypto as unknown as { argon2?: Argon2Fn }).argon2;
export const ARGON2_SUPPORTED = typeof argon2 === 'function';

/** Parses a hash; throws a message that does not quote it. */
export function parsePasswordHash(text: string): PasswordHash {
  if (BCRYPT.test(text)) return { kind: 'bcrypt', text };
  const m = ARGON2.exec(text);
  if (m) {
    if (!ARGON2_SUPPORTED) throw new Error(`argon2 hashes need Node 24.7 or later (this is ${process.version}); use bcrypt or a newer Node`);
    if (m[2] !== undefined && m[2] !== '19') throw new Error('argon2 version must be 19');
    return {
      kind: 'argon2',
      algorithm: m[1] as 'argon2d' | 'argon2i' | 'argon2id',
      memory: Number(m[3]),
      passes: Number(m[4]),
      parallelism: Number(m[5]),
      salt: Buffer.from(m[6]!, 'base64'),
      tag: Buffer.from(m[7]!, 'base64'),
    };
  }
  throw new Error('hash must be bcrypt ($2b$…) or argon2 ($argon2id$…, PHC format)');
}

/** True when `password` matches; the comparison of the derived bytes is constant-time. */
export function verifyPassword(password: string, hash: PasswordHash): Promise<boolean> {
  if (hash.kind === 'bcrypt') return bcrypt.compare(password, hash.text);
  return new Promise((resolve) => {
    argon2!(
      hash.algorithm,
      { message: password, nonce: hash.salt, parallelism: hash.parallelism, tagLength: hash.tag.length, memory: hash.memory, passes: hash.passes },
      (err, out) => resolve(!err && out.length === hash.tag.length && nodeCrypto.timingSafeEqual(out, hash.tag)),
    );
  });
}

/** A bcrypt hash of nothing anyone knows (cost 10): checked for unknown users so their answer takes as long. */
export const DECOY_HASH: PasswordHash = { kind: 'bcrypt', text: '$2b$10$FyEPPi5GnXQabYKAm5DcEuaOVVpLKJQ4AqfaldekNKF7XZCJBULjO' };
