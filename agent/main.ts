import { AGENT_VERSION, startAgent } from './agent.js';
import { helpText, parseOptions, UsageError } from './config/options.js';
import { createLogger } from './ops/logger.js';

async function main(): Promise<void> {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`ome-mcp-agent: ${err.message}\nRun ome-mcp-agent --help for usage.\n`);
    process.exit(2);
  }
  if (options.help) {
    process.stdout.write(helpText() + '\n');
    return;
  }
  if (options.version) {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return;
  }
  const logger = createLogger(options.logLevel);
  const agent = await startAgent(options, logger);
  logger.info({ url: agent.url, mode: options.sessionMode }, `ome-mcp-agent listening: connect MCP clients to ${agent.url}`);
  if (process.stdout.isTTY) process.stdout.write(`\n  MCP endpoint: ${agent.url}\n  (legacy SSE: ${agent.url.replace(/\/mcp$/, '/sse')}, WebSocket: ${agent.url.replace(/^http/, 'ws').replace(/\/mcp$/, '/ws')})\n\n`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    agent.stop().then(
      () => process.exit(0),
      (err: Error) => {
        logger.error({ err: err.message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: Error) => {
  process.stderr.write(`ome-mcp-agent: ${err.message}\n`);
  process.exit(1);
});
