// ome-mcp-injector CLI: flags/env → startInjector; graceful SIGTERM (not-ready, drain, close).
import pino from 'pino';
import { INJECTOR_VERSION, startInjector } from './injector.js';
import { helpText, parseOptions } from './options.js';
import { parseCommandLine } from '../api/cli.js';

async function main(): Promise<void> {
  const options = parseCommandLine('ome-mcp-injector', () => parseOptions(process.argv.slice(2)), helpText, INJECTOR_VERSION);
  if (!options) return;
  const logger = pino({ name: 'ome-mcp-injector', level: options.logLevel }, pino.destination({ fd: 2, sync: false }));
  const injector = await startInjector(options, logger);
  logger.info({ webhook: injector.webhook.url, health: injector.healthUrl }, 'ome-mcp-injector started');

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, delaySeconds: options.shutdownDelay }, 'shutting down');
    injector.stop().then(
      () => {
        logger.flush();
        process.exit(0);
      },
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
  process.stderr.write(`ome-mcp-injector: ${err.message}\n`);
  process.exit(1);
});
