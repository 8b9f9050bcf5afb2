// The agent's egress proxy: an HTTP forward proxy (absolute-URI requests) and CONNECT tunnels on
// the pod's loopback, for the server container (HTTP_PROXY / HTTPS_PROXY point here). Every
// destination is judged by the allow-list; names are resolved here and the connection goes to
// an address that was judged, so a name cannot be re-resolved elsewhere between check and
// connect. node:http + node:net: the forward-proxy libraries leave exactly this part (resolve,
// judge every address, connect to the judged one) to the caller.
import { lookup as dnsLookup } from 'node:dns/promises';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Counter } from '../ops/prom.js';
import { isHostName, normalizeHost } from '../../api/egress-hosts.js';
import { AllowList, isBlockedAddress, type EgressRules } from './allow-list.js';

export interface EgressProxyOptions extends EgressRules {
  port: number;
  logger: Logger;
  /** The agent's registry: ome_mcp_agent_egress_requests_total{decision}. */
  registry?: Registry;
  /** Client connections at once (tunnels included); more are dropped at accept. */
  maxConnections?: number;
  /** A tunnel or forwarded exchange with no traffic either way this long is closed. */
  idleTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Name resolution (tests stand in a fixed answer); the system resolver by default. */
  lookup?: (host: string) => Promise<string[]>;
}

export interface EgressProxy {
  port: number;
  /** `http://127.0.0.1:<port>`: the value of HTTP_PROXY / HTTPS_PROXY. */
  url: string;
  close(): Promise<void>;
}

/** Each request counts once: refused, malformed, allowed and connected, or allowed but unreachable. */
type Decision = 'allowed' | 'denied' | 'invalid' | 'failed';

class Refused extends Error {
  constructor(
    readonly status: 400 | 403 | 502,
    readonly reason: string,
  ) {
    super(reason);
  }
}

const HOP_BY_HOP = ['connection', 'proxy-connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/** Headers without the hop-by-hop ones (and those the Connection header names): they are the proxy's, not the origin's. */
function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const drop = new Set(HOP_BY_HOP);
  for (const name of String(headers.connection ?? '').split(',')) if (name.trim()) drop.add(name.trim().toLowerCase());
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !drop.has(k)));
}

/** `host:port` of a CONNECT (`[v6]:port` for IPv6), or undefined when it is not one. */
function parseAuthority(authority: string | undefined): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(authority ?? '');
  if (!m) return undefined;
  const port = Number(m[2]);
  const host = normalizeHost(m[1]!);
  return port >= 1 && port <= 65535 && (isIP(host) !== 0 || isHostName(host)) ? { host, port } : undefined;
}

