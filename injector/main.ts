// ome-mcp-injector CLI: flags/env → startInjector; graceful SIGTERM (not-ready, drain, close).
import pino from 'pino';
import { INJECTOR_VERSION, startInjector } from './injector.js';
import { helpText, parseOptions } from './options.js';
import { exitOnSignals, parseCommandLine } from '../api/cli.js';

async function main(): Promise<void> {
  const options = await parseCommandLine('ome-mcp-injector', () => parseOptions(process.argv.slice(2)), helpText, INJECTOR_VERSION);
  if (!options) return;
  const logger = pino({ name: 'ome-mcp-injector', level: options.logLevel }, pino.destination({ fd: 2, sync: false }));
  const injector = await startInjector(options, logger);
  logger.info({ webhook: injector.webhook.url, health: injector.healthUrl }, 'ome-mcp-injector started');

  exitOnSignals(logger, 'shutting down', { delaySeconds: options.shutdownDelay }, () => injector.stop());
}

main().catch((err: Error) => {
  process.stderr.write(`ome-mcp-injector: ${err.message}\n`);
  process.exit(1);
});
