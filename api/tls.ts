// The one check of a serving certificate and its key, for the agent (its files, at start and on
// every change) and the reconciler (the Secret it mounts): what the agent would refuse to serve,
// the reconciler reports on the server's status before a pod ever starts.
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';

export interface ServingPair {
  cert: Buffer | string;
  key: Buffer | string;
  /** Client CA bundle, when client certificates are requested. */
  ca?: Buffer | string;
}

/** Which part is wrong (the caller names it: a file, a Secret key) and why. */
export class ServingPairError extends Error {
  constructor(
    readonly part: 'cert' | 'key' | 'ca',
    message: string,
  ) {
    super(message);
  }
}

/** The leaf certificate, once the pair is known to be servable; throws ServingPairError otherwise. */
export function checkServingPair(pair: ServingPair): X509Certificate {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(pair.cert);
  } catch (err) {
    throw new ServingPairError('cert', `holds no PEM certificate (${(err as Error).message})`);
  }
  if (pair.ca !== undefined) {
    try {
      new X509Certificate(pair.ca);
    } catch (err) {
      throw new ServingPairError('ca', `holds no PEM certificate (${(err as Error).message})`);
    }
  }
  try {
    createSecureContext({ cert: pair.cert, key: pair.key, ...(pair.ca !== undefined ? { ca: pair.ca } : {}) });
  } catch (err) {
    throw new ServingPairError('key', `is not the PEM private key of the certificate (${(err as Error).message})`);
  }
  return leaf;
}
