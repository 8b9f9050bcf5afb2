/**
 * Serving certificates for the webhook, two ways:
 * - from a mounted Secret directory (`tls.crt`, `tls.key`; cert-manager or any CA), re-read
 *   when the files change so a rotated certificate is served without a restart;
 * - self-bootstrapped: a CA and a serving certificate generated here (ECDSA P-256), kept in a
 *   Secret so every replica serves the same certificate, and the CA written into the
 *   MutatingWebhookConfiguration's `caBundle` (and put back if something removes it).
 */
// @peculiar/x509 resolves its ASN.1 services through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import type { AdmissionregistrationV1Api, CoreV1Api, V1Secret } from '@kubernetes/client-node';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface TlsMaterial {
  cert: string;
  key: string;
  /** PEM of the CA that signed `cert` (what goes into caBundle). */
  ca: string;
}

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY = 24 * 3600 * 1000;

export interface GenerateOptions {
  /** DNS names of the serving certificate, e.g. svc, svc.ns, svc.ns.svc. */
  dnsNames: string[];
  ipAddresses?: string[];
  /** Validity of the serving certificate (the CA gets ten times as long). */
  validityDays?: number;
}

/** The DNS names the API server may use for a webhook Service. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

async function pemKey(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

export async function generateTls(options: GenerateOptions): Promise<TlsMaterial> {
  const days = options.validityDays ?? 365;
  const now = Date.now();
  const notBefore = new Date(now - 5 * 60 * 1000); // tolerate small clock skew
  const caKeys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=ome-mcp-injector CA',
    notBefore,
    notAfter: new Date(now + 10 * days * DAY),
    keys: caKeys,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const names = [
    ...options.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${options.dnsNames[0] ?? options.ipAddresses?.[0] ?? 'ome-mcp-injector'}`,
    issuer: ca.subject,
    notBefore,
    notAfter: new Date(now + days * DAY),
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await pemKey(keys.privateKey), ca: ca.toString('pem') };
}

/**
 * Whether `material` can keep serving: parses, covers every wanted name, and is valid for at
 * least `minRemainingDays` more days.
 */
export function isUsable(material: TlsMaterial, wantedDns: string[], minRemainingDays = 30): boolean {
  try {
    const cert = new x509.X509Certificate(material.cert);
    new x509.X509Certificate(material.ca);
    if (cert.notAfter.getTime() - Date.now() < minRemainingDays * DAY) return false;
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    const dns = new Set((san?.names.items ?? []).filter((n) => n.type === 'dns').map((n) => n.value));
    return wantedDns.every((n) => dns.has(n));
  } catch {
    return false;
  }
}

/** Reads tls.crt / tls.key (and ca.crt if present) from a mounted Secret directory. */
export async function readTlsDir(dir: string): Promise<TlsMaterial> {
  const [cert, key] = await Promise.all([readFile(path.join(dir, 'tls.crt'), 'utf8'), readFile(path.join(dir, 'tls.key'), 'utf8')]);
  const ca = await readFile(path.join(dir, 'ca.crt'), 'utf8').catch(() => '');
  return { cert, key, ca };
}

/**
 * Calls `onChange` whenever the files in `dir` change (polling: Secret volumes are updated by an
 * atomic symlink swap, which inotify watchers on the old files miss). Returns a stop function.
 */
export function watchTlsDir(dir: string, onChange: (m: TlsMaterial) => void, onError: (e: Error) => void, intervalMs = 30_000): () => void {
  let last = '';
  void readTlsDir(dir).then((m) => (last = m.cert + m.key), () => {});
  const timer = setInterval(() => {
    readTlsDir(dir).then(
      (m) => {
        if (m.cert + m.key === last) return;
        last = m.cert + m.key;
        onChange(m);
      },
      (err: Error) => onError(err),
    );
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

function isStatus(err: unknown, code: number): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: number }).code === code;
}

function b64(s: string): string {
  return Buffer.from(s).toString('base64');
}

function unb64(s: string | undefined): string {
  return s ? Buffer.from(s, 'base64').toString('utf8') : '';
}

export interface BootstrapOptions {
  core: CoreV1Api;
  namespace: string;
  secretName: string;
  service: string;
  extraDnsNames?: string[];
  ipAddresses?: string[];
  validityDays?: number;
}

/**
 * Returns the certificate every replica should serve: the one in the Secret if it is still good,
 * else a new one written there. Creation races between replicas are settled by the API server
 * (409: someone else created it first, read theirs); updates carry the resourceVersion.
 */
export async function bootstrapTls(o: BootstrapOptions): Promise<TlsMaterial> {
  const dnsNames = [...serviceDnsNames(o.service, o.namespace), ...(o.extraDnsNames ?? [])];
  for (let attempt = 0; attempt < 5; attempt++) {
    let existing: V1Secret | undefined;
    try {
      existing = await o.core.readNamespacedSecret({ name: o.secretName, namespace: o.namespace });
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
    if (existing) {
      const m = { cert: unb64(existing.data?.['tls.crt']), key: unb64(existing.data?.['tls.key']), ca: unb64(existing.data?.['ca.crt']) };
      if (isUsable(m, dnsNames) && m.key) return m;
    }
    const fresh = await generateTls({ dnsNames, ipAddresses: o.ipAddresses, validityDays: o.validityDays });
    const body: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: {
        name: o.secretName,
        namespace: o.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'ome-mcp', 'app.kubernetes.io/component': 'injector' },
        ...(existing?.metadata?.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}),
      },
      data: { 'tls.crt': b64(fresh.cert), 'tls.key': b64(fresh.key), 'ca.crt': b64(fresh.ca) },
    };
    try {
      if (existing) await o.core.replaceNamespacedSecret({ name: o.secretName, namespace: o.namespace, body });
      else await o.core.createNamespacedSecret({ namespace: o.namespace, body });
      return fresh;
    } catch (err) {
      if (!isStatus(err, 409)) throw err;
      // Another replica won the race: loop and read what it wrote.
    }
  }
  throw new Error(`could not settle the TLS Secret ${o.namespace}/${o.secretName} after 5 attempts`);
}

/**
 * Writes `caPem` into `caBundle` of every webhook in the configuration (only where it differs).
 * Returns the number of webhooks changed. Retries on write conflicts.
 */
export async function ensureCaBundle(api: AdmissionregistrationV1Api, configName: string, caPem: string): Promise<number> {
  const want = b64(caPem);
  for (let attempt = 0; attempt < 5; attempt++) {
    const config = await api.readMutatingWebhookConfiguration({ name: configName });
    let changed = 0;
    for (const hook of config.webhooks ?? []) {
      if (hook.clientConfig.caBundle === want) continue;
      hook.clientConfig.caBundle = want;
      changed++;
    }
    if (changed === 0) return 0;
    try {
      await api.replaceMutatingWebhookConfiguration({ name: configName, body: config });
      return changed;
    } catch (err) {
      if (!isStatus(err, 409)) throw err;
    }
  }
  throw new Error(`could not update caBundle of MutatingWebhookConfiguration ${configName} (conflicts)`);
}
