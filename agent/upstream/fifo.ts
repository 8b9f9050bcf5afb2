/**
 * In-pod FIFO bridge (DESIGN §1): the MCP server runs in its own container under
 * `busybox sh -c 'exec "$0" "$@" <DIR/in >DIR/out' <command> <args…>`, and the agent, in the
 * sidecar, writes `DIR/in` and reads `DIR/out` (a shared emptyDir). Bytes never leave the pod.
 *
 * Opening order and why nothing blocks a thread:
 * 1. `out` is opened O_RDONLY|O_NONBLOCK: that never blocks, and on Linux a FIFO read end opened
 *    before any writer reports neither data nor EOF until a writer has come (and, for EOF, gone),
 *    so the agent can wait for the server without polling the read side.
 * 2. `in` is opened O_WRONLY|O_NONBLOCK, which fails with ENXIO until a reader exists: that is
 *    retried every `pollIntervalMs` until the server's shell blocks in `open(in)`. The shell then
 *    opens `out` for writing, which succeeds at once because step 1 left a reader there.
 * Both fds are handed to libuv as pipes (net.Socket), so reads and writes are event-driven.
 *
 * Restarts:
 * - server exits (crash, or restarted by the kubelet): its end of `out` closes, the agent reads
 *   EOF, this transport reports `onclose`, and the agent's upstream session creates a fresh
 *   FifoUpstream after its backoff — which opens both FIFOs again, waits for the new server and
 *   re-initializes it. Requests in flight at that moment fail with "server restarted".
 * - agent exits: the server reads EOF on stdin and, like any MCP stdio server whose client closed
 *   its input, exits; the kubelet restarts its container (restartPolicy Always), and the new
 *   agent meets the new server as above. A server that ignores EOF on stdin is not supported.
 *
 * FIFOs are normally created by the pod's init container; when missing (local runs, tests) this
 * transport creates them with the `mkfifo` command (coreutils or busybox: Node has no mkfifo).
 */
import { spawn } from 'node:child_process';
import { constants as fsc, close as closeFd, open as openCb } from 'node:fs';
import { lstat } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import { parseServerFrame } from './frame-parser.js';
import { LineReader } from './line-reader.js';
import type { UpstreamTransport } from './transport.js';

/** A plain numeric fd (a FileHandle would close it when garbage-collected, under the socket). */
function openFd(file: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => openCb(file, flags, (err, fd) => (err ? reject(err) : resolve(fd))));
}

export interface FifoUpstreamOptions {
  /** Directory holding the FIFOs `in` (server's stdin) and `out` (server's stdout). */
  dir: string;
  /** How often to retry opening `in` while the server has not opened it yet (default 25 ms). */
  pollIntervalMs?: number;
  /** Reject start() when the server has not opened its end by then (default: wait until close()). */
  openTimeoutMs?: number;
  /** Called once when start() has waited `waitingNoticeMs` (default 10 s) for the server. */
  onWaiting?: (ms: number) => void;
  waitingNoticeMs?: number;
  /** mkfifo command to create missing FIFOs (default `mkfifo`, then `busybox mkfifo`). */
  mkfifo?: string[];
}

