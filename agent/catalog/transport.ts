// The catalog on the data path: an UpstreamTransport in front of the server's own transport (or of
// none, --catalog-only). The agent's UpstreamSession talks to it as to one server, so declared
// tools pass the same policy (Cedar, filters, limits, approval, audit), the same timeouts and
// cancellation, and reach every downstream transport and both protocol revisions, like the
// server's own. It answers what the catalog declares, merges its lists into the server's (a
// declared name wins), adds the capabilities, and turns catalog changes into list_changed and
// resources/updated notifications.
import type { Logger } from 'pino';
import { ErrorCode, errorResponse, type JsonRpcId, type JsonRpcMessage } from '../protocol/jsonrpc.js';
import { LATEST_SESSION_PROTOCOL_VERSION } from '../protocol/versions.js';
import type { UpstreamTransport } from '../upstream/transport.js';
import type { Catalog, CatalogChange } from './catalog.js';
import { ResultCache } from './result-cache.js';
import { toolError, type DeclaredTool } from './tools.js';

type Message = { jsonrpc: '2.0'; id?: JsonRpcId; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { code: number; message: string } };

/** The list methods and where their items live. */
const LISTS: Record<string, { key: string; kind: 'tools' | 'prompts' | 'resources' }> = {
  'tools/list': { key: 'tools', kind: 'tools' },
  'prompts/list': { key: 'prompts', kind: 'prompts' },
  'resources/list': { key: 'resources', kind: 'resources' },
  'resources/templates/list': { key: 'resourceTemplates', kind: 'resources' },
};

export class CatalogTransport implements UpstreamTransport {
  onmessage?: (message: JsonRpcMessage, raw?: string) => void;
  onclose?: (reason: string) => void;
  onerror?: (error: Error) => void;

