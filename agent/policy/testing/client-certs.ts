// Test fixture: a client CA and client certificates signed by it (or by a stranger CA), ECDSA
// P-256, with any subject and SANs; and a server certificate for 127.0.0.1. Test-only.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface Pem {
  cert: string;
  key: string;
}

async function keys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
}

async function pemKey(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey), 'PRIVATE KEY');
}

export interface TestCA {
  cert: string;
  /** A leaf certificate: `subject` like "CN=alice,O=ops", SANs by kind. */
  issue(subject: string, san?: { dns?: string[]; uri?: string[]; email?: string[]; ip?: string[] }, usage?: 'client' | 'server'): Promise<Pem>;
}

export async function createTestCA(name = 'CN=test client CA'): Promise<TestCA> {
  const ca = await keys();
  const now = Date.now();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    name,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 86_400_000),
    keys: ca,
    signingAlgorithm: SIGN,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  return {
    cert: caCert.toString('pem'),
    async issue(subject, san = {}, usage = 'client') {
      const k = await keys();
      const names = [
        ...(san.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
        ...(san.uri ?? []).map((value) => ({ type: 'url' as const, value })),
        ...(san.email ?? []).map((value) => ({ type: 'email' as const, value })),
        ...(san.ip ?? []).map((value) => ({ type: 'ip' as const, value })),
      ];
      const cert = await x509.X509CertificateGenerator.create({
        subject,
        issuer: caCert.subject,
        notBefore: new Date(now - 60_000),
        notAfter: new Date(now + 86_400_000),
        publicKey: k.publicKey,
        signingKey: ca.privateKey,
        signingAlgorithm: SIGN,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.ExtendedKeyUsageExtension([usage === 'client' ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth]),
          ...(names.length ? [new x509.SubjectAlternativeNameExtension(names)] : []),
        ],
      });
      return { cert: cert.toString('pem'), key: await pemKey(k.privateKey) };
    },
  };
}