/** Creates the FIFO at `file` unless it exists; refuses a non-FIFO in the way. */
export async function ensureFifo(file: string, mkfifo?: string[]): Promise<void> {
  try {
    const st = await lstat(file);
    if (st.isFIFO()) return;
    throw new Error(`${file} exists but is not a FIFO`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const candidates = mkfifo ? [mkfifo] : [['mkfifo'], ['busybox', 'mkfifo']];
  let last = '';
  for (const [cmd, ...pre] of candidates) {
    const result = await new Promise<{ code: number | null; err?: string }>((resolve) => {
      const child = spawn(cmd!, [...pre, '-m', '666', file], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', (e) => resolve({ code: -1, err: e.message }));
      child.on('close', (code) => resolve({ code, err: stderr.trim() }));
    });
    if (result.code === 0) return;
    // Lost a race with the other side creating it: fine if it is a FIFO now.
    if ((await lstat(file).catch(() => undefined))?.isFIFO()) return;
    last = `${[cmd, ...pre].join(' ')}: ${result.err || `exit ${result.code}`}`;
  }
  throw new Error(`cannot create FIFO ${file} (${last})`);
}

export class FifoUpstream implements UpstreamTransport {
  readonly description: string;
  onmessage?: (message: JsonRpcMessage) => void;
  onclose?: (reason: string) => void;
  onerror?: (error: Error) => void;
  private input: net.Socket | undefined;
  private output: net.Socket | undefined;
  private closed = false;
  private ended = false;
  private cancelWait: (() => void) | undefined;

  constructor(private readonly options: FifoUpstreamOptions) {
    this.description = `fifo: ${options.dir}/{in,out}`;
  }

  async start(): Promise<void> {
    const inPath = path.join(this.options.dir, 'in');
    const outPath = path.join(this.options.dir, 'out');
    await ensureFifo(inPath, this.options.mkfifo);
    await ensureFifo(outPath, this.options.mkfifo);
    if (this.closed) throw new Error('transport closed');

    const outFd = await openFd(outPath, fsc.O_RDONLY | fsc.O_NONBLOCK);
    const output = new net.Socket({ fd: outFd, readable: true, writable: false });
    this.output = output;
    const reader = new LineReader(
      (line) => parseServerFrame(line, this.onmessage, this.onerror),
      undefined,
      (bytes) => this.onerror?.(new Error(`server wrote a ${bytes}-byte line without a newline (dropped)`)),
    );
    output.on('data', (chunk: Buffer) => reader.push(chunk));
    output.on('end', () => this.gone('server closed its stdout (EOF on the FIFO)'));
    output.on('error', (err) => this.gone(`reading the FIFO failed: ${err.message}`));

    let inFd: number;
    try {
      inFd = await this.openWriterWhenServerListens(inPath);
    } catch (err) {
      output.destroy();
      this.output = undefined;
      throw err;
    }
    const input = new net.Socket({ fd: inFd, readable: false, writable: true });
    this.input = input;
    // EPIPE: the server went away; the EOF on `out` reports it.
    input.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'EPIPE') this.onerror?.(new Error(`writing the FIFO failed: ${err.message}`));
    });
  }

  private openWriterWhenServerListens(file: string) {
    const interval = this.options.pollIntervalMs ?? 25;
    const started = Date.now();
    const notice = this.options.waitingNoticeMs ?? 10_000;
    let noticed = false;
    return new Promise<number>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      this.cancelWait = () => {
        clearTimeout(timer);
        reject(new Error('transport closed while waiting for the server'));
      };
      const attempt = () => {
        openFd(file, fsc.O_WRONLY | fsc.O_NONBLOCK).then(
          (fd) => {
            this.cancelWait = undefined;
            if (this.closed) {
              closeFd(fd, () => {});
              reject(new Error('transport closed while waiting for the server'));
            } else {
              resolve(fd);
            }
          },
          (err: NodeJS.ErrnoException) => {
            if (this.closed) return;
            if (err.code !== 'ENXIO') {
              this.cancelWait = undefined;
              reject(new Error(`cannot open ${file}: ${err.message}`));
              return;
            }
            const waited = Date.now() - started;
            if (!noticed && waited >= notice) {
              noticed = true;
              this.options.onWaiting?.(waited);
            }
            if (this.options.openTimeoutMs !== undefined && waited >= this.options.openTimeoutMs) {
              this.cancelWait = undefined;
              reject(new Error(`the MCP server did not open ${file} within ${this.options.openTimeoutMs} ms (is its command wrapped?)`));
              return;
            }
            timer = setTimeout(attempt, interval);
          },
        );
      };
      attempt();
    });
  }

  private gone(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.input?.destroy();
    this.output?.destroy();
    this.input = undefined;
    this.output = undefined;
    if (!this.closed) this.onclose?.(reason);
  }

  send(frame: string): void {
    const input = this.input;
    if (!input || input.destroyed) throw new Error('server is not connected');
    input.write(frame + '\n');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelWait?.();
    const input = this.input;
    // End our write side first so the server sees EOF after the last frame; then drop the reader.
    if (input && !input.destroyed) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 1000); // a server that stopped reading must not hold us up
        input.end(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    this.ended = true;
    this.input?.destroy();
    this.output?.destroy();
    this.input = undefined;
    this.output = undefined;
    this.onclose?.('closed');
  }
}
