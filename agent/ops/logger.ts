import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';

/** For pino-pretty, loaded only when a person watches a terminal (not bundled: scripts/build.mjs). */
const load = createRequire(import.meta.url);

/** Log lines are written in batches of about this many bytes… */
const BATCH_BYTES = 8 * 1024;
/** …or after this long, whichever comes first (a quiet agent's lines still show promptly). */
const BATCH_MS = 100;

/**
 * JSON lines for machines; pretty, colourful lines when a person is watching a terminal.
 * JSON lines are batched: with policy on, every call writes an audit line, and a write(2) per
 * line cost more CPU than the rest of the audit stage (docs/benchmarks.md). Lines wait at most
 * BATCH_MS; everything buffered is written synchronously at exit.
 * Pretty lines go through pino-pretty as a stream in this thread, not as a pino transport (a
 * worker thread started from a file path): pino is bundled, so its transport files are not there.
 */
export function createLogger(level: string, pretty = process.stderr.isTTY === true): Logger {
  const options = { name: 'ome-mcp-agent', level };
  if (pretty) {
    const prettyStream = load('pino-pretty') as typeof import('pino-pretty');
    return pino(options, prettyStream({ destination: 2, sync: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,name' }));
  }
  const destination = pino.destination({ fd: 2, sync: false, minLength: BATCH_BYTES });
  process.once('exit', () => {
    try {
      destination.flushSync();
    } catch {
      /* stderr gone */
    }
  });
  return pino(options, batched(destination, BATCH_MS));
}

/**
 * Writes through `destination` and flushes it `ms` after the first line not yet flushed. The
 * timer runs only while lines wait: a flush is a write(2) on the thread pool even with nothing
 * buffered, and a flush every 100 ms cost an idle agent ~5 ms of CPU a second.
 */
export function batched(destination: { write(line: string): unknown; flush(): void }, ms: number): { write(line: string): void } {
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    destination.flush();
  };
  return {
    write(line) {
      destination.write(line);
      timer ??= setTimeout(flush, ms).unref();
    },
  };
}
