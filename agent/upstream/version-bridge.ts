/**
 * The version bridge on the upstream side. The multiplexer (UpstreamSession) speaks the 2025
 * session protocol to its server; this transport sits between them and finds out, at every
 * (re)start, what the server speaks:
 *
 * - It answers the multiplexer's `initialize` by probing with `server/discover` (the stdio
 *   backward-compatibility probe of 2026-07-28). A DiscoverResult offering 2026-07-28 → modern;
 *   any error or silence → legacy, and the held `initialize` goes to the server unchanged (from
 *   then on frames pass through untouched).
 * - Modern: the `initialize` result is synthesized from the DiscoverResult; every request gets the
 *   `_meta` envelope (unless a 2026-07-28 client already sent its own, which passes through with
 *   its input-required results); an input-required result for a 2025-era client becomes real
 *   server→client requests (routed to the client whose call it is), whose answers go back in a
 *   retry with `inputResponses` and the echoed `requestState`; list-changed and resource updates
 *   come from one upstream `subscriptions/listen`; ping, logging/setLevel and resource
 *   subscriptions — removed in 2026-07-28 — are the bridge's own.
 */
import type { Logger } from 'pino';
import { ErrorCode, type JsonRpcId, type JsonRpcMessage, type JsonRpcNotification, type JsonRpcRequest, type JsonRpcResponse } from '../protocol/jsonrpc.js';
import { RELATED_REQUEST, type UpstreamTransport } from './transport.js';
import {
  LATEST_MODERN_PROTOCOL_VERSION,
  META_CLIENT_CAPABILITIES,
  META_CLIENT_INFO,
  META_LOG_LEVEL,
  META_PROTOCOL_VERSION,
  META_SERVER_INFO,
  META_SUBSCRIPTION_ID,
} from '../protocol/modern/meta.js';

export type UpstreamEra = 'probing' | 'legacy' | 'modern';

export interface VersionBridgeOptions {
  logger: Logger;
  /** Who the agent says it is, and what it can route to some client (the envelope for 2025-era clients). */
  clientInfo: { name: string; version: string };
  capabilities: Record<string, unknown>;
  /** How long a silent server gets before it is taken as 2025-era. */
  probeTimeoutMs: number;
  /** `auto` probes; `legacy` / `modern` skip the probe (a server known to misbehave on it). */
  mode?: 'auto' | 'legacy' | 'modern';
  /** Rounds of input-required per call before the bridge gives up. */
  maxInputRounds?: number;
  onEra?: (era: UpstreamEra, detail: string) => void;
}

interface BridgedCall {
  /** The multiplexer's id for the call. */
  id: JsonRpcId;
  wireId: JsonRpcId;
  method: string;
  params: Record<string, unknown>;
  /** A 2026-07-28 client sent its own envelope: its input-required results pass through. */
  passthrough: boolean;
  rounds: number;
  inputs: Map<string, string>;
  responses: Record<string, unknown>;
  requestState: string | undefined;
}

const DISCOVER_ID = 'ome-bridge-discover';
const LISTEN_PREFIX = 'ome-bridge-listen-';

export class VersionBridgeTransport implements UpstreamTransport {
  era: UpstreamEra = 'probing';
  onmessage?: (message: JsonRpcMessage, raw?: string) => void;
  onclose?: (reason: string) => void;
  onerror?: (error: Error) => void;

  private heldInitialize: JsonRpcRequest | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private serverCapabilities: Record<string, unknown> = {};
  private readonly calls = new Map<string, BridgedCall>();
  /** Synthesized server→client request id → [call wire key, input key]. */
  private readonly inputRequests = new Map<string, [string, string]>();
  private seq = 0;
  private logLevel: string | undefined;
  private readonly resourceUris = new Set<string>();
  private listenId: string | undefined;

  constructor(
    private readonly inner: UpstreamTransport,
    private readonly options: VersionBridgeOptions,
  ) {}

  get description(): string {
    return `${this.inner.description} [${this.era === 'modern' ? 'MCP 2026-07-28, bridged' : this.era === 'legacy' ? 'MCP 2025 session' : 'probing'}]`;
  }

