// Outbound HTTP to identity providers (discovery, JWKS, introspection): a CA bundle, a deadline, a
// size cap, and a guard that refuses addresses in private, loopback and link-local ranges unless
// allowed. The guard runs inside the socket's DNS lookup, so the address checked is the address
// connected to (no DNS-rebinding window), and IP literals are checked before connecting.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';
import { rootCertificates } from 'node:tls';

const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) {
  blocked.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
  ['2001:db8::', 32],
] as const) {
  blocked.addSubnet(net, bits, 'ipv6');
}

/** True for loopback, private (RFC 1918, ULA), link-local, CGNAT, multicast and other non-public addresses. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) {
    const lower = address.toLowerCase();
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    if (mapped) return blocked.check(mapped[1]!, 'ipv4');
    return blocked.check(lower, 'ipv6');
  }
  return true;
}

export class PrivateAddressError extends Error {
  override name = 'PrivateAddressError';
}

type LookupCb = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

function guardedLookup(hostname: string, options: { all?: boolean; family?: number }, cb: LookupCb): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return cb(err, '');
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad) {
      return cb(new PrivateAddressError(`${hostname} resolves to ${bad.address}, a private or loopback address (set jwksAllowPrivateIP to allow)`), '');
    }
    if (options.all) return cb(null, addresses);
    const first = addresses[0];
    if (!first) return cb(new Error(`${hostname}: no address`), '');
    cb(null, first.address, first.family);
  });
}

// Keep-alive: introspection runs once per new opaque token, and a TLS handshake each time would
// dominate it. Idle sockets are unref'd by the agent, so they never hold the process open; a
// reused socket's address was checked by the guard when it was connected.
// Guarded and unguarded requests never share a pool, so a socket opened without the guard is
// never handed to a request that needs it.
const agents = {
  guarded: { http: new http.Agent({ keepAlive: true, maxSockets: 16 }), https: new https.Agent({ keepAlive: true, maxSockets: 16 }) },
  open: { http: new http.Agent({ keepAlive: true, maxSockets: 16 }), https: new https.Agent({ keepAlive: true, maxSockets: 16 }) },
};

export interface FetchOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  allowPrivate: boolean;
  /** Extra trusted CA certificates (PEM), added to the system roots. */
  ca?: string;
  timeoutMs?: number;
  maxBytes?: number;
  signal?: AbortSignal;
}

export interface FetchResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One request, no redirects followed. */
export function idpFetch(url: string, o: FetchOptions): Promise<FetchResult> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return reject(new Error(`invalid URL ${url}`));
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return reject(new Error(`unsupported URL scheme ${u.protocol}`));
    const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    if (!o.allowPrivate && isIP(host) !== 0 && isPrivateAddress(host)) {
      return reject(new PrivateAddressError(`${url} is a private or loopback address (set jwksAllowPrivateIP to allow)`));
    }
    const mod = u.protocol === 'https:' ? https : http;
    const maxBytes = o.maxBytes ?? 1024 * 1024;
    const req = mod.request(
      u,
      {
        method: o.method ?? 'GET',
        headers: { accept: 'application/json', ...o.headers },
        timeout: o.timeoutMs ?? 5000,
        lookup: o.allowPrivate ? undefined : (guardedLookup as unknown as typeof dnsLookup),
        ...(u.protocol === 'https:' && o.ca ? { ca: [...rootCertificates, o.ca] } : {}),
        signal: o.signal,
        agent: agents[o.allowPrivate ? 'open' : 'guarded'][u.protocol === 'https:' ? 'https' : 'http'],
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) {
            req.destroy(new Error(`response from ${u.origin} exceeds ${maxBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k] = v;
          resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request to ${u.origin} timed out`)));
    req.on('error', reject);
    req.end(o.body);
  });
}
