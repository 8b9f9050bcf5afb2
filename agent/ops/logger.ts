import pino, { type Logger } from 'pino';

/** Log lines are written in batches of about this many bytes… */
const BATCH_BYTES = 8 * 1024;
/** …or after this long, whichever comes first (a quiet agent's lines still show promptly). */
const BATCH_MS = 100;

/**
 * JSON lines for machines; pretty, colourful lines when a person is watching a terminal.
 * JSON lines are batched: with policy on, every call writes an audit line, and a write(2) per
 * line cost more CPU than the rest of the audit stage (docs/benchmarks.md). Lines wait at most
 * BATCH_MS; everything buffered is written synchronously at exit.
 */
export function createLogger(level: string, pretty = process.stderr.isTTY === true): Logger {
  const options = { name: 'ome-mcp-agent', level };
  if (pretty) return pino({ ...options, transport: { target: 'pino-pretty', options: { destination: 2, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,name' } } });
  const destination = pino.destination({ fd: 2, sync: false, minLength: BATCH_BYTES });
  setInterval(() => destination.flush(), BATCH_MS).unref();
  process.once('exit', () => {
    try {
      destination.flushSync();
    } catch {
      /* stderr gone */
    }
  });
  return pino(options, destination);
}
