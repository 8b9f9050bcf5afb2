import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { Hono } from 'hono';
import type { Logger } from 'pino';
import type { AgentOptions } from './config/options.js';
import type { DownstreamContext } from './downstream/context.js';
import { answerClientErrors } from './downstream/client-errors.js';
import { isPath, nodeExchange, toResponse, writeReply, type AgentApp, type Exchange, type Reply } from './downstream/exchange.js';
import { lazyHono } from './downstream/hono-node.js';
import { jsonRpcError } from './downstream/http-common.js';
import { mountLegacySse } from './downstream/legacy-sse.js';
import { createModernTransport } from './downstream/modern/handler.js';
import { RequestStateSigner } from './protocol/modern/request-state.js';
import { SessionSealer } from './protocol/session-seal.js';
import { VersionBridgeTransport } from './upstream/version-bridge.js';
import { mountStreamableHttp } from './downstream/streamable-http.js';
import { mountWebSocket } from './downstream/websocket.js';
import type { ClientCapabilities, ClientSession } from './mux/client-session.js';
import { Gateway } from './mux/gateway.js';
import { PerSessionPool, SharedPool } from './mux/pools.js';
import { UpstreamSession } from './mux/upstream-session.js';
import { bindPolicy, type AgentPolicy } from './agent-policy.js';
import { watchAgentConfig } from './config/reload.js';
import { AgentMetrics } from './ops/metrics.js';
import { hostPolicy } from './ops/host.js';
import { originPolicy } from './ops/origin.js';
import { opsHandler, startOpsServer } from './ops/ops-server.js';
import { ErrorCode } from './protocol/jsonrpc.js';
import { createUpstreamTransport } from './upstream/factory.js';
import type { UpstreamIdentity } from './policy/identity/index.js';
import { Refusal } from './protocol/refusal.js';
import { Catalog } from './catalog/catalog.js';
import { CatalogTransport } from './catalog/transport.js';
import { backendIdentities, createAggregate } from './aggregate/connect.js';
import type { AggregateTransport } from './aggregate/transport.js';

export const AGENT_VERSION = '0.1.0';
const AGENT_INFO = { name: 'ome-mcp-agent', version: AGENT_VERSION };

/** What the agent declares to a shared server: everything it can route to some client. */
const SHARED_CAPABILITIES: ClientCapabilities = { sampling: {}, elicitation: {}, roots: { listChanged: true } };

export type { AgentPolicy } from './agent-policy.js';

/** What a per-session upstream carries of its caller: the server's identity, or each backend's. */
interface CallerIdentity {
  server?: UpstreamIdentity;
  backends?: ReadonlyMap<string, UpstreamIdentity>;
  expiresAt: number | undefined;
}

export interface RunningAgent {
  url: string;
  port: number;
  /** The ops listener's port, with --ops-port. */
  opsPort: number | undefined;
  gateway: Gateway;
  metrics: AgentMetrics;
  /** Graceful stop: refuse new work, let in-flight requests finish (up to the deadline), stop the server. */
  stop(deadlineMs?: number): Promise<void>;
}

/**
 * Starts the agent: policy from `options.policy` (validated; errors name the field) unless a
 * pipeline is handed in, the upstream pool, the downstream transports, ops endpoints.
 * Resolves once listening (ready once the upstream is initialized).
 */
