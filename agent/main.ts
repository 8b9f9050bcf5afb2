import { AGENT_VERSION, startAgent } from './agent.js';
import { helpText, parseOptions } from './config/options.js';
import { exitOnSignals, parseCommandLine } from '../api/cli.js';
import { createLogger } from './ops/logger.js';
import { capYoungGeneration } from './ops/young-generation.js';

async function main(): Promise<void> {
  const options = await parseCommandLine('ome-mcp-agent', () => parseOptions(process.argv.slice(2)), helpText, AGENT_VERSION);
  if (!options) return;
  const logger = createLogger(options.logLevel);
  const agent = await startAgent(options, logger);
  capYoungGeneration();
  logger.info({ url: agent.url, mode: options.sessionMode }, `ome-mcp-agent listening: connect MCP clients to ${agent.url}`);
  if (process.stdout.isTTY) process.stdout.write(`\n  MCP endpoint: ${agent.url}\n  (legacy SSE: ${agent.url.replace(/\/mcp$/, '/sse')}, WebSocket: ${agent.url.replace(/^http/, 'ws').replace(/\/mcp$/, '/ws')})\n\n`);

  exitOnSignals(logger, 'shutting down: finishing in-flight requests', {}, () => agent.stop());
}

main().catch((err: Error) => {
  process.stderr.write(`ome-mcp-agent: ${err.message}\n`);
  process.exit(1);
});