  /** Our requests to the server whose answers we complete: id → method. */
  private readonly completing = new Map<JsonRpcId, string>();
  /** Declared calls in flight, for cancellation. */
  private readonly calls = new Map<JsonRpcId, AbortController>();
  private initialized = false;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly catalog: Catalog,
    private readonly inner: UpstreamTransport | undefined,
    private readonly logger: Logger,
    private readonly serverInfo: { name: string; version: string },
  ) {}

  get description(): string {
    if (!this.inner) return 'catalog only';
    return this.catalog.kinds.size ? `${this.inner.description} + catalog` : this.inner.description;
  }

  async start(): Promise<void> {
    this.unsubscribe = this.catalog.onChange((c) => this.changed(c));
    if (!this.inner) return;
    this.inner.onmessage = (m, raw) => this.fromServer(m as Message, raw);
    this.inner.onclose = (reason) => this.onclose?.(reason);
    this.inner.onerror = (err) => this.onerror?.(err);
    await this.inner.start();
  }

  send(frame: string, caller?: string): void {
    // An agent whose config declares no catalog passes the server's traffic untouched (no parse).
    if (this.inner && this.initialized && this.catalog.kinds.size === 0) return this.inner.send(frame, caller);
    const m = JSON.parse(frame) as Message;
    if (m.method === undefined || m.id === undefined) {
      if (m.method === 'notifications/cancelled') {
        const call = this.calls.get(m.params?.requestId as JsonRpcId);
        if (call) {
          this.calls.delete(m.params!.requestId as JsonRpcId);
          call.abort();
          return;
        }
      }
      this.inner?.send(frame, caller);
      return;
    }
    if (!this.answers(m, caller)) this.forward(m, frame, caller);
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    for (const c of this.calls.values()) c.abort();
    this.calls.clear();
    await this.inner?.close();
  }

  // ---- requests -----------------------------------------------------------------------------

  /** True when the catalog answers the request itself. */
  private answers(m: Message, caller: string | undefined): boolean {
    const id = m.id!;
    const params = m.params ?? {};
    switch (m.method) {
      case 'initialize':
        if (this.inner) return false;
        this.initialized = true;
        this.reply(id, {
          protocolVersion: typeof params.protocolVersion === 'string' ? params.protocolVersion : LATEST_SESSION_PROTOCOL_VERSION,
          capabilities: this.withCatalogCapabilities({ logging: {}, completions: {} }),
          serverInfo: this.serverInfo,
        });
        return true;
      case 'tools/call': {
        const tool = this.catalog.tools.get(params.name as string);
        if (!tool) return false;
        void this.callTool(id, tool, params.arguments, caller);
        return true;
      }
      case 'prompts/get': {
        const prompt = this.catalog.prompts.get(params.name as string);
        if (!prompt) return false;
        const r = prompt.get(params.arguments as Record<string, unknown> | undefined);
        if (typeof r === 'string') this.fail(id, ErrorCode.InvalidParams, r);
        else this.reply(id, r);
        return true;
      }
      case 'resources/read': {
        const found = this.catalog.resourceFor(params.uri as string);
        if (!found) return false;
        void this.readResource(id, params.uri as string, found);
        return true;
      }
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        // Updates of declared resources come from the catalog; the server never hears of them.
        if (!this.catalog.resourceFor(params.uri as string) && this.inner) return false;
        this.reply(id, {});
        return true;
      case 'completion/complete': {
        const ref = params.ref as { type?: string; name?: string; uri?: string } | undefined;
        const declared = ref?.type === 'ref/prompt' ? this.catalog.prompts.has(ref.name ?? '') : ref?.type === 'ref/resource' && this.catalog.resourceFor(ref.uri ?? '') !== undefined;
        if (!declared && this.inner) return false;
        this.reply(id, { completion: { values: [], hasMore: false } });
        return true;
      }
    }
    if (m.method! in LISTS) {
      if (this.inner) return false;
      this.reply(id, this.merged(m.method!, {}));
      return true;
    }
    if (this.inner) return false;
    if (m.method === 'ping' || m.method === 'logging/setLevel') this.reply(id, {});
    else if (m.method === 'tools/call') this.reply(id, toolError(`Unknown tool: ${String(params.name)}`));
    else if (m.method === 'prompts/get' || m.method === 'resources/read') this.fail(id, ErrorCode.InvalidParams, `${m.method === 'prompts/get' ? 'unknown prompt' : 'unknown resource'} ${JSON.stringify(params.name ?? params.uri)}`);
    else this.fail(id, ErrorCode.MethodNotFound, `method not found: ${m.method}`);
    return true;
  }

  private forward(m: Message, frame: string, caller: string | undefined): void {
    if (m.method === 'initialize' || m.method! in LISTS) this.completing.set(m.id!, m.method!);
    this.inner!.send(frame, caller);
  }

  private async callTool(id: JsonRpcId, tool: DeclaredTool, args: unknown, caller: string | undefined): Promise<void> {
    const input = args !== null && typeof args === 'object' && !Array.isArray(args) ? (args as Record<string, unknown>) : {};
    const key = tool.cacheTtlMs > 0 ? ResultCache.key(caller ?? '', tool.name, input) : undefined;
    const cached = key === undefined ? undefined : this.catalog.cache.get(key);
    if (cached) return this.reply(id, cached);
    const controller = new AbortController();
    this.calls.set(id, controller);
    let result: Record<string, unknown>;
    try {
      result = await tool.call(input, controller.signal);
    } catch (e) {
      result = toolError(`${tool.name}: ${(e as Error).message}`);
    }
    if (!this.calls.delete(id)) return; // cancelled, or timed out: the session answered already
    if (result.isError) this.logger.warn({ tool: tool.name, source: tool.source, error: (result.content as Array<{ text: string }>)[0]?.text }, 'declared tool failed');
    else if (key !== undefined) this.catalog.cache.set(key, result, tool.cacheTtlMs);
    this.reply(id, result);
  }

  private async readResource(id: JsonRpcId, uri: string, found: NonNullable<ReturnType<Catalog['resourceFor']>>): Promise<void> {
    const controller = new AbortController();
    this.calls.set(id, controller);
    try {
      const result = await found.resource.read(uri, found.vars, controller.signal);
      if (this.calls.delete(id)) this.reply(id, result);
    } catch (e) {
      this.logger.warn({ uri, source: found.resource.source, error: (e as Error).message }, 'declared resource could not be read');
      if (this.calls.delete(id)) this.fail(id, ErrorCode.InternalError, `resource ${uri} could not be read: ${(e as Error).message}`);
    }
  }

  // ---- the server's answers -------------------------------------------------------------------

  private fromServer(m: Message, raw: string | undefined): void {
    const method = m.method === undefined && m.id !== undefined ? this.completing.get(m.id) : undefined;
    if (method === undefined) return this.onmessage?.(m as JsonRpcMessage, raw);
    this.completing.delete(m.id!);
    if (method === 'initialize') {
      this.initialized = true;
      if (m.result) m.result.capabilities = this.withCatalogCapabilities((m.result.capabilities ?? {}) as Record<string, unknown>);
    } else if (m.result) {
      m.result = this.merged(method, m.result);
    } else if (m.error?.code === ErrorCode.MethodNotFound && this.declares(LISTS[method]!.kind)) {
      // A server without this feature: the list is the catalog's alone.
      const answer: Message = { jsonrpc: '2.0', id: m.id!, result: this.merged(method, {}) };
      return this.onmessage?.(answer as JsonRpcMessage);
    }
    this.onmessage?.(m as JsonRpcMessage);
  }

  /** The server's page with declared items in: a declared name hides the server's; they are added to the last page. */
  private merged(method: string, result: Record<string, unknown>): Record<string, unknown> {
    const { key, kind } = LISTS[method]!;
    const own = this.declaredItems(method);
    const theirs = Array.isArray(result[key]) ? (result[key] as Array<Record<string, unknown>>) : [];
    const hidden = new Set(own.map((i) => (i.name ?? i.uri ?? i.uriTemplate) as string));
    const idOf = (i: Record<string, unknown>) => (kind === 'resources' ? (i.uri ?? i.uriTemplate) : i.name) as string;
    const kept = theirs.filter((i) => !hidden.has(idOf(i)));
    const last = typeof result.nextCursor !== 'string';
    return { ...result, [key]: last ? [...kept, ...own] : kept };
  }

  private declaredItems(method: string): Array<Record<string, unknown>> {
    switch (method) {
      case 'tools/list':
        return [...this.catalog.tools.values()].map((t) => t.listing);
      case 'prompts/list':
        return [...this.catalog.prompts.values()].map((p) => p.listing);
      case 'resources/list':
        return this.catalog.resources.filter((r) => !r.templated).map((r) => r.listing);
      default:
        return this.catalog.resources.filter((r) => r.templated).map((r) => r.listing);
    }
  }

  private declares(kind: 'tools' | 'prompts' | 'resources'): boolean {
    return this.catalog.kinds.has(kind);
  }

  /** The server's capabilities plus the kinds the catalog declares, each with list_changed (a reload changes them). */
  private withCatalogCapabilities(capabilities: Record<string, unknown>): Record<string, unknown> {
    const out = { ...capabilities };
    const add = (kind: string, extra: Record<string, unknown>) => (out[kind] = { ...((out[kind] as object | undefined) ?? {}), listChanged: true, ...extra });
    if (this.declares('tools')) add('tools', {});
    if (this.declares('prompts')) add('prompts', {});
    if (this.declares('resources')) add('resources', { subscribe: true });
    return out;
  }

  // ---- catalog changes ------------------------------------------------------------------------

  private changed(c: CatalogChange): void {
    if (!this.initialized) return;
    if (c.tools) this.notify('notifications/tools/list_changed');
    if (c.prompts) this.notify('notifications/prompts/list_changed');
    if (c.resources) this.notify('notifications/resources/list_changed');
    for (const uri of c.updated) this.notify('notifications/resources/updated', { uri });
  }

  private notify(method: string, params?: Record<string, unknown>): void {
    this.onmessage?.({ jsonrpc: '2.0', method, ...(params ? { params } : {}) } as JsonRpcMessage);
  }

  private reply(id: JsonRpcId, result: Record<string, unknown>): void {
    // Never inside send(): the session finishes registering the call first.
    queueMicrotask(() => this.onmessage?.({ jsonrpc: '2.0', id, result } as JsonRpcMessage));
  }

  private fail(id: JsonRpcId, code: number, message: string): void {
    queueMicrotask(() => this.onmessage?.(errorResponse(id, code, message)));
  }
}
