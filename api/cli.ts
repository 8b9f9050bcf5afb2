// The command-line conventions both binaries share: one option table drives the flags, the
// `<PREFIX><NAME>` environment variables and the `--help` lines; bad input is a UsageError.
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';

export interface OptionSpec {
  type: 'string' | 'boolean';
  help: string;
  default?: string;
  placeholder?: string;
}
export type OptionTable = Record<string, OptionSpec>;
export type RawValue = string | boolean | undefined;

/** Bad flags, env or config: the binary prints the message and exits with code 2. */
export class UsageError extends Error {}

/** `--webhook-port` → `<prefix>WEBHOOK_PORT`. */
export const envVarName = (prefix: string, flag: string) => `${prefix}${flag.replace(/-/g, '_').toUpperCase()}`;

/** One `--help` line per option: flag and placeholder padded to `width`, then the help and the default. */
export function optionHelpLines(table: OptionTable, width: number): string[] {
  return Object.entries(table).map(([flag, spec]) => {
    const left = `  --${flag}${spec.placeholder ? ` <${spec.placeholder}>` : ''}`;
    const def = spec.default ? ` (default ${spec.default})` : '';
    return `${left.padEnd(width)}${spec.help}${def}`;
  });
}

/**
 * Parses `argv` against the table and returns a resolver: a flag's value from the command line,
 * else from the environment (`prefix`), else from `fallback` (a config file), else its default.
 */
export function resolveOptions(
  table: OptionTable,
  argv: string[],
  env: NodeJS.ProcessEnv,
  prefix: string,
  fallback: (flag: string) => RawValue = () => undefined,
): { value: (flag: string) => RawValue; flags: Record<string, RawValue>; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.entries(table).map(([k, s]) => [k, { type: s.type }])),
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const flags = parsed.values as Record<string, RawValue>;
  const value = (flag: string): RawValue => {
    if (flags[flag] !== undefined) return flags[flag];
    const fromEnv = env[envVarName(prefix, flag)];
    if (fromEnv !== undefined && fromEnv !== '') return table[flag]!.type === 'boolean' ? fromEnv === 'true' || fromEnv === '1' : fromEnv;
    return fallback(flag) ?? table[flag]!.default;
  };
  return { value, flags, positionals: parsed.positionals };
}

/**
 * The start of every `main`: parse, or print the usage error and exit 2; answer `--help` and
 * `--version`. Returns the options when the program should run.
 */
export async function parseCommandLine<T extends { help: boolean; version: boolean }>(
  name: string,
  parse: () => T | Promise<T>,
  helpText: () => string,
  version: string,
): Promise<T | undefined> {
  let options: T;
  try {
    options = await parse();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${name}: ${err.message}\nRun ${name} --help for usage.\n`);
    process.exit(2);
  }
  if (options.help) process.stdout.write(helpText() + '\n');
  else if (options.version) process.stdout.write(`${version}\n`);
  else return options;
  return undefined;
}

/** The end of every `main`: on the first SIGTERM/SIGINT, log, run `stop`, flush the log and exit (0, or 1 when stopping failed). */
export function exitOnSignals(logger: Logger, message: string, fields: Record<string, unknown>, stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, ...fields }, message);
    stop().then(
      () => {
        logger.flush();
        process.exit(0);
      },
      (err: Error) => {
        logger.error({ err: err.message }, 'shutdown failed');
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