export async function startEgressProxy(options: EgressProxyOptions): Promise<EgressProxy> {
  const rules = new AllowList(options);
  const log = options.logger.child({ component: 'egress' });
  const idleMs = options.idleTimeoutMs ?? 120_000;
  const connectMs = options.connectTimeoutMs ?? 10_000;
  const resolveName = options.lookup ?? (async (host: string) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address));
  const counter = options.registry
    ? new Counter({
        name: 'ome_mcp_agent_egress_requests_total',
        help: 'Requests and tunnels through the egress proxy, by decision (allowed, denied, invalid, failed: allowed but unreachable)',
        labelNames: ['decision'] as const,
        registers: [options.registry],
      })
    : undefined;
  const count = (d: Decision) => counter?.labels(d).inc();

  /** The addresses of host:port the profile allows, in resolver order; Refused otherwise. */
  async function judge(host: string, port: number): Promise<string[]> {
    if (rules.allowsNothing) throw new Refused(403, 'the permission profile allows no outbound connection');
    if (!rules.portAllowed(port)) throw new Refused(403, `port ${port} is not in the permission profile's allowPort`);
    const nameOk = rules.nameAllowed(host);
    if (!nameOk && !rules.matchesAddresses) throw new Refused(403, `${host} is not in the permission profile's allowHost`);
    let addresses: string[];
    if (isIP(host) !== 0) addresses = [host];
    else {
      try {
        addresses = await withTimeout(resolveName(host), connectMs, `resolving ${host} timed out`);
      } catch (err) {
        // Resolved only to judge its addresses: a name no entry names is refused either way.
        if (!nameOk) throw new Refused(403, `${host} is not in the permission profile's allowHost`);
        throw new Refused(502, `cannot resolve ${host}: ${(err as Error).message}`);
      }
    }
    const allowed = addresses.filter((a) => rules.addressAllowed(a, nameOk));
    if (allowed.length) return allowed;
    if (nameOk && addresses.some(isBlockedAddress)) {
      throw new Refused(403, `${host} resolves to ${addresses.join(', ')}: loopback, link-local and metadata addresses need an IP/CIDR entry in allowHost`);
    }
    throw new Refused(403, `${host} is not in the permission profile's allowHost`);
  }

  /** A socket connected to the first of `addresses` that answers. */
  async function open(addresses: string[], port: number): Promise<Socket> {
    let last: Error | undefined;
    for (const address of addresses) {
      try {
        return await new Promise<Socket>((resolve, reject) => {
          const s = connect({ host: address, port });
          const timer = setTimeout(() => s.destroy(new Error(`connecting to ${address}:${port} timed out`)), connectMs);
          s.once('connect', () => {
            clearTimeout(timer);
            s.removeListener('error', reject);
            resolve(s);
          });
          s.once('error', (err) => {
            clearTimeout(timer);
            reject(err);
          });
        });
      } catch (err) {
        last = err as Error;
      }
    }
    throw new Refused(502, `cannot connect to port ${port}: ${last?.message ?? 'no address'}`);
  }

  /** One line per refusal: destination and reason, never a path, query or credential. */
  function refused(kind: 'http' | 'connect', host: string | undefined, port: number | undefined, err: unknown): Refused {
    const r = err instanceof Refused ? err : new Refused(502, (err as Error).message);
    const decision: Decision = r.status === 400 ? 'invalid' : r.status === 403 ? 'denied' : 'failed';
    count(decision);
    log.warn({ egress: decision, kind, ...(host ? { host } : {}), ...(port ? { port } : {}), reason: r.reason }, `egress ${decision}: ${r.reason}`);
    return r;
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    req.on('error', () => res.destroy());
    let url: URL | undefined;
    try {
      url = /^http:\/\//i.test(req.url ?? '') ? new URL(req.url!) : undefined;
    } catch {
      url = undefined;
    }
    const host = url ? normalizeHost(url.hostname) : undefined;
    if (!url || !host || (isIP(host) === 0 && !isHostName(host))) {
      const r = refused('http', undefined, undefined, new Refused(400, /^https:/i.test(req.url ?? '') ? 'https:// URLs go through CONNECT' : 'not an absolute http:// URL: this is an egress proxy'));
      return reply(res, r);
    }
    const port = Number(url.port || 80);
    judge(host, port)
      .then((addresses) => open(addresses, port))
      .then(
        (socket) => {
          count('allowed');
          forward(req, res, url, socket);
        },
        (err) => reply(res, refused('http', host, port, err)),
      );
  }

  function forward(req: IncomingMessage, res: ServerResponse, url: URL, socket: Socket): void {
    const headers = endToEnd(req.headers);
    headers.host = url.host;
    const upstream = httpRequest({ method: req.method, path: url.pathname + url.search, headers, setHost: false, createConnection: () => socket }); // no agent: the judged socket, used once
    upstream.setTimeout(idleMs, () => upstream.destroy(new Error('idle timeout')));
    upstream.on('response', (r) => {
      res.writeHead(r.statusCode ?? 502, r.statusMessage, endToEnd(r.headers) as Record<string, string | string[]>);
      r.pipe(res);
      r.on('error', () => res.destroy());
    });
    upstream.on('error', (err) => {
      if (!res.headersSent) reply(res, new Refused(502, `the origin failed: ${err.message}`));
      else res.destroy();
    });
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  }

  function onConnect(req: IncomingMessage, client: Duplex, head: Buffer): void {
    client.on('error', () => client.destroy());
    const target = parseAuthority(req.url);
    if (!target) return void answerSocket(client, refused('connect', undefined, undefined, new Refused(400, 'CONNECT needs host:port')));
    judge(target.host, target.port)
      .then((addresses) => open(addresses, target.port))
      .then(
        (upstream) => {
          count('allowed');
          if (client.destroyed) return void upstream.destroy();
          tunnel(client, upstream, head);
        },
        (err) => answerSocket(client, refused('connect', target.host, target.port, err)),
      );
  }

  function tunnel(client: Duplex, upstream: Socket, head: Buffer): void {
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', end).on('close', end).setTimeout(idleMs, end);
    client.on('error', end).on('close', end);
    (client as Socket).setTimeout?.(idleMs, end);
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) upstream.write(head);
    client.pipe(upstream).pipe(client);
  }

  const server: Server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 }, onRequest);
  server.maxConnections = options.maxConnections ?? 256;
  server.on('connect', onConnect);
  // A WebSocket without CONNECT (an Upgrade to the proxy itself) is not proxied; clients tunnel it.
  server.on('upgrade', (_req, socket: Duplex) => answerSocket(socket, refused('http', undefined, undefined, new Refused(400, 'Upgrade is not proxied: use CONNECT'))));
  server.on('clientError', (err: Error, socket: Duplex) => {
    if (!socket.writable) return void socket.destroy();
    count('invalid');
    log.debug({ egress: 'invalid', reason: err.message }, 'egress invalid: unparsable request');
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  log.info({ port, allowHost: options.allowHost, allowPort: options.allowPort }, `egress proxy on 127.0.0.1:${port}`);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function body(r: Refused): string {
  return `ome-mcp egress proxy: ${r.reason}\n`;
}

function reply(res: ServerResponse, r: Refused): void {
  if (res.headersSent) return void res.destroy();
  const text = body(r);
  res.writeHead(r.status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), connection: 'close' });
  res.end(text);
}

function answerSocket(socket: Duplex, r: Refused): void {
  if (!socket.writable) return void socket.destroy();
  const text = body(r);
  const phrase = { 400: 'Bad Request', 403: 'Forbidden', 502: 'Bad Gateway' }[r.status];
  socket.end(`HTTP/1.1 ${r.status} ${phrase}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]).finally(() => clearTimeout(timer));
}
