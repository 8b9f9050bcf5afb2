// The in-pod bridges as the agent's factory builds them: one call in createUpstreamTransport,
//   const bridge = createBridgeTransport(options, logger); if (bridge) return bridge;
import type { Logger } from 'pino';
import type { AgentOptions } from '../config/options.js';
import { AttachUpstream, parseAttachTarget } from './attach.js';
import { FifoUpstream } from './fifo.js';
import type { UpstreamTransport } from './transport.js';

/** A FIFO or attach transport for --upstream-fifo / --upstream-attach, else undefined. */
export function createBridgeTransport(
  options: Pick<AgentOptions, 'upstreamFifo' | 'upstreamAttach'>,
  logger: Logger,
): UpstreamTransport | undefined {
  if (options.upstreamFifo) {
    const dir = options.upstreamFifo;
    return new FifoUpstream({
      dir,
      onWaiting: (ms) => logger.warn({ dir, waitedMs: ms }, 'waiting for the MCP server to open its FIFOs (is its container running with the wrapped command?)'),
    });
  }
  if (options.upstreamAttach) {
    const serverLog = logger.child({ server: true });
    return new AttachUpstream({ ...parseAttachTarget(options.upstreamAttach), onStderrLine: (line) => serverLog.info({ stderr: line }) });
  }
  return undefined;
}
