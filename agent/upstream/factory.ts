import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { AgentOptions } from '../config/options.js';
import { AttachUpstream, parseAttachTarget } from './attach.js';
import { FifoUpstream } from './fifo.js';
import { HttpUpstream } from './http.js';
import { discardPrespawned } from './prespawn.js';
import { PtyUpstream } from './pty.js';
import { StdioUpstream } from './stdio.js';
import type { UpstreamTransport } from './transport.js';

/** The upstream's headers, their values read now: a rotated Secret is used from the next connect on. */
function upstreamHeaders(options: AgentOptions): Record<string, string> | undefined {
  if (!options.upstreamHeaders.length) return undefined;
  const headers: Record<string, string> = {};
  for (const h of options.upstreamHeaders) {
    let value: string;
    try {
      value = readFileSync(h.file, 'utf8').trim();
    } catch (e) {
      throw new Error(`upstream header ${h.name}: cannot read ${h.file}: ${(e as Error).message}`);
    }
    headers[h.name] = `${h.prefix ?? ''}${value}`;
  }
  return headers;
}

/** Builds the transport to the MCP server from the options (one per start/restart): HTTP, the in-pod FIFO or attach bridge, a pseudo-terminal, or a child's stdio. */
export function createUpstreamTransport(options: AgentOptions, logger: Logger): UpstreamTransport {
  if (options.upstream || options.upstreamFifo || options.upstreamAttach || options.tty) discardPrespawned();
  if (options.upstream) return new HttpUpstream({ url: options.upstream, transport: options.upstreamTransport, headers: upstreamHeaders(options) });
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
  return new StdioUpstream({ command: command!, args, onStderrLine: logLine });
}
