import type { IPty } from 'node-pty';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import { parseServerFrame } from './frame-parser.js';
import { LineReader } from './line-reader.js';
import type { UpstreamTransport } from './transport.js';

export interface PtyUpstreamOptions {
  command: string;
  args: string[];
  /** Lines that are not JSON-RPC: on a terminal stdout and stderr are one stream, so logs land here. */
  onOutputLine?: (line: string) => void;
}

/**
 * `--tty`: the server runs on a pseudo-terminal, for servers that buffer output, refuse to
 * start or change behaviour when stdout is not a TTY. The terminal is put in raw mode without
 * echo before the server starts (so JSON passes untouched); since a terminal merges stdout and
 * stderr, lines that are not JSON-RPC are treated as the server's log.
 */
export class PtyUpstream implements UpstreamTransport {
  readonly description: string;
  onmessage?: (message: JsonRpcMessage) => void;
  onclose?: (reason: string) => void;
  onerror?: (error: Error) => void;
  private pty: IPty | undefined;

  constructor(private readonly options: PtyUpstreamOptions) {
    this.description = `tty: ${[options.command, ...options.args].join(' ')}`;
  }

  async start(): Promise<void> {
    const { spawn } = await import('node-pty');
    const { command, args } = this.options;
    // The empty echo after stty tells us raw mode is on before the first byte is sent.
    const pty = spawn('/bin/sh', ['-c', 'stty raw -echo; echo; exec "$0" "$@"', command, ...args], {
      cols: 65535,
      rows: 24,
      env: process.env as Record<string, string>,
    });
    this.pty = pty;
    const asLog = (e: Error) => this.options.onOutputLine?.(e.message.replace(/^[^:]*: /, ''));
    let started: () => void;
    const ready = new Promise<void>((resolve) => (started = resolve));
    let first = true;
    const lines = new LineReader((line) => parseServerFrame(line, this.onmessage, asLog));
    pty.onData((data) => {
      if (first) {
        first = false;
        started();
        const rest = data.slice(data.indexOf('\n') + 1);
        if (rest) lines.push(Buffer.from(rest));
        return;
      }
      lines.push(Buffer.from(data));
    });
    pty.onExit(({ exitCode, signal }) => {
      this.pty = undefined;
      this.onclose?.(`server exited (${signal ? `signal ${signal}` : `code ${exitCode}`})`);
    });
    await ready;
  }

  send(frame: string): void {
    if (!this.pty) throw new Error('server is not running');
    this.pty.write(frame + '\n');
  }

  async close(): Promise<void> {
    const pty = this.pty;
    this.pty = undefined;
    if (!pty) return;
    this.onclose = undefined;
    pty.kill();
  }
}