  async start(): Promise<void> {
    this.inner.onmessage = (m, raw) => this.fromServer(m, raw);
    this.inner.onclose = (reason) => {
      clearTimeout(this.probeTimer);
      this.onclose?.(reason);
    };
    this.inner.onerror = (e) => this.onerror?.(e);
    if (this.options.mode === 'legacy') this.setEra('legacy', 'configured');
    await this.inner.start();
  }

  close(): Promise<void> {
    clearTimeout(this.probeTimer);
    return this.inner.close();
  }

  send(frame: string): void {
    if (this.era === 'legacy') {
      this.inner.send(frame);
      return;
    }
    const message = JSON.parse(frame) as JsonRpcMessage;
    if (this.era === 'probing') {
      const m = message as JsonRpcRequest;
      if (m.method === 'initialize' && m.id !== undefined) {
        this.probe(m);
        return;
      }
      this.inner.send(frame); // nothing else is sent before initialize is answered
      return;
    }
    this.toModernServer(message);
  }

  // ---- detection ----------------------------------------------------------------------

  private probe(initialize: JsonRpcRequest): void {
    this.heldInitialize = initialize;
    if (this.options.mode === 'modern') {
      this.sendDiscover();
      return;
    }
    this.probeTimer = setTimeout(() => this.fallBack('no answer to server/discover'), this.options.probeTimeoutMs);
    this.sendDiscover();
  }

  private sendDiscover(): void {
    this.write({ jsonrpc: '2.0', id: DISCOVER_ID, method: 'server/discover', params: { _meta: this.envelope() } });
  }

  private onDiscover(response: JsonRpcResponse): void {
    clearTimeout(this.probeTimer);
    const result = (response as { result?: Record<string, unknown> }).result;
    const versions = result?.supportedVersions;
    if (!Array.isArray(versions) || !versions.includes(LATEST_MODERN_PROTOCOL_VERSION)) {
      const why = 'error' in response ? `server/discover answered with error ${response.error.code}` : 'server/discover offered no 2026-07-28';
      this.fallBack(why);
      return;
    }
    const meta = (result!._meta ?? {}) as Record<string, unknown>;
    this.serverCapabilities = (result!.capabilities ?? {}) as Record<string, unknown>;
    const initializeResult: Record<string, unknown> = {
      protocolVersion: LATEST_MODERN_PROTOCOL_VERSION,
      capabilities: this.serverCapabilities,
      serverInfo: meta[META_SERVER_INFO] ?? { name: 'server', version: '0' },
    };
    if (typeof result!.instructions === 'string') initializeResult.instructions = result!.instructions;
    this.setEra('modern', `server/discover offered ${versions.join(', ')}`);
    const held = this.heldInitialize!;
    this.heldInitialize = undefined;
    this.deliver({ jsonrpc: '2.0', id: held.id, result: initializeResult });
    this.openListen();
  }

  private fallBack(reason: string): void {
    if (this.era !== 'probing') return;
    this.setEra('legacy', reason);
    const held = this.heldInitialize;
    this.heldInitialize = undefined;
    if (held) this.inner.send(JSON.stringify(held));
  }

  private setEra(era: UpstreamEra, detail: string): void {
    this.era = era;
    this.options.logger.info({ era, detail, upstream: this.inner.description }, era === 'modern' ? 'MCP server speaks 2026-07-28; bridging for session clients' : 'MCP server speaks the 2025 session protocol');
    this.options.onEra?.(era, detail);
  }

  // ---- agent → modern server ------------------------------------------------------------