export async function startAgent(options: AgentOptions, logger: Logger, policyOverride?: AgentPolicy): Promise<RunningAgent> {
  const metrics = new AgentMetrics();
  // Up before the server starts, which may reach out at once (its HTTP(S)_PROXY points here).
  const egress = options.egress && (await (await import('./egress/proxy.js')).startEgressProxy({ ...options.egress, logger, registry: metrics.registry }));
  const bound = policyOverride ? undefined : await bindPolicy(options.policy, logger, metrics.registry);
  const policy = bound?.policy ?? policyOverride!;
  // Declared tools, prompts and resources (config `catalog`): served in front of the server, or alone.
  const catalog = new Catalog(logger.child({ component: 'catalog' }));
  await catalog.replace(bound?.config().catalog);
  const reloading = bound && {
    async reload(sections: Record<string, unknown>) {
      const result = await bound.reload(sections);
      if (result.applied.includes('catalog')) await catalog.replace(bound.config().catalog);
      return result;
    },
  };
  const configWatch = reloading && watchAgentConfig(options, { bound: reloading, logger, reloads: metrics.configReloads });
  const requestTimeoutMs = bound?.requestTimeoutMs ?? options.requestTimeout * 1000;
  const maxBodyBytes = bound?.maxBodyBytes ?? options.maxBodyBytes;
  let modernTools: ((result: { tools: unknown[] }) => void) | undefined;
  const hooks = {
    onRequestDone: (method: string, outcome: Parameters<AgentMetrics['observeRequest']>[1], seconds: number) =>
      metrics.observeRequest(method, outcome, seconds),
    onStateChange: (state: string) => metrics.upstreamUp.set(state === 'ready' ? 1 : 0),
    onRestart: () => metrics.upstreamRestarts.inc(),
    onToolsList: (result: { tools: unknown[] }) => {
      policy.observeToolsList?.(result);
      modernTools?.(result); // x-mcp-header declarations for 2026-07-28 requests
    },
  };
  // Several servers behind this endpoint (`backends`): one transport that merges them
  // (docs/aggregate.md); the shared one is this agent's readiness, a session's own is not.
  let aggregate: AggregateTransport | undefined;
  const serverTransport = (clientInfo: { name: string; version: string }, capabilities: ClientCapabilities, identity?: CallerIdentity) => {
    if (options.backends) {
      const merged = createAggregate(options, logger, { clientInfo, capabilities, requestTimeoutMs, version: AGENT_VERSION, identities: identity?.backends });
      if (options.sessionMode === 'shared') aggregate = merged;
      return merged;
    }
    const transport = createUpstreamTransport(options, logger, identity?.server);
    if (options.upstream) return transport;
    // Stdio-like upstreams are probed for 2026-07-28 at every start and bridged when they speak it.
    return new VersionBridgeTransport(transport, { logger, clientInfo, capabilities, probeTimeoutMs: Math.min(5000, options.initializeTimeout * 1000), mode: options.upstreamProtocol });
  };
  const upstreamFor = (capabilities: ClientCapabilities, clientInfo: { name: string; version: string }, identity?: CallerIdentity) =>
    new UpstreamSession({
      // The catalog (declared tools, prompts, resources) in front of the server's transport, or alone.
      connect: () => new CatalogTransport(catalog, options.catalogOnly ? undefined : serverTransport(clientInfo, capabilities, identity), logger, AGENT_INFO),
      logger: logger.child({ upstream: true }),
      clientInfo,
      capabilities,
      requestTimeoutMs,
      initializeTimeoutMs: options.initializeTimeout * 1000,
      restartMinDelayMs: 250,
      restartMaxDelayMs: 30_000,
      hooks,
    });

  const callerIdentity = async (s: ClientSession): Promise<CallerIdentity | Refusal | undefined> => {
    const upstreamIdentity = policy.upstreamIdentity?.bind(policy);
    if (!upstreamIdentity) return undefined;
    if (options.backends) {
      const backends = await backendIdentities(options.backends, s, upstreamIdentity);
      return backends instanceof Refusal || !backends ? backends : { backends: backends.byBackend, expiresAt: backends.expiresAt };
    }
    const server = await upstreamIdentity(s);
    return server instanceof Refusal || !server ? server : { server, expiresAt: server.expiresAt };
  };

  // Before the server starts: unusable certificate files end the start with a clear error.
  // Loaded only with TLS: node:tls and certificate parsing are not every agent's start-up.
  const tls = options.tls ? (await import('./ops/tls.js')).servingTls(options.tls, logger, metrics.registry) : undefined;
  const scheme = tls ? 'https' : 'http';
  let pool;
  if (options.sessionMode === 'per-session') {
    // The server sees its one client as it is: that client's own capabilities and name.
    pool = new PerSessionPool(async (s) => {
      // A server that runs with the caller's identity gets it per session (each backend its own),
      // and the session ends with the first token to expire.
      const identity = await callerIdentity(s);
      if (identity instanceof Refusal) return identity;
      if (identity?.expiresAt !== undefined) endAt(s, identity.expiresAt);
      return upstreamFor(s.capabilities, clientInfoOf(s), identity);
    }, options.maxProcesses);
  } else {
    const shared = upstreamFor(SHARED_CAPABILITIES, AGENT_INFO);
    pool = new SharedPool(shared);
    void shared.start();
  }

  // Where other replicas reach this one (--pod-ip); the port once it is bound.
  let boundPort = options.port;
  const { podIp } = options;
  const podAddress = podIp ? () => `${scheme}://${podIp.includes(':') ? `[${podIp}]` : podIp}:${boundPort}` : undefined;
  const endAt = (session: ClientSession, epochMs: number) => {
    const timer = setTimeout(() => {
      if (session.closed) return;
      logger.info({ session: session.id }, "the caller's token expired: session ended");
      gateway.end(session);
    }, Math.max(0, epochMs - Date.now()));
    timer.unref();
  };
  const gateway = new Gateway({
    pool,
    policy,
    logger,
    sessionIdleTimeoutMs: options.sessionIdleTimeout * 1000,
    maxSessions: options.maxSessions,
    readyTimeoutMs: options.initializeTimeout * 1000,
    onSessionCountChange: (n) => metrics.sessions.set(n),
    // Replicas sharing a state key resume each other's 2025 sessions (a per-session process cannot move).
    ...(options.stateKey && options.sessionMode !== 'per-session'
      ? { sealer: new SessionSealer([options.stateKey, ...(options.stateKeyPrevious ? [options.stateKeyPrevious] : [])]), self: options.tls ? undefined : podAddress } // a pod IP is in no certificate: with TLS sessions move instead of being passed
      : {}),
  });

  const ctx: DownstreamContext = {
    gateway,
    logger,
    authenticate: (h) => policy.authenticate(h),
    hostAllowed: hostPolicy(options.host, options.allowedHosts),
    originAllowed: originPolicy(options.allowedOrigins),
    maxBodyBytes,
    eventBufferSize: options.eventBuffer,
    sseRetryMs: 1000,
  };

  const app: AgentApp = new Hono();
  app.onError((err, c) => {
    logger.error({ err: err.message, stack: err.stack, path: c.req.path }, 'unhandled error');
    return toResponse(jsonRpcError(500, null, ErrorCode.InternalError, 'internal error'));
  });
  const ops = opsHandler(() => {
    const protocol = pool instanceof SharedPool ? (pool.upstream.initializeResult?.protocolVersion as string | undefined) : undefined;
    const ready = gateway.ready && (aggregate?.ready ?? true);
    return { ready, body: { ready, upstream: pool.detail, ...(protocol ? { upstreamProtocol: protocol } : {}), ...(aggregate ? { backends: aggregate.status() } : {}), sessions: gateway.sessionCount } };
  }, metrics.registry);
  policy.mount?.(app);
  // One endpoint, both generations: 2026-07-28 requests are told apart per request (docs/modern-protocol.md).
  // Replicas that share a state key and know their address (--pod-ip) pass an input-required
  // retry to the replica that holds the call, so modern clients need no affinity.
  const { stateKey } = options;
  const modern = createModernTransport(ctx, {
    holdTimeoutMs: requestTimeoutMs,
    enabled: options.sessionMode !== 'per-session',
    signer: new RequestStateSigner(stateKey ? createHash('sha256').update(stateKey).digest() : undefined),
    node: podAddress,
  });
  modernTools = (result) => modern.observeToolsList(result);
  const mcpPost = mountStreamableHttp(app, '/mcp', ctx, modern);
  mountLegacySse(app, '/sse', '/messages', ctx);
  const hono = lazyHono(app, { hostname: options.host, maxPayload: maxBodyBytes, logger });
  mountWebSocket(app, '/ws', ctx, hono.upgradeWebSocket);
  app.notFound((c) => toResponse(jsonRpcError(404, null, ErrorCode.InvalidRequest, `no route for ${c.req.method} ${c.req.path}`)));

  // `POST /mcp`, the hot path, and the ops routes are served by bare node:http (no web
  // Request/Response per call); Hono serves every other route (downstream/hono-node.ts).
  // OME_MCP_AGENT_HTTP=hono sends /mcp through Hono too (the bench compares the two).
  const mcpFront = process.env.OME_MCP_AGENT_HTTP === 'hono' ? undefined : mcpFrontEnd(mcpPost, logger);
  // With --ops-port the MCP port answers 404 for the ops routes (Hono's notFound).
  const opsFront = options.opsPort === undefined ? ops : undefined;
  const listener: RequestListener = (req, res) => {
    if (mcpFront?.(req, res) || opsFront?.(req, res)) return;
    hono.listener(req, res);
  };
  const server = tls ? tls.createServer({}, listener) : createServer(listener);
  hono.attach(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      server.on('error', (err) => logger.error({ err: err.message }, 'HTTP server error'));
      resolve();
    });
  });
  answerClientErrors(server);
  const opsServer = options.opsPort === undefined ? undefined : await startOpsServer(ops, options.host, options.opsPort);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  boundPort = port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host === '0.0.0.0' ? '127.0.0.1' : options.host;

  return {
    url: `${scheme}://${host}:${port}/mcp`,
    port,
    opsPort: opsServer?.port,
    gateway,
    metrics,
    async stop(deadlineMs = options.shutdownTimeout * 1000) {
      gateway.startDraining();
      configWatch?.close();
      server.close();
      const until = Date.now() + deadlineMs;
      while (gateway.inFlight() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      await gateway.stop();
      await policy.close();
      catalog.close();
      await egress?.close();
      hono.close();
      server.closeAllConnections();
      tls?.close();
      opsServer?.close();
    },
  };
}

/** The node:http front end for `POST /mcp`: true when it took the request. */
function mcpFrontEnd(post: (c: Exchange) => Promise<Reply>, logger: Logger): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'POST' || !isPath(req.url, '/mcp')) return false;
    post(nodeExchange(req, res)).then(
      (reply) => writeReply(res, reply),
      (err: Error) => {
        logger.error({ err: err.message, stack: err.stack, path: '/mcp' }, 'unhandled error');
        if (!res.headersSent) writeReply(res, jsonRpcError(500, null, ErrorCode.InternalError, 'internal error'));
        else res.destroy();
      },
    );
    return true;
  };
}

function clientInfoOf(session: ClientSession): { name: string; version: string } {
  const info = session.clientInfo as { name?: unknown; version?: unknown } | undefined;
  return { name: String(info?.name ?? 'client'), version: String(info?.version ?? '0') };
}
