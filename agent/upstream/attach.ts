/**
 * In-pod attach bridge (DESIGN §1): when the server container's command is not known (only its
 * image entrypoint), the webhook sets `stdin: true` on it and the agent attaches to its
 * stdin/stdout through the Kubernetes API: `GET /api/v1/namespaces/NS/pods/POD/attach?container=C&
 * stdin=true&stdout=true&stderr=true` upgraded to a WebSocket (`ws`).
 *
 * Channel protocol: every binary message starts with one channel byte — 0 stdin (agent → server),
 * 1 stdout, 2 stderr, 3 error (a JSON metav1.Status when the stream ends), and, in
 * `v5.channel.k8s.io` only, 255 = "close channel N" (agent → server, payload N) so stdin can be
 * half-closed. `v5.channel.k8s.io` is offered first and `v4.channel.k8s.io` second; the API server
 * picks. A proxy that refuses the handshake because it does not know v5 (HTTP 400) gets a second
 * attempt offering v4 alone.
 *
 * Connecting: start() retries with exponential backoff (the container may not be running yet,
 * the API server may be restarting) until `connectTimeoutMs`; 401/403 fail at once (RBAC:
 * the pod's service account needs `create` on `pods/attach`). Once connected, the end of the
 * stream (container exit, API server restart, network) is reported through `onclose`, and the
 * agent's upstream session opens a fresh AttachUpstream after its own backoff and re-initializes
 * the server. The container's stdin stays open across re-attaches (`stdinOnce: false`), so a
 * server that is still running is simply attached to again.
 *
 * Tested here against a WebSocket server implementing the v5/v4 channel framing; there is no
 * kubelet on the test machines.
 */
import type WebSocket from 'ws';

/** WebSocket.OPEN (`ws` itself loads with the first connection: only attach-mode agents use it). */
const OPEN = 1;
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import { parseServerFrame } from './frame-parser.js';
import { LineReader } from './line-reader.js';
import type { UpstreamTransport } from './transport.js';

export const V5 = 'v5.channel.k8s.io';
export const V4 = 'v4.channel.k8s.io';
export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, close: 255 } as const;

export interface AttachTarget {
  namespace: string;
  pod: string;
  container: string;
}

