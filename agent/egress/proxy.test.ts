// The egress proxy against real loopback servers: an HTTP origin through the forward proxy, an
// HTTPS origin through a CONNECT tunnel (undici's ProxyAgent, a real client), refusals, SSRF to
// loopback and metadata addresses, garbage on the wire, the connection bound and idle tunnels.
import { once } from 'node:events';
import { createServer as createHttpServer, request, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ProxyAgent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTls } from '../../injector/webhook/tls.js';
import { startEgressProxy, type EgressProxy, type EgressProxyOptions } from './proxy.js';

const lines: string[] = [];
const logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) }));

/** Names the tests resolve: loopback (where the origins listen), TEST-NET, the metadata address. */
const DNS: Record<string, string[]> = {
  'allowed.test': ['127.0.0.1'],
  'other.test': ['192.0.2.1'],
  'rebound.test': ['127.0.0.1'],
  'meta.test': ['169.254.169.254'],
};
const lookup = async (host: string) => {
  const a = DNS[host];
  if (!a) throw new Error('ENOTFOUND');
  return a;
};

let origin: Server;
let originPort: number;
let tlsOrigin: Server;
let tlsPort: number;
let ca: string;
const proxies: EgressProxy[] = [];
const start = async (o: Partial<EgressProxyOptions>) => {
  const p = await startEgressProxy({ port: 0, allowHost: [], allowPort: [], logger, lookup, ...o });
  proxies.push(p);
  return p;
};

beforeAll(async () => {
  const echo = (req: IncomingMessage, res: import('node:http').ServerResponse) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ host: req.headers.host, url: req.url, headers: req.headers }));
  };
  origin = createHttpServer(echo).listen(0, '127.0.0.1');
  await once(origin, 'listening');
  originPort = (origin.address() as AddressInfo).port;
  const tls = await generateTls({ dnsNames: ['allowed.test'] });
  ca = tls.ca;
  tlsOrigin = createHttpsServer({ cert: tls.cert, key: tls.key }, echo).listen(0, '127.0.0.1');
  await once(tlsOrigin, 'listening');
  tlsPort = (tlsOrigin.address() as AddressInfo).port;
});
afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  origin.close();
  tlsOrigin.close();
});

/** A forward-proxy request (absolute URI), as curl or Python's requests send one for http:// URLs. */
function viaProxy(proxy: EgressProxy, url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxy.port, path: url, headers: { host: new URL(url).host, ...headers } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c)).on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject).end();
  });
}

/** Raw bytes to the proxy, and everything it answers before closing. */
async function raw(proxy: EgressProxy, bytes: string): Promise<string> {
  const s = connect(proxy.port, '127.0.0.1');
  await once(s, 'connect');
  s.end(bytes);
  let out = '';
  s.on('data', (c) => (out += c));
  await once(s, 'close');
  return out;
}

/** The status line of a CONNECT answer (the socket then stays open only when it is 200). */
async function connectStatus(proxy: EgressProxy, authority: string): Promise<{ status: number; body: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxy.port, method: 'CONNECT', path: authority });
    // Node reports every CONNECT answer as 'connect'; a refusal's body follows on the socket.
    req.on('connect', (res, socket, head) => {
      if (res.statusCode === 200) return resolve({ status: 200, body: '', socket });
      let body = head.toString();
      socket.on('data', (c) => (body += c)).on('close', () => resolve({ status: res.statusCode!, body, socket }));
    });
    req.on('error', reject).end();
  });
}

