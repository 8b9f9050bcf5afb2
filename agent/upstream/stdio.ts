import { spawn, type ChildProcess } from 'node:child_process';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import { parseServerFrame } from './frame-parser.js';
import { adoptPrespawned } from './prespawn.js';
import { LineReader } from './line-reader.js';
import type { UpstreamTransport } from './transport.js';

export interface StdioUpstreamOptions {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Each line the server writes to stderr (servers log there). */
  onStderrLine?: (line: string) => void;
  /** Grace period between SIGTERM and SIGKILL on close. */
  killTimeoutMs?: number;
}

/** A server run as a child process, speaking newline-delimited JSON-RPC on stdin/stdout. */
export class StdioUpstream implements UpstreamTransport {
  readonly description: string;
  onmessage?: (message: JsonRpcMessage) => void;
  onclose?: (reason: string) => void;
  onerror?: (error: Error) => void;
  private child: ChildProcess | undefined;
  private closing = false;
  /** Whether stdin is corked until the end of this event-loop turn (see send). */
  private corked = false;

  constructor(private readonly options: StdioUpstreamOptions) {
    this.description = `stdio: ${[options.command, ...options.args].join(' ')}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): Promise<void> {
    const { command, args, env, cwd } = this.options;
    const early = env === undefined && cwd === undefined ? adoptPrespawned(command, args) : undefined;
    const child = early?.child ?? spawn(command, args, { env: env ?? process.env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    const stdout = new LineReader((line) => parseServerFrame(line, this.onmessage, this.onerror));
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    const stderrLine = this.options.onStderrLine;
    if (stderrLine) {
      const stderr = new LineReader(stderrLine, 64 * 1024);
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    } else {
      child.stderr.resume();
    }
    // EPIPE when the child dies mid-write: the exit handler reports it, nothing to add here.
    child.stdin.on('error', () => {});
    const spawned =
      early?.spawned ??
      new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    return spawned.then(
      () => {
        child.once('exit', (code, signal) => {
          this.child = undefined;
          this.onclose?.(this.closing ? 'closed' : `server exited (${signal ?? `code ${code}`})`);
        });
      },
      (err: Error) => {
        this.child = undefined;
        throw new Error(`cannot start ${command}: ${err.message}`);
      },
    );
  }

  /**
   * The first frame of an event-loop turn is written at once (no added latency for a lone
   * request); frames that follow in the same turn — many sessions' requests arriving together
   * under load — are corked and leave with one syscall when the turn ends.
   */
  send(frame: string): void {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed) throw new Error('server is not running');
    stdin.write(frame + '\n');
    if (this.corked) return;
    this.corked = true;
    stdin.cork();
    setImmediate(() => {
      this.corked = false;
      stdin.uncork();
    });
  }

  close(): Promise<void> {
    const child = this.child;
    this.closing = true;
    if (!child) return Promise.resolve();
    return new Promise((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), this.options.killTimeoutMs ?? 2000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.stdin?.end();
      child.kill('SIGTERM');
    });
  }
}
