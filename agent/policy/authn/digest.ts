// SHA-256 of a credential (token, API key, Basic header) on the hot path: Node's one-shot
// `crypto.hash` where it exists (no Hash object per request), else createHash.
import * as nodeCrypto from 'node:crypto';

type OneShot = (alg: string, data: string, encoding: string) => string | Buffer;
const oneShot = (nodeCrypto as unknown as { hash?: OneShot }).hash;

/** base64url text: a cache key. */
export const sha256: (text: string) => string = oneShot
  ? (text) => oneShot('sha256', text, 'base64url') as string
  : (text) => nodeCrypto.createHash('sha256').update(text).digest('base64url');

/** The 32 bytes: for constant-time comparison. */
export const sha256Bytes: (text: string) => Buffer = oneShot
  ? (text) => oneShot('sha256', text, 'buffer') as Buffer
  : (text) => nodeCrypto.createHash('sha256').update(text).digest();
