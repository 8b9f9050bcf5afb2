// A WebSocket server speaking the API server's attach channel protocol (v5.channel.k8s.io /
// v4.channel.k8s.io) in front of a real stdio MCP server playing the container. The "container" is
// a child process that survives detach/re-attach, as a container with stdin: true and
// stdinOnce: false does. There is no kubelet on the test machines.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import WebSocket, { WebSocketServer } from 'ws';
import { V4, V5 } from '../attach.js';

const ECHO = fileURLToPath(new URL('./echo-server.mjs', import.meta.url));

export interface FakeApiOptions {
  /** Which subprotocols the server accepts, in its order of preference. */
  accept?: string[];
  /** Refuse a handshake that offers v5 with 400 (an old proxy). */
  refuseV5?: boolean;
  /** Answer the first N attach requests with this status and message. */
  failFirst?: { count: number; status: number; message: string };
}

export class FakeApiServer {
  readonly http: http.Server;
  private readonly wss: WebSocketServer;
  container: ChildProcess | undefined;
  requests: Array<{ url: string; protocols: string; auth: string | undefined }> = [];
  received: Buffer[] = [];
  sockets = new Set<WebSocket>();
  private failures = 0;

  constructor(private readonly o: FakeApiOptions = {}) {
    const accept = o.accept ?? [V5, V4];
    this.wss = new WebSocketServer({
      noServer: true,
      handleProtocols: (offered) => accept.find((p) => offered.has(p)) ?? false,
    });
    this.http = http.createServer((_req, res) => res.writeHead(404).end());
    this.http.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.http.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  /** The kubelet (re)starting the container. */
  startContainer(): ChildProcess {
    const child = spawn(process.execPath, [ECHO], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin!.on('error', () => {});
    this.container = child;
    child.stdout!.on('data', (d: Buffer) => this.broadcast(1, d));
    child.stderr!.on('data', (d: Buffer) => this.broadcast(2, d));
    child.on('exit', (code) => {
      if (this.container !== child) return;
      this.container = undefined;
      const status = code === 0 ? { status: 'Success' } : { status: 'Failure', reason: 'NonZeroExitCode', message: `command terminated with non-zero exit code: ${code}` };
      for (const ws of this.sockets) {
        ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify({ metadata: {}, ...status }))]));
        ws.close(1000);
      }
    });
    return child;
  }

  private broadcast(channel: number, data: Buffer): void {
    for (const ws of this.sockets) ws.send(Buffer.concat([Buffer.from([channel]), data]));
  }

  private reject(socket: Duplex, status: number, message: string): void {
    const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code: status });
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }

  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const protocols = String(req.headers['sec-websocket-protocol'] ?? '');
    this.requests.push({ url: req.url ?? '', protocols, auth: req.headers.authorization });
    if (this.o.refuseV5 && protocols.includes(V5)) return this.reject(socket, 400, 'unknown subprotocol v5.channel.k8s.io');
    if (this.o.failFirst && this.failures < this.o.failFirst.count) {
      this.failures++;
      return this.reject(socket, this.o.failFirst.status, this.o.failFirst.message);
    }
    if (!this.container) return this.reject(socket, 400, 'container mcp is not running');
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.sockets.add(ws);
      ws.send(Buffer.from([1])); // empty stdout frame, as the API server sends on stream start
      ws.on('message', (data: Buffer) => {
        this.received.push(data);
        if (data[0] === 0) this.container?.stdin!.write(data.subarray(1));
        else if (ws.protocol === V5 && data[0] === 255 && data[1] === 0) this.container?.stdin!.end();
      });
      ws.on('close', () => this.sockets.delete(ws));
    });
  }

  /** The API server going away: every attach stream drops, the container keeps running. */
  dropStreams(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  async close(): Promise<void> {
    this.dropStreams();
    this.container?.kill('SIGKILL');
    this.wss.close();
    await new Promise<void>((r) => this.http.close(() => r()));
  }
}

