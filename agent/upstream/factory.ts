import type { Logger } from 'pino';
import type { AgentOptions } from '../config/options.js';
import { AttachUpstream, parseAttachTarget } from './attach.js';
import { FifoUpstream } from './fifo.js';
import { HttpUpstream } from './http.js';
import { discardPrespawned } from './prespawn.js';
import { PtyUpstream } from './pty.js';
import { StdioUpstream } from './stdio.js';
import type { UpstreamTransport } from './transport.js';

/** Builds the transport to the MCP server from the options (one per start/restart): HTTP, the in-pod FIFO or attach bridge, a pseudo-terminal, or a child's stdio. */
export function createUpstreamTransport(options: AgentOptions, logger: Logger): UpstreamTransport {
  if (options.upstream || options.upstreamFifo || options.upstreamAttach || options.tty) discardPrespawned();
  if (options.upstream) return new HttpUpstream({ url: options.upstream, transport: options.upstreamTransport });
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
