// The aggregate as the agent builds it from its options: each backend's transport made the way a
// single upstream's is (a stdio child behind the version bridge, so a 2026-07-28 server is reached
// in its revision; HTTP through the SDK's client transports, not probed). In per-session mode with
// `identity`, each backend carries the caller's identity: a header of its HTTP requests, or the
// environment of its stdio process.
import type { Logger } from 'pino';
import type { AgentBackend } from '../../api/agent-backends.js';
import type { AgentOptions } from '../config/options.js';
import type { ClientCapabilities, ClientSession } from '../mux/client-session.js';
import type { UpstreamIdentity } from '../policy/identity/index.js';
import { Refusal } from '../protocol/refusal.js';
import { HttpUpstream } from '../upstream/http.js';
import { StdioUpstream } from '../upstream/stdio.js';
import type { UpstreamTransport } from '../upstream/transport.js';
import { VersionBridgeTransport } from '../upstream/version-bridge.js';
import { AggregateTransport } from './transport.js';

export interface AggregateSessionInfo {
  clientInfo: { name: string; version: string };
  capabilities: ClientCapabilities;
  requestTimeoutMs: number;
  version: string;
  /** The caller's identity for each backend, by name (per-session mode with `identity`). */
  identities?: ReadonlyMap<string, UpstreamIdentity>;
}

/** What one session's backends carry, and when the first of their tokens expires. */
export interface BackendIdentities {
  byBackend: Map<string, UpstreamIdentity>;
  expiresAt: number | undefined;
}

/**
 * The caller's identity for every backend: one exchange per distinct audience (the backend's, or
 * the configured one). The first refusal refuses the session: a session that cannot reach one of
 * its backends as the caller does not start half-authorized.
 */
export async function backendIdentities(
  backends: readonly AgentBackend[],
  session: ClientSession,
  identityFor: (session: ClientSession, audience?: string) => Promise<UpstreamIdentity | Refusal> | undefined,
): Promise<BackendIdentities | Refusal | undefined> {
  const byAudience = new Map<string | undefined, Promise<UpstreamIdentity | Refusal> | undefined>();
  for (const b of backends) if (!byAudience.has(b.audience)) byAudience.set(b.audience, identityFor(session, b.audience));
  const out: BackendIdentities = { byBackend: new Map(), expiresAt: undefined };
  for (const b of backends) {
    const identity = await byAudience.get(b.audience);
    if (identity === undefined) return undefined; // no identity configured
    if (identity instanceof Refusal) return identity;
    out.byBackend.set(b.name, identity);
    if (identity.expiresAt !== undefined) out.expiresAt = Math.min(out.expiresAt ?? Infinity, identity.expiresAt);
  }
  return out;
}

export function createAggregate(options: AgentOptions, logger: Logger, info: AggregateSessionInfo): AggregateTransport {
  return new AggregateTransport({
    backends: options.backends ?? [],
    settings: options.aggregate,
    connect: (spec) => backendTransport(spec, options, logger, info),
    logger: logger.child({ upstream: true }),
    clientInfo: info.clientInfo,
    capabilities: info.capabilities,
    serverInfo: { name: 'ome-mcp-aggregate', version: info.version },
    requestTimeoutMs: info.requestTimeoutMs,
    initializeTimeoutMs: options.initializeTimeout * 1000,
  });
}

function backendTransport(spec: AgentBackend, options: AgentOptions, logger: Logger, info: AggregateSessionInfo): UpstreamTransport {
  const identity = info.identities?.get(spec.name);
  if (spec.url) return new HttpUpstream({ url: spec.url, transport: spec.transport ?? 'auto', ...(identity ? { headers: identity.headers } : {}) });
  const [command, ...args] = spec.command!;
  const serverLog = logger.child({ server: true, backend: spec.name });
  // An env of its own always: a backend never adopts the process the launcher may have started early.
  const stdio = new StdioUpstream({ command: command!, args, env: { ...process.env, ...spec.env, ...identity?.env }, onStderrLine: (line) => serverLog.info(line) });
  return new VersionBridgeTransport(stdio, {
    logger: logger.child({ backend: spec.name }),
    clientInfo: info.clientInfo,
    capabilities: info.capabilities,
    probeTimeoutMs: Math.min(5000, options.initializeTimeout * 1000),
    mode: options.upstreamProtocol,
  });
}
