// Test fixture: serving certificates for 127.0.0.1 / localhost, and their files written the way a
// Secret update lands (new files renamed over the old ones). Test-only.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateTls, type TlsMaterial } from '../../../injector/webhook/tls.js';

/** A new CA and a certificate it signed for localhost and 127.0.0.1. */
export const mintLocalhost = (): Promise<TlsMaterial> => generateTls({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 2 });

/** Writes `dir`/tls.crt and `dir`/tls.key (key first, each renamed into place); returns their paths. */
export function installPair(dir: string, m: Pick<TlsMaterial, 'cert' | 'key'>): { certFile: string; keyFile: string } {
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  writeFileSync(`${certFile}.new`, m.cert);
  writeFileSync(`${keyFile}.new`, m.key);
  renameSync(`${keyFile}.new`, keyFile);
  renameSync(`${certFile}.new`, certFile);
  return { certFile, keyFile };
}