const DNS_LABELISH = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** Parses `namespace/pod/container` (the agent's --upstream-attach). */
export function parseAttachTarget(value: string): AttachTarget {
  const parts = value.split('/');
  if (parts.length !== 3 || !parts.every((p) => DNS_LABELISH.test(p))) {
    throw new Error(`--upstream-attach must be <namespace>/<pod>/<container>, got ${JSON.stringify(value)}`);
  }
  const [namespace, pod, container] = parts as [string, string, string];
  return { namespace, pod, container };
}

/** Where and how to reach the API server: its URL and per-connection TLS/auth options. */
export interface KubeConnection {
  server: string;
  /** Called for every connection attempt (service-account tokens rotate). */
  options: () => Promise<WebSocket.ClientOptions>;
}

let defaultConnection: Promise<KubeConnection> | undefined;

/**
 * The pod's own API access (in-cluster service account, or $KUBECONFIG when run elsewhere).
 * `@kubernetes/client-node` is loaded only here, so agents that never attach never pay for it.
 */
export function kubeConnection(): Promise<KubeConnection> {
  defaultConnection ??= (async () => {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    kc.loadFromDefault();
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('no Kubernetes cluster configured (not in a pod, and no kubeconfig)');
    return {
      server: cluster.server,
      options: async () => {
        const o: WebSocket.ClientOptions = {};
        await kc.applyToHTTPSOptions(o);
        return o;
      },
    };
  })();
  defaultConnection.catch(() => (defaultConnection = undefined));
  return defaultConnection;
}

export interface AttachUpstreamOptions extends AttachTarget {
  /** API server connection (default: kubeConnection()). */
  connection?: KubeConnection | (() => Promise<KubeConnection>);
  /** Subprotocols in order of preference (default v5, then v4). */
  protocols?: string[];
  /** Give up start() after this long (default 60 s). */
  connectTimeoutMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** WebSocket pings keep idle connections through proxies and load balancers (default 30 s). */
  pingIntervalMs?: number;
  /** Each line the server writes to stderr. */
  onStderrLine?: (line: string) => void;
  /** On close(), half-close the container's stdin first (v5 only; with stdinOnce the server then exits). */
  closeStdinOnClose?: boolean;
}

class FatalAttachError extends Error {}

export class AttachUpstream implements UpstreamTransport {
  readonly description: string;
  onmessage?: (message: JsonRpcMessage) => void;
  onclose?: (reason: string) => void;
  onerror?: (error: Error) => void;
  /** The subprotocol the API server chose. */
  protocol: string | undefined;
  /** Connection attempts made by start() (for tests and logs). */
  attempts = 0;
  private ws: WebSocket | undefined;
  private closed = false;
  private ended = false;
  private statusMessage = '';
  private pingTimer: NodeJS.Timeout | undefined;
  private cancelWait: (() => void) | undefined;

  constructor(private readonly options: AttachUpstreamOptions) {
    this.description = `attach: ${options.namespace}/${options.pod}/${options.container}`;
  }

  async start(): Promise<void> {
    const c = this.options.connection;
    const conn = typeof c === 'function' ? await c() : (c ?? (await kubeConnection()));
    const deadline = Date.now() + (this.options.connectTimeoutMs ?? 60_000);
    let delay = this.options.minBackoffMs ?? 200;
    let protocols = this.options.protocols ?? [V5, V4];
    let lastError = '';
    for (;;) {
      if (this.closed) throw new Error('transport closed');
      this.attempts++;
      try {
        const ws = await this.connect(conn, protocols);
        this.wire(ws);
        return;
      } catch (err) {
        if (err instanceof FatalAttachError) throw err;
        lastError = (err as Error).message;
        // A proxy that does not know v5 may refuse the whole handshake: try v4 alone next.
        if (/\b400\b/.test(lastError) && protocols.includes(V5) && protocols.includes(V4) && !/not running|not found|waiting/i.test(lastError)) {
          protocols = [V4];
          continue;
        }
      }
      if (Date.now() + delay > deadline) throw new Error(`cannot attach to ${this.description.slice(8)}: ${lastError}`);
      // Say why we wait, once at first and then every tenth attempt.
      if (this.attempts === 1 || this.attempts % 10 === 0) {
        this.onerror?.(new Error(`attach attempt ${this.attempts} to ${this.description.slice(8)} failed (${lastError}); retrying`));
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        this.cancelWait = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.cancelWait = undefined;
      delay = Math.min(delay * 2, this.options.maxBackoffMs ?? 5000);
    }
  }

  private async connect(conn: KubeConnection, protocols: string[]): Promise<WebSocket> {
    const { namespace, pod, container } = this.options;
    const base = conn.server.replace(/^http/, 'ws').replace(/\/$/, '');
    const url =
      `${base}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/attach` +
      `?container=${encodeURIComponent(container)}&stdin=true&stdout=true&stderr=true`;
    let credentials: WebSocket.ClientOptions;
    try {
      credentials = await conn.options();
    } catch (err) {
      // A configuration problem (kubeconfig, token file): retrying will not fix it.
      throw new FatalAttachError(`cannot use the Kubernetes credentials for ${conn.server}: ${(err as Error).message}`);
    }
    const options = { handshakeTimeout: 10_000, ...credentials };
    const { default: Socket } = await import('ws');
    return new Promise((resolve, reject) => {
      const ws = new Socket(url, protocols, options);
      const fail = (err: Error) => {
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
        reject(err);
      };
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body.length < 4096 ? (body += c) : undefined));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          let message = body.trim();
          try {
            message = (JSON.parse(body) as { message?: string }).message ?? message;
          } catch {
            /* not a Status */
          }
          const text = `HTTP ${status}${message ? `: ${message}` : ''}`;
          if (status === 401 || status === 403) {
            fail(new FatalAttachError(`attach to ${namespace}/${pod}/${container} refused (${text}); the pod's service account needs create on pods/attach`));
          } else {
            fail(new Error(text));
          }
        });
        res.on('error', (e) => fail(e));
      });
      ws.once('error', (err) => fail(err));
      ws.once('open', () => {
        ws.removeAllListeners('error');
        ws.removeAllListeners('unexpected-response');
        if (this.closed) {
          ws.terminate();
          reject(new Error('transport closed'));
          return;
        }
        resolve(ws);
      });
    });
  }

  private wire(ws: WebSocket): void {
    this.ws = ws;
    this.protocol = ws.protocol;
    const stdout = new LineReader((line) => parseServerFrame(line, this.onmessage, this.onerror));
    const onStderr = this.options.onStderrLine;
    const stderr = onStderr ? new LineReader(onStderr, 64 * 1024) : undefined;
    ws.on('message', (data: WebSocket.RawData) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (buf.length < 2) return; // empty per-channel frames mark stream start
      const payload = buf.subarray(1);
      switch (buf[0]) {
        case CHANNEL.stdout:
          stdout.push(payload);
          break;
        case CHANNEL.stderr:
          stderr?.push(payload);
          break;
        case CHANNEL.error:
          this.statusMessage += payload.toString('utf8');
          break;
        default:
          break;
      }
    });
    ws.on('error', (err) => this.onerror?.(new Error(`attach stream: ${err.message}`)));
    ws.on('close', (code, reason) => {
      clearInterval(this.pingTimer);
      if (this.ended) return;
      this.ended = true;
      this.ws = undefined;
      if (this.closed) return;
      this.onclose?.(`attach stream ended (${describeStatus(this.statusMessage) || `websocket close ${code}${reason.length ? ` ${reason.toString()}` : ''}`})`);
    });
    const interval = this.options.pingIntervalMs ?? 30_000;
    if (interval > 0) {
      this.pingTimer = setInterval(() => ws.readyState === OPEN && ws.ping(), interval);
      this.pingTimer.unref();
    }
  }

  send(frame: string): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN) throw new Error('attach stream is not connected');
    const len = Buffer.byteLength(frame);
    const buf = Buffer.allocUnsafe(len + 2);
    buf[0] = CHANNEL.stdin;
    buf.write(frame, 1, 'utf8');
    buf[len + 1] = 0x0a;
    ws.send(buf);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelWait?.();
    clearInterval(this.pingTimer);
    const ws = this.ws;
    this.ws = undefined;
    if (ws && ws.readyState === OPEN) {
      if (this.options.closeStdinOnClose && this.protocol === V5) ws.send(Buffer.from([CHANNEL.close, CHANNEL.stdin]));
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          ws.terminate();
          resolve();
        }, 1000);
        ws.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        ws.close(1000);
      });
    }
    this.ended = true;
    this.onclose?.('closed');
  }
}

function describeStatus(text: string): string {
  if (!text) return '';
  try {
    const s = JSON.parse(text) as { status?: string; message?: string; reason?: string };
    if (s.status === 'Success') return 'container exited';
    return [s.reason, s.message].filter(Boolean).join(': ') || text;
  } catch {
    return text.slice(0, 200);
  }
}
