import pino, { type Logger } from 'pino';

/** JSON lines for machines; pretty, colourful lines when a person is watching a terminal. */
export function createLogger(level: string, pretty = process.stderr.isTTY === true): Logger {
  const options = { name: 'ome-mcp-agent', level };
  if (!pretty) return pino(options, pino.destination({ fd: 2, sync: false }));
  return pino({ ...options, transport: { target: 'pino-pretty', options: { destination: 2, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,name' } } });
}
