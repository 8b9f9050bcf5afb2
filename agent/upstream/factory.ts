import type { Logger } from 'pino';
import type { AgentOptions } from '../config/options.js';
import { HttpUpstream } from './http.js';
import { PtyUpstream } from './pty.js';
import { StdioUpstream } from './stdio.js';
import type { UpstreamTransport } from './transport.js';

/** Builds the transport to the MCP server from the options (one per start/restart). */
export function createUpstreamTransport(options: AgentOptions, logger: Logger): UpstreamTransport {
  if (options.upstream) return new HttpUpstream({ url: options.upstream, transport: options.upstreamTransport });
  const [command, ...args] = options.command;
  const serverLog = logger.child({ server: true });
  if (options.tty) return new PtyUpstream({ command: command!, args, onOutputLine: (line) => serverLog.info({ output: line }) });
  return new StdioUpstream({ command: command!, args, onStderrLine: (line) => serverLog.info({ stderr: line }) });
}
