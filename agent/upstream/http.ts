import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { asJsonRpcMessage, ErrorCode, errorResponse, type JsonRpcId, type JsonRpcMessage } from '../protocol/jsonrpc.js';
import type { UpstreamTransport } from './transport.js';

export interface HttpUpstreamOptions {
  url: string;
  transport: 'auto' | 'streamable-http' | 'sse';
  /** Extra headers for every upstream request (e.g. a static credential for a remote server). */
  headers?: Record<string, string>;
  /**
   * Bearer tokens on demand, made at each connect: the SDK's auth flow runs the provider when the
   * server answers 401 (RFC 9728 discovery, then the grant).
   */
  authProvider?: () => Promise<OAuthClientProvider>;
}

/**
 * An MCP server reachable over HTTP (a local sidecar or a remote URL). The SDK's client
 * transports do the protocol work here: the upstream leg is one session, so their per-call
 * cost matters far less than on the many-client downstream side. `auto` tries streamable HTTP
 * and falls back to the legacy SSE transport when the server answers the first POST with
 * 400/404/405, as the specification's backwards-compatibility section describes.
 */
export class HttpUpstream implements UpstreamTransport {
  readonly description: string;
  onmessage?: (message: JsonRpcMessage) => void;
  onclose?: (reason: string) => void;
  onerror?: (error: Error) => void;
  private inner: Transport | undefined;
  private kind: 'streamable-http' | 'sse';
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: HttpUpstreamOptions) {
    this.kind = options.transport === 'sse' ? 'sse' : 'streamable-http';
    this.description = `http: ${options.url}`;
  }

  async start(): Promise<void> {
    await this.open(this.kind);
  }

  /** The SDK's client transports (and zod under them) load only for HTTP upstreams: stdio agents start faster. */
  private static sdk = () =>
    Promise.all([import('@modelcontextprotocol/sdk/client/sse.js'), import('@modelcontextprotocol/sdk/client/streamableHttp.js')]).then(
      ([sse, streamable]) => ({ ...sse, ...streamable }),
    );

  send(frame: string): void {
    const message = JSON.parse(frame) as JSONRPCMessage;
    // Keep order: a streamable HTTP POST per message, but sequenced as stdio would be.
    this.queue = this.queue
      .then(() => this.deliver(message, frame))
      .catch(async (err: Error) => {
        this.onerror?.(err);
        // A request whose POST failed gets its answer now, not at the request timeout.
        const { id, method } = message as { id?: JsonRpcId; method?: string };
        if (id !== undefined && method !== undefined) this.onmessage?.(errorResponse(id, ErrorCode.InternalError, `the MCP server could not be reached: ${err.message}`));
        const lost = await this.lostBy(err);
        if (lost) this.drop(lost);
      });
  }

  async close(): Promise<void> {
    const inner = this.inner;
    this.inner = undefined;
    await inner?.close();
  }

  /**
   * Whether a failed POST means the session is gone — no server answers (a connection error), or
   * it no longer knows the session (404 to a request that carried one: a restarted server) — and
   * why. Then the transport closes, so its UpstreamSession re-initializes with backoff, and until
   * then it is down (/readyz, an aggregate's fail mode) instead of failing every call while "up".
   */
  private async lostBy(err: Error): Promise<string | undefined> {
    if (err instanceof TypeError) return `the MCP server could not be reached (${(err.cause as Error | undefined)?.message ?? err.message})`;
    const { StreamableHTTPError } = await HttpUpstream.sdk();
    const session = (this.inner as { sessionId?: string } | undefined)?.sessionId;
    if (err instanceof StreamableHTTPError && err.code === 404 && session) return 'the MCP server no longer knows the session (HTTP 404)';
    return undefined;
  }

  private drop(reason: string): void {
    const inner = this.inner;
    if (!inner) return;
    this.inner = undefined;
    inner.onclose = undefined;
    void inner.close().catch(() => {});
    this.onclose?.(reason);
  }

  private async deliver(message: JSONRPCMessage, frame: string): Promise<void> {
    const inner = this.inner;
    if (!inner) throw new Error('upstream is closed');
    try {
      await inner.send(message);
    } catch (err) {
      const { StreamableHTTPError } = await HttpUpstream.sdk();
      const fallback =
        this.options.transport === 'auto' &&
        this.kind === 'streamable-http' &&
        (message as { method?: string }).method === 'initialize' &&
        err instanceof StreamableHTTPError &&
        (err.code === 400 || err.code === 404 || err.code === 405);
      if (!fallback) throw err;
      this.onerror?.(new Error(`streamable HTTP refused (${err.code}); falling back to SSE`));
      inner.onclose = undefined;
      await inner.close();
      await this.open('sse');
      await this.inner!.send(JSON.parse(frame) as JSONRPCMessage);
    }
  }

  private async open(kind: 'streamable-http' | 'sse'): Promise<void> {
    this.kind = kind;
    const url = new URL(this.options.url);
    const requestInit = this.options.headers ? { headers: this.options.headers } : undefined;
    const authProvider = await this.options.authProvider?.();
    const { SSEClientTransport, StreamableHTTPClientTransport } = await HttpUpstream.sdk();
    const inner: Transport =
      kind === 'sse' ? new SSEClientTransport(url, { requestInit, authProvider }) : new StreamableHTTPClientTransport(url, { requestInit, authProvider });
    inner.onmessage = (m) => {
      const message = asJsonRpcMessage(m);
      if (typeof message === 'string') this.onerror?.(new Error(`upstream sent an invalid message: ${message}`));
      else {
        const result = (message as { result?: { protocolVersion?: unknown } }).result;
        if (typeof result?.protocolVersion === 'string') inner.setProtocolVersion?.(result.protocolVersion);
        this.onmessage?.(message);
      }
    };
    inner.onerror = (e) => this.onerror?.(e);
    inner.onclose = () => {
      if (this.inner === inner) {
        this.inner = undefined;
        this.onclose?.('upstream HTTP connection closed');
      }
    };
    this.inner = inner;
    await inner.start();
  }
}
