// The aggregate as the agent builds it from its options: each backend's transport made the way a
// single upstream's is (a stdio child behind the version bridge, so a 2026-07-28 server is reached
// in its revision; HTTP through the SDK's client transports, not probed).
import type { Logger } from 'pino';
import type { AgentBackend } from '../../api/agent-backends.js';
import type { AgentOptions } from '../config/options.js';
import type { ClientCapabilities } from '../mux/client-session.js';
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
  if (spec.url) return new HttpUpstream({ url: spec.url, transport: spec.transport ?? 'auto' });
  const [command, ...args] = spec.command!;
  const serverLog = logger.child({ server: true, backend: spec.name });
  // An env of its own always: a backend never adopts the process the launcher may have started early.
  const stdio = new StdioUpstream({ command: command!, args, env: { ...process.env, ...spec.env }, onStderrLine: (line) => serverLog.info(line) });
  return new VersionBridgeTransport(stdio, {
    logger: logger.child({ backend: spec.name }),
    clientInfo: info.clientInfo,
    capabilities: info.capabilities,
    probeTimeoutMs: Math.min(5000, options.initializeTimeout * 1000),
    mode: options.upstreamProtocol,
  });
}