  private toModernServer(message: JsonRpcMessage): void {
    const m = message as JsonRpcRequest & JsonRpcResponse;
    if (m.method === undefined) {
      this.onInputAnswer(m);
      return;
    }
    if (m.id === undefined) {
      this.notificationToServer(m as JsonRpcNotification);
      return;
    }
    // The multiplexer's own requests for the locally answered methods (protocol/local-methods.ts),
    // which a 2026-07-28 server no longer has: the bridge stands in for them.
    switch (m.method) {
      case 'ping':
        this.deliver({ jsonrpc: '2.0', id: m.id, result: {} });
        return;
      case 'logging/setLevel':
        this.logLevel = typeof m.params?.level === 'string' ? m.params.level : undefined;
        this.deliver({ jsonrpc: '2.0', id: m.id, result: {} });
        return;
      case 'resources/subscribe':
      case 'resources/unsubscribe': {
        const uri = m.params?.uri;
        if (typeof uri === 'string') {
          if (m.method === 'resources/subscribe') this.resourceUris.add(uri);
          else this.resourceUris.delete(uri);
          this.openListen();
        }
        this.deliver({ jsonrpc: '2.0', id: m.id, result: {} });
        return;
      }
    }
    const params = (m.params ?? {}) as Record<string, unknown>;
    const meta = (params._meta ?? {}) as Record<string, unknown>;
    const passthrough = meta[META_PROTOCOL_VERSION] !== undefined;
    if (!passthrough) params._meta = { ...meta, ...this.envelope() };
    m.params = params;
    const call: BridgedCall = { id: m.id, wireId: m.id, method: m.method, params, passthrough, rounds: 0, inputs: new Map(), responses: {}, requestState: undefined };
    this.calls.set(String(m.id), call);
    this.write(m);
  }

  private notificationToServer(n: JsonRpcNotification): void {
    switch (n.method) {
      case 'notifications/initialized':
      case 'notifications/roots/list_changed':
        return; // no handshake, and roots are asked per request in 2026-07-28
      case 'notifications/cancelled': {
        const call = this.calls.get(String(n.params?.requestId));
        if (!call) return;
        this.forget(call);
        this.write({ ...n, params: { ...n.params, requestId: call.wireId } });
        return;
      }
      default:
        this.write(n);
    }
  }

