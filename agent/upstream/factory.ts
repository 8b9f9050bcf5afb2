import { readFileSync } from 'node:fs';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { Logger } from 'pino';
import type { AgentOptions } from '../config/options.js';
import { AttachUpstream, parseAttachTarget } from './attach.js';
import { FifoUpstream } from './fifo.js';
import { HttpUpstream } from './http.js';
import { discardPrespawned } from './prespawn.js';
import { PtyUpstream } from './pty.js';
import { StdioUpstream } from './stdio.js';
import type { UpstreamTransport } from './transport.js';
import type { UpstreamIdentity } from '../policy/identity/index.js';

/** The upstream's headers, their values read now: a rotated Secret is used from the next connect on. */
function upstreamHeaders(options: AgentOptions): Record<string, string> | undefined {
  if (!options.upstreamHeaders.length) return undefined;
  const headers: Record<string, string> = {};
  for (const h of options.upstreamHeaders) {
    headers[h.name] = `${h.prefix ?? ''}${readCredential(h.file, `upstream header ${h.name}`)}`;
  }
  return headers;
}

/** Reads a credential file now (a rotated Secret is used from the next connect on). */
function readCredential(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new Error(`${what}: cannot read ${file}: ${(e as Error).message}`);
  }
}

/** The SDK's client-credentials provider, the secret read at each connect; tokens live as long as the transport. */
function clientCredentials(options: AgentOptions): (() => Promise<OAuthClientProvider>) | undefined {
  const cc = options.upstreamClientCredentials;
  if (!cc) return undefined;
  return async () => {
    const { ClientCredentialsProvider } = await import('@modelcontextprotocol/sdk/client/auth-extensions.js');
    return new ClientCredentialsProvider({
      clientId: cc.clientId,
      clientSecret: readCredential(cc.clientSecretFile, 'upstream client credentials'),
      expectedIssuer: cc.issuer,
      clientName: 'ome-mcp-agent',
      ...(cc.scopes?.length ? { scope: cc.scopes.join(' ') } : {}),
    });
  };
}

/** Builds the transport to the MCP server from the options (one per start/restart): HTTP, the in-pod FIFO or attach bridge, a pseudo-terminal, or a child's stdio. */
export function createUpstreamTransport(options: AgentOptions, logger: Logger, identity?: UpstreamIdentity): UpstreamTransport {
  // A process with the caller's identity in its environment is never the one started ahead of time.
  if (options.upstream || options.upstreamFifo || options.upstreamAttach || options.tty || identity) discardPrespawned();
  if (options.upstream) {
    const headers = identity ? { ...upstreamHeaders(options), ...identity.headers } : upstreamHeaders(options);
    return new HttpUpstream({ url: options.upstream, transport: options.upstreamTransport, headers, authProvider: clientCredentials(options) });
  }
  // The server's own output, one log line per line it writes (the text is the message).
  const serverLog = logger.child({ server: true });
  const logLine = (line: string) => serverLog.info(line);
  if (options.upstreamFifo) {
    const dir = options.upstreamFifo;
    return new FifoUpstream({
      dir,
      onWaiting: (ms) => logger.warn({ dir, waitedMs: ms }, 'waiting for the MCP server to open its FIFOs (is its container running with the wrapped command?)'),
    });
  }
  if (options.upstreamAttach) {
    return new AttachUpstream({ ...parseAttachTarget(options.upstreamAttach), onStderrLine: logLine });
  }
  const [command, ...args] = options.command;
  if (options.tty) return new PtyUpstream({ command: command!, args, onOutputLine: logLine });
  return new StdioUpstream({ command: command!, args, onStderrLine: logLine, ...(identity ? { env: { ...process.env, ...identity.env } } : {}) });
}
