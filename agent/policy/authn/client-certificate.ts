// ClientCertificate (mTLS): the TLS layer requested a certificate and verified it against the
// client CA (tls.clientCAFile); this method turns a verified one into the principal: `sub` from
// the subject's CN (else the first SAN), groups from the subject's O and OU, the SANs as claims.
// A certificate that did not verify is refused (not passed on): its sender meant to use it.
import type { PeerCertificate } from 'node:tls';
import type { Principal } from '../types.js';
import type { Credentials } from './credentials.js';
import { invalidCredential, localPrincipal, type AuthMethod, type AuthResult } from './method.js';

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** `DNS:a, URI:spiffe://…, email:x@y, IP Address:10.0.0.1` → names by kind. */
export function subjectAltNames(text: string | undefined): { dns: string[]; uri: string[]; email: string[]; ip: string[] } {
  const out = { dns: [] as string[], uri: [] as string[], email: [] as string[], ip: [] as string[] };
  for (const part of (text ?? '').split(/,\s*/)) {
    const colon = part.indexOf(':');
    if (colon <= 0) continue;
    const kind = part.slice(0, colon);
    const value = part.slice(colon + 1).replace(/^"|"$/g, '');
    if (kind === 'DNS') out.dns.push(value);
    else if (kind === 'URI') out.uri.push(value);
    else if (kind === 'email') out.email.push(value);
    else if (kind === 'IP Address') out.ip.push(value);
  }
  return out;
}

/** The principal of a certificate, or undefined when it names no one. */
export function certificatePrincipal(cert: PeerCertificate): Principal | undefined {
  const san = subjectAltNames(cert.subjectaltname);
  const cn = list(cert.subject?.CN)[0];
  const sub = cn || san.uri[0] || san.dns[0] || san.email[0];
  if (!sub) return undefined;
  const groups = [...new Set([...list(cert.subject?.O), ...list(cert.subject?.OU)])];
  return localPrincipal('ClientCertificate', sub, groups, {
    ...(cn ? { cn } : {}),
    dns: san.dns,
    uri: san.uri,
    email: san.email,
    ip: san.ip,
    issuer_cn: list(cert.issuer?.CN)[0] ?? '',
    serial: cert.serialNumber,
    fingerprint256: cert.fingerprint256,
  });
}

export class ClientCertificateMethod implements AuthMethod {
  readonly type = 'ClientCertificate';
  readonly challenge = undefined;
  readonly wants = 'a client certificate';
  /** By fingerprint: a client's calls share one principal (and its cached policy decisions). */
  private readonly cache = new Map<string, Principal>();

  constructor(private readonly cacheSize = 1000) {}

  authenticate(c: Credentials): AuthResult | undefined {
    const peer = c.peer;
    const cert = peer?.certificate;
    if (cert === undefined) return undefined;
    if (!peer!.authorized) return invalidCredential(undefined, 'client certificate not trusted', `client certificate not verified${peer!.error ? `: ${peer!.error}` : ''}`);
    const fp = cert.fingerprint256;
    const hit = this.cache.get(fp);
    if (hit !== undefined) return hit;
    const principal = certificatePrincipal(cert);
    if (principal === undefined) return invalidCredential(undefined, 'client certificate names no subject', 'client certificate has neither CN nor SAN');
    if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(fp, principal);
    return principal;
  }
}