  /** The client answered one of the server→client requests the bridge made from an input-required result. */
  private onInputAnswer(response: JsonRpcResponse): void {
    const key = String(response.id);
    const entry = this.inputRequests.get(key);
    if (!entry) return;
    this.inputRequests.delete(key);
    const call = this.calls.get(entry[0]);
    if (!call) return;
    call.inputs.delete(key);
    if ('error' in response) {
      this.forget(call);
      this.write({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: call.wireId, reason: 'input request failed' } });
      this.deliver({ jsonrpc: '2.0', id: call.id, error: { code: response.error.code, message: `the client could not answer ${entry[1]}: ${response.error.message}` } });
      return;
    }
    call.responses[entry[1]] = response.result;
    if (call.inputs.size === 0) this.retry(call);
  }

  private retry(call: BridgedCall): void {
    this.calls.delete(String(call.wireId));
    call.wireId = `${String(call.id)}~${++this.seq}`; // a retry is a new request with a new id
    this.calls.set(String(call.wireId), call);
    const params: Record<string, unknown> = { ...call.params, inputResponses: call.responses };
    if (call.requestState !== undefined) params.requestState = call.requestState;
    call.responses = {};
    this.write({ jsonrpc: '2.0', id: call.wireId, method: call.method, params });
  }

  // ---- modern server → agent ------------------------------------------------------------

  private fromServer(message: JsonRpcMessage, raw?: string): void {
    if (this.era === 'legacy') {
      this.onmessage?.(message, raw);
      return;
    }
    const m = message as JsonRpcRequest & JsonRpcResponse;
    if (m.method === undefined) {
      if (m.id === DISCOVER_ID) {
        if (this.era === 'probing') this.onDiscover(m);
        return;
      }
      if (typeof m.id === 'string' && m.id.startsWith(LISTEN_PREFIX)) {
        if (m.id === this.listenId) this.listenId = undefined; // the server ended it (shutdown)
        return;
      }
      this.responseFromServer(m);
      return;
    }
    if (this.era === 'probing') return; // a modern server says nothing before it is asked
    if (m.id === undefined) {
      const n = m as JsonRpcNotification;
      if (n.method === 'notifications/subscriptions/acknowledged') return;
      if (n.method === 'notifications/cancelled' && typeof n.params?.requestId === 'string' && n.params.requestId.startsWith(LISTEN_PREFIX)) {
        if (n.params.requestId === this.listenId) {
          this.listenId = undefined;
          this.openListen();
        }
        return;
      }
      const meta = n.params?._meta as Record<string, unknown> | undefined;
      if (meta && META_SUBSCRIPTION_ID in meta) {
        delete meta[META_SUBSCRIPTION_ID];
        if (Object.keys(meta).length === 0) delete n.params!._meta;
      }
      this.onmessage?.(n);
      return;
    }
    this.onmessage?.(m); // a server request (not expected from a 2026-07-28 server): pass it on
  }

  private responseFromServer(response: JsonRpcResponse): void {
    const call = this.calls.get(String(response.id));
    if (!call) return;
    const result = (response as { result?: Record<string, unknown> }).result;
    if (result?.resultType === 'input_required' && !call.passthrough) {
      this.askClient(call, result);
      return;
    }
    this.forget(call);
    response.id = call.id;
    this.onmessage?.(response);
  }

  /** An input-required result for a 2025-era client: real server→client requests, then a retry. */
  private askClient(call: BridgedCall, result: Record<string, unknown>): void {
    const max = this.options.maxInputRounds ?? 8;
    if (++call.rounds > max) {
      this.forget(call);
      this.deliver({ jsonrpc: '2.0', id: call.id, error: { code: ErrorCode.InternalError, message: `the server asked for input ${max} times without completing ${call.method}` } });
      return;
    }
    call.requestState = typeof result.requestState === 'string' ? result.requestState : undefined;
    const requests = (result.inputRequests ?? {}) as Record<string, { method?: unknown; params?: unknown }>;
    const keys = Object.keys(requests);
    if (keys.length === 0) {
      setTimeout(() => this.calls.has(String(call.wireId)) && this.retry(call), 50); // requestState-only: retry soon
      return;
    }
    for (const key of keys) {
      const request = requests[key]!;
      const id = `ome-input-${++this.seq}`;
      this.inputRequests.set(id, [String(call.wireId), key]);
      call.inputs.set(id, key);
      const serverRequest: JsonRpcRequest = { jsonrpc: '2.0', id, method: String(request.method), params: (request.params ?? {}) as Record<string, unknown> };
      // Invisible on the wire: tells the multiplexer which client call this input belongs to.
      (serverRequest as unknown as Record<symbol, unknown>)[RELATED_REQUEST] = call.id;
      this.onmessage?.(serverRequest);
    }
  }

  private forget(call: BridgedCall): void {
    this.calls.delete(String(call.wireId));
    for (const id of call.inputs.keys()) this.inputRequests.delete(id);
  }

  // ---- subscriptions ----------------------------------------------------------------------

  /** One upstream listen for everything the server can announce; reopened when resource subscriptions change. */
  private openListen(): void {
    const caps = this.serverCapabilities as Record<string, { listChanged?: boolean; subscribe?: boolean } | undefined>;
    const notifications: Record<string, unknown> = {};
    if (caps.tools?.listChanged) notifications.toolsListChanged = true;
    if (caps.prompts?.listChanged) notifications.promptsListChanged = true;
    if (caps.resources?.listChanged) notifications.resourcesListChanged = true;
    if (caps.resources?.subscribe && this.resourceUris.size > 0) notifications.resourceSubscriptions = [...this.resourceUris];
    const previous = this.listenId;
    if (Object.keys(notifications).length > 0) {
      this.listenId = `${LISTEN_PREFIX}${++this.seq}`;
      this.write({ jsonrpc: '2.0', id: this.listenId, method: 'subscriptions/listen', params: { _meta: this.envelope(), notifications } });
    } else {
      this.listenId = undefined;
    }
    if (previous !== undefined) this.write({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: previous, reason: 'subscriptions changed' } });
  }

  // ---- plumbing -------------------------------------------------------------------------------

  private envelope(): Record<string, unknown> {
    const meta: Record<string, unknown> = {
      [META_PROTOCOL_VERSION]: LATEST_MODERN_PROTOCOL_VERSION,
      [META_CLIENT_INFO]: this.options.clientInfo,
      [META_CLIENT_CAPABILITIES]: this.options.capabilities,
    };
    if (this.logLevel !== undefined) meta[META_LOG_LEVEL] = this.logLevel;
    return meta;
  }

  private write(message: JsonRpcMessage): void {
    this.inner.send(JSON.stringify(message));
  }

  private deliver(message: JsonRpcMessage): void {
    queueMicrotask(() => this.onmessage?.(message));
  }
}