describe('egress proxy', () => {
  it('forwards an allowed http:// request (Host kept, hop-by-hop and proxy credentials dropped) and refuses others with 403 and a reason', async () => {
    const p = await start({ allowHost: ['allowed.test', '127.0.0.1'], allowPort: [originPort] });
    const ok = await viaProxy(p, `http://allowed.test:${originPort}/p?token=s3cret`, { 'proxy-authorization': 'Basic c2VjcmV0', 'x-kept': '1' });
    expect(ok.status).toBe(200);
    const seen = JSON.parse(ok.body);
    expect(seen).toMatchObject({ host: `allowed.test:${originPort}`, url: '/p?token=s3cret' });
    expect(seen.headers['x-kept']).toBe('1');
    expect(seen.headers['proxy-authorization']).toBeUndefined();

    const other = await viaProxy(p, `http://other.test:${originPort}/?token=s3cret`);
    expect(other.status).toBe(403);
    expect(other.body).toContain("other.test is not in the permission profile's allowHost");
    const port = await viaProxy(p, 'http://allowed.test:81/');
    expect(port.status).toBe(403);
    expect(port.body).toContain("port 81 is not in the permission profile's allowPort");
    const refusals = lines.filter((l) => l.includes('egress denied'));
    expect(refusals.some((l) => l.includes('"host":"other.test"'))).toBe(true);
    expect(lines.join('')).not.toMatch(/s3cret|c2VjcmV0/); // no query string, no credential in the logs
  });

  it('tunnels HTTPS through CONNECT for a real client (undici ProxyAgent), TLS end to end; refuses a tunnel to another host', async () => {
    const p = await start({ allowHost: ['allowed.test', '127.0.0.1'], allowPort: [tlsPort] });
    const dispatcher = new ProxyAgent({ uri: p.url, requestTls: { ca } });
    const r = await undiciFetch(`https://allowed.test:${tlsPort}/secure`, { dispatcher });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ host: `allowed.test:${tlsPort}`, url: '/secure' });
    await expect(undiciFetch(`https://other.test:${tlsPort}/`, { dispatcher })).rejects.toThrow();
    const refused = await connectStatus(p, `other.test:${tlsPort}`);
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('not in the permission profile');
    await dispatcher.close();
  });

  it('SSRF: a name resolving to loopback or the metadata address is refused, an IP literal too, unless an IP/CIDR entry opens it', async () => {
    const p = await start({ allowHost: ['.test'], allowPort: [] });
    for (const target of [`rebound.test:${originPort}`, 'meta.test:80', `127.0.0.1:${originPort}`, '169.254.169.254:80', `[::1]:${originPort}`, 'localhost:80']) {
      const r = await connectStatus(p, target);
      expect(r.status, target).toBe(403);
      r.socket.destroy();
    }
    const meta = await viaProxy(p, 'http://meta.test/latest/meta-data/');
    expect(meta.status).toBe(403);
    expect(meta.body).toContain('meta.test resolves to 169.254.169.254: loopback, link-local and metadata addresses need an IP/CIDR entry');
    const explicit = await start({ allowHost: ['.test', '127.0.0.1/32'], allowPort: [] });
    expect((await viaProxy(explicit, `http://rebound.test:${originPort}/`)).status).toBe(200);
  });

  it('a profile that allows nothing refuses everything; an unresolvable allowed name is a 502', async () => {
    const none = await start({});
    expect((await viaProxy(none, `http://allowed.test:${originPort}/`)).body).toContain('allows no outbound connection');
    const p = await start({ allowHost: ['.test'], allowPort: [] });
    const r = await viaProxy(p, 'http://missing.test/');
    expect(r.status).toBe(502);
    expect(r.body).toContain('cannot resolve missing.test');
  });

  it('answers garbage with 400 and keeps serving', async () => {
    const registry = new Registry();
    const p = await start({ allowHost: ['allowed.test', '127.0.0.1'], allowPort: [], registry });
    expect(await raw(p, 'HELLO\r\n\r\n')).toMatch(/^HTTP\/1.1 400/);
    expect(await raw(p, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')).toMatch(/^HTTP\/1.1 400[^]*not an absolute http:\/\/ URL/);
    expect(await raw(p, 'GET https://allowed.test/ HTTP/1.1\r\nHost: allowed.test\r\n\r\n')).toMatch(/^HTTP\/1.1 400[^]*CONNECT/);
    for (const bad of ['nohost', 'a b:99', 'host:0', 'host:99999', 'user@host:443', ':443', '[::1:443']) {
      expect(await raw(p, `CONNECT ${bad} HTTP/1.1\r\nHost: ${bad}\r\n\r\n`), bad).toMatch(/^HTTP\/1.1 400/);
    }
    expect(await raw(p, `GET http://allowed.test/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)).toMatch(/^HTTP\/1.1 4\d\d/);
    expect(await raw(p, 'GET http://allowed.test:1/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n')).toMatch(/^HTTP\/1.1 400/);
    expect((await viaProxy(p, `http://allowed.test:${originPort}/still`)).status).toBe(200);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/ome_mcp_agent_egress_requests_total\{decision="invalid"\} \d+/);
    expect(metrics).toMatch(/ome_mcp_agent_egress_requests_total\{decision="allowed"\} 1/);
  });

  it('holds at most maxConnections client connections; idle tunnels are closed', async () => {
    const p = await start({ allowHost: ['127.0.0.1'], allowPort: [], maxConnections: 3, idleTimeoutMs: 300 });
    const held = await Promise.all([0, 1, 2].map(() => connectStatus(p, `127.0.0.1:${originPort}`)));
    expect(held.map((h) => h.status)).toEqual([200, 200, 200]);
    const extra = connect(p.port, '127.0.0.1');
    extra.on('error', () => {});
    extra.write(`CONNECT 127.0.0.1:${originPort} HTTP/1.1\r\n\r\n`);
    let answered = '';
    extra.on('data', (c) => (answered += c));
    await once(extra, 'close');
    expect(answered).toBe(''); // dropped at accept
    // The idle timeout frees the held ones; a new tunnel then works.
    await Promise.all(held.map((h) => once(h.socket, 'close')));
    const again = await connectStatus(p, `127.0.0.1:${originPort}`);
    expect(again.status).toBe(200);
    again.socket.destroy();
  });
});
