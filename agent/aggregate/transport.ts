// Several MCP servers as one: an UpstreamTransport, so the agent's single UpstreamSession (and
// everything before it: sessions, the three transports, both protocol revisions, policy) talks
// to the aggregate as to one 2025-session server. The aggregate answers `initialize` and the
// lists itself (merged: merged-view.ts), routes each call to the backend that owns its name, and
// maps what comes back. Not agent/mux/gateway.ts, which multiplexes client sessions.
import type { AgentBackendHealth } from '../../api/agent-backends.js';
import type { Logger } from 'pino';
import type { AgentBackend, AggregateSettings } from '../../api/agent-backends.js';
import type { ResponseChannel } from '../mux/channels.js';
import type { ClientCapabilities } from '../mux/client-session.js';
import type { UpstreamState } from '../mux/upstream-session.js';
import { ErrorCode, errorResponse, type JsonRpcId, type JsonRpcMessage, type JsonRpcNotification, type JsonRpcRequest, type JsonRpcResponse } from '../protocol/jsonrpc.js';
import { LATEST_SESSION_PROTOCOL_VERSION } from '../protocol/versions.js';
import { RELATED_REQUEST, type UpstreamTransport } from '../upstream/transport.js';
import { Backend, parseFrame } from './backend.js';
import { buildMergedView, KIND_OF_LIST, KINDS, LIST_CHANGED, resourceOwner, viewOf, type MergedView, type Kind, type Route } from './merged-view.js';

export interface AggregateOptions {
  backends: readonly AgentBackend[];
  settings: AggregateSettings;
  /** A fresh transport to one backend, for each (re)start of it. */
  connect: (backend: AgentBackend) => UpstreamTransport;
  logger: Logger;
  /** Who the aggregate is to its backends, and what it can route back to some client. */
  clientInfo: { name: string; version: string };
  capabilities: ClientCapabilities;
  /** serverInfo of the aggregate itself. */
  serverInfo: { name: string; version: string };
  requestTimeoutMs: number;
  initializeTimeoutMs: number;
  restartMinDelayMs?: number;
  restartMaxDelayMs?: number;
  /** How long a merged list waits for one backend before using that backend's last list. */
  listTimeoutMs?: number;
}

/** A backend's server→client request, forwarded up under an id of the aggregate's. */
interface ForwardedRequest {
  backend: Backend;
  id: JsonRpcId;
}

const ROUTED_BY_NAME: Record<string, 'tools' | 'prompts'> = { 'tools/call': 'tools', 'prompts/get': 'prompts' };
const ROUTED_BY_URI = new Set(['resources/read', 'resources/subscribe', 'resources/unsubscribe']);

export class AggregateTransport implements UpstreamTransport {
  onmessage?: (message: JsonRpcMessage, raw?: string) => void;
  onclose?: (reason: string) => void;
  onerror?: (error: Error) => void;

  readonly backends: Backend[];
  private readonly byName = new Map<string, Backend>();
  private view: MergedView;
  private problems = '';
  /** Calls in flight: the multiplexer's id → the backend working on it (for cancellation). */
  private readonly calls = new Map<JsonRpcId, Backend>();
  private readonly forwarded = new Map<string, ForwardedRequest>();
  /** Calls waiting for a refetch to find their owner (a cancellation drops them here). */
  private readonly unrouted = new Set<JsonRpcId>();
  private seq = 0;
  /** Set once `initialize` was answered: list_changed before that would reach nobody. */
  private initialized = false;
  private started = false;
  private lastMissRefresh = 0;
  private readonly listTimeoutMs: number;

  constructor(private readonly options: AggregateOptions) {
    this.listTimeoutMs = options.listTimeoutMs ?? Math.min(10_000, options.requestTimeoutMs);
    this.backends = options.backends.map(
      (spec) =>
        new Backend(spec, {
          spec,
          connect: () => options.connect(spec),
          logger: options.logger,
          clientInfo: options.clientInfo,
          capabilities: options.capabilities,
          requestTimeoutMs: options.requestTimeoutMs,
          initializeTimeoutMs: options.initializeTimeoutMs,
          restartMinDelayMs: options.restartMinDelayMs ?? 250,
          restartMaxDelayMs: options.restartMaxDelayMs ?? 30_000,
          onState: (b, state) => this.onBackendState(b, state),
          onBroadcast: (b, m) => this.onBroadcast(b, m),
        }),
    );
    for (const b of this.backends) this.byName.set(b.name, b);
    this.view = this.build();
  }

  get description(): string {
    const up = this.backends.filter((b) => b.up).length;
    return `aggregate: ${up}/${this.backends.length} backends up (${this.backends.map((b) => `${b.name} ${b.up ? 'up' : 'down'}`).join(', ')})`;
  }

  /**
   * For /readyz. fail-open: ready once every backend had its first attempt, whatever came of it
   * (the rest are served); fail-closed: only while every backend is up.
   */
  get ready(): boolean {
    return this.started && (this.options.settings.failMode === 'open' || this.backends.every((b) => b.up));
  }

  status(): AgentBackendHealth[] {
    return this.backends.map((b) => b.status());
  }

  /** Starts every backend; resolves once each is up (its lists fetched) or failed its first attempt. */
  async start(): Promise<void> {
    await Promise.all(this.backends.map((b) => b.start()));
    this.view = this.build();
    this.started = true;
  }

  async close(): Promise<void> {
    await Promise.all(this.backends.map((b) => b.stop()));
  }

  send(frame: string): void {
    const message = parseFrame(frame);
    if (message === undefined) return;
    const m = message as JsonRpcRequest & JsonRpcResponse;
    if (m.method === undefined) this.onClientResponse(m);
    else if (m.id === undefined) this.onClientNotification(m);
    else this.onClientRequest(m);
  }

  // ---- from the multiplexer ------------------------------------------------------------

  private onClientRequest(m: JsonRpcRequest): void {
    const kind = KIND_OF_LIST[m.method];
    if (kind !== undefined) {
      void this.answerList(m, kind);
      return;
    }
    switch (m.method) {
      case 'initialize':
        this.initialized = true;
        this.answer(m.id, this.initializeResult(m));
        return;
      case 'ping':
        this.answer(m.id, {});
        return;
      case 'logging/setLevel':
        // Each backend's session keeps the level and restores it after a restart; one that is up
        // without logging is not asked (it would only refuse).
        for (const b of this.backends) if (!b.up || b.capabilities.logging !== undefined) b.request({ ...m, id: `ome-level-${++this.seq}` }, IGNORE);
        this.answer(m.id, {});
        return;
      case 'completion/complete':
        this.routeCompletion(m);
        return;
    }
    const byName = ROUTED_BY_NAME[m.method];
    if (byName !== undefined) this.routeByName(m, byName);
    else if (ROUTED_BY_URI.has(m.method)) this.routeByUri(m, m.params?.uri);
    else this.fail(m.id, ErrorCode.MethodNotFound, `Method not found: ${m.method} (not routed by the aggregate)`);
  }

  private onClientNotification(n: JsonRpcNotification): void {
    switch (n.method) {
      case 'notifications/initialized':
        return; // each backend was initialized by its own session
      case 'notifications/cancelled':
        if (this.unrouted.delete(n.params?.requestId as JsonRpcId)) return;
        this.calls.get(n.params?.requestId as JsonRpcId)?.notify(n);
        return;
      default:
        for (const b of this.backends) b.notify(n); // roots/list_changed and the like: everyone's business
    }
  }

  /** A client's answer to a backend's request goes back to that backend under the backend's id. */
  private onClientResponse(r: JsonRpcResponse): void {
    const key = String(r.id);
    const entry = this.forwarded.get(key);
    if (!entry) return;
    this.forwarded.delete(key);
    r.id = entry.id;
    entry.backend.reply(r);
  }

  // ---- routing ----------------------------------------------------------------------------

  private routeByName(m: JsonRpcRequest, kind: 'tools' | 'prompts'): void {
    const name = m.params?.name;
    if (typeof name !== 'string') return this.fail(m.id, ErrorCode.InvalidParams, 'params.name must be a string');
    this.withOwner(m, kind, (c) => c[kind].get(name), `${kind === 'tools' ? 'tool' : 'prompt'} ${JSON.stringify(name)}`, (owner) => {
      m.params!.name = owner.name;
      this.forward(owner.backend, m);
    });
  }

  private routeByUri(m: JsonRpcRequest, uri: unknown): void {
    if (typeof uri !== 'string') return this.fail(m.id, ErrorCode.InvalidParams, 'params.uri must be a string');
    // A URI no list names (a server may serve more than it lists): the one backend with resources, if only one has them.
    const sole = () => {
      const withResources = this.backends.filter((b) => b.up && b.declares('resources'));
      return withResources.length === 1 ? withResources[0]!.name : undefined;
    };
    this.withOwner(m, 'resources', (c) => resourceOwner(c, uri) ?? sole(), `resource ${uri}`, (owner) => this.forward(owner.backend, m));
  }

  /** completion/complete names a prompt (renamed here) or a resource template. */
  private routeCompletion(m: JsonRpcRequest): void {
    const ref = m.params?.ref as { type?: unknown; name?: unknown; uri?: unknown } | undefined;
    if (ref?.type === 'ref/resource') return this.routeByUri(m, ref.uri);
    if (ref?.type !== 'ref/prompt' || typeof ref.name !== 'string') return this.fail(m.id, ErrorCode.InvalidParams, 'params.ref must name a prompt or a resource');
    const name = ref.name;
    this.withOwner(m, 'prompts', (c) => c.prompts.get(name), `prompt ${JSON.stringify(name)}`, (owner) => {
      m.params!.ref = { ...ref, name: owner.name };
      this.forward(owner.backend, m);
    });
  }

  /**
   * Runs `then` with the owner of a name: at once when the merged view has it (so a call stays in
   * order with what follows it, e.g. its cancellation), else after the lists are fetched again
   * (a client may call what it listed before a change, or without listing; at most one refetch a
   * second, so unknown names cannot keep every backend listing). A name of a backend that is down
   * is answered as such, not as unknown; `what` names it in the error.
   */
  private withOwner(m: JsonRpcRequest, kind: Kind, find: (c: MergedView) => Route | string | undefined, what: string, then: (owner: Owner) => void): void {
    const settle = (found: Route | string | undefined) => {
      const owner = this.ownerOf(found ?? find(this.build(true)));
      if (owner === undefined) this.fail(m.id, ErrorCode.InvalidParams, `unknown ${what}`);
      else if (found === undefined || !owner.backend.up) this.fail(m.id, ErrorCode.ServerRestarted, `${what} is served by backend ${owner.backend.name}, which is down (${owner.backend.detail}); retry later`);
      else then(owner);
    };
    const found = find(this.view);
    if (found !== undefined || Date.now() - this.lastMissRefresh <= 1000) return settle(found);
    this.lastMissRefresh = Date.now();
    this.unrouted.add(m.id);
    void this.refresh([kind, ...(kind === 'resources' ? (['resourceTemplates'] as Kind[]) : [])]).then(() => {
      if (this.unrouted.delete(m.id)) settle(find(this.view)); // else cancelled meanwhile
    });
  }

  private ownerOf(found: Route | string | undefined): Owner | undefined {
    if (found === undefined) return undefined;
    const backend = this.byName.get(typeof found === 'string' ? found : found.backend);
    return backend && { backend, name: typeof found === 'string' ? '' : found.name };
  }

  private forward(backend: Backend, m: JsonRpcRequest): void {
    const id = m.id;
    this.calls.set(id, backend);
    const channel: ResponseChannel = {
      respond: (frame, message) => {
        this.calls.delete(id);
        // The backend session wrote the multiplexer's id back already: the frame goes up as it is.
        this.onmessage?.(message ?? (parseFrame(frame) as JsonRpcMessage), frame);
      },
      related: (frame) => {
        const message = parseFrame(frame);
        if (message === undefined) return;
        if ((message as JsonRpcRequest).id !== undefined) this.forwardRequest(backend, message as JsonRpcRequest, id);
        else this.onmessage?.(message); // progress, its token already the multiplexer's
      },
      abandon: () => this.calls.delete(id),
    };
    backend.request(m, channel);
  }

  /**
   * A backend's sampling/elicitation/roots request, up under a fresh id. Tagged with the call it
   * belongs to when its backend session routed it to one, so the multiplexer asks that call's
   * client: across backends, only the aggregate knows which backend a call went to.
   */
  private forwardRequest(backend: Backend, request: JsonRpcRequest, call?: JsonRpcId): void {
    const id = `ome-aggregate-${++this.seq}`;
    this.forwarded.set(id, { backend, id: request.id });
    request.id = id;
    if (call !== undefined) (request as unknown as Record<symbol, unknown>)[RELATED_REQUEST] = call;
    this.onmessage?.(request);
  }

  // ---- from the backends ------------------------------------------------------------------

  private onBroadcast(backend: Backend, message: JsonRpcMessage): void {
    const m = message as JsonRpcRequest;
    if (m.id !== undefined) {
      if (m.method !== undefined) this.forwardRequest(backend, m); // no call in flight to tie it to
      return;
    }
    const params = m.params;
    switch (m.method) {
      case 'notifications/tools/list_changed':
        void this.refresh(['tools'], backend).then(() => this.announce(['tools']));
        return;
      case 'notifications/prompts/list_changed':
        void this.refresh(['prompts'], backend).then(() => this.announce(['prompts']));
        return;
      case 'notifications/resources/list_changed':
        void this.refresh(['resources', 'resourceTemplates'], backend).then(() => this.announce(['resources']));
        return;
      case 'notifications/cancelled': {
        // The backend withdrew one of its requests: the client knows it by the aggregate's id.
        for (const [id, entry] of this.forwarded) {
          if (entry.backend === backend && entry.id === params?.requestId) {
            this.forwarded.delete(id);
            this.onmessage?.({ ...m, params: { ...params, requestId: id } });
          }
        }
        return;
      }
      case 'notifications/message':
        // Log lines name their backend: `<backend>` or `<backend>/<logger>`.
        if (params) params.logger = typeof params.logger === 'string' ? `${backend.name}/${params.logger}` : backend.name;
        this.onmessage?.(m);
        return;
      default:
        this.onmessage?.(m); // resources/updated (URIs are not renamed), and whatever else it announces
    }
  }

  private onBackendState(backend: Backend, state: UpstreamState): void {
    if (state === 'ready') {
      this.options.logger.info({ backend: backend.name }, 'backend up');
      backend.loading = backend.refreshAll(this.listTimeoutMs).then(() => {
        this.rebuild();
        this.announce(KINDS);
      });
      return;
    }
    if (state !== 'restarting') return;
    for (const [id, entry] of this.forwarded) if (entry.backend === backend) this.forwarded.delete(id);
    this.options.logger.warn({ backend: backend.name, detail: backend.detail }, this.options.settings.failMode === 'open' ? 'backend down: its tools are withdrawn until it is back' : 'backend down: its tools answer an error until it is back');
    const before = this.view;
    this.rebuild();
    if (offerChanged(before, this.view)) this.announce(KINDS);
  }

  // ---- lists ------------------------------------------------------------------------------

  private async answerList(m: JsonRpcRequest, kind: Kind): Promise<void> {
    // Servers that never announce a change are still seen as they are now: each list is fetched.
    await this.refresh([kind]);
    this.answer(m.id, { [kind]: this.view.lists[kind] });
  }

  /** Fetches kinds from the backends that are up (or one of them), then rebuilds the merged view. */
  private async refresh(kinds: readonly Kind[], only?: Backend): Promise<void> {
    const targets = only ? [only] : this.backends;
    await Promise.all(targets.flatMap((b) => (b.up ? kinds.filter((k) => b.declares(k)).map((k) => b.refresh(k, this.listTimeoutMs)) : [])));
    this.rebuild();
  }

  /** Rebuilds the merged view, logging new collisions once. */
  private rebuild(): void {
    this.view = this.build();
    const problems = this.view.problems.join('\n');
    if (problems !== this.problems) {
      this.problems = problems;
      if (problems) this.options.logger.warn({ problems: this.view.problems }, 'aggregate: names offered by more than one backend, or malformed entries');
    }
  }

  /** The merged view of the backends that count: those up, or all of them (fail-closed, or `everyone`). */
  private build(everyone = false): MergedView {
    const all = everyone || this.options.settings.failMode === 'closed';
    return buildMergedView(
      this.backends.filter((b) => all || b.up).map((b) => viewOf(b.spec, b.lists)),
      this.options.settings,
    );
  }

  private announce(kinds: readonly Kind[]): void {
    if (!this.initialized) return;
    for (const method of new Set(kinds.map((k) => LIST_CHANGED[k]))) this.onmessage?.({ jsonrpc: '2.0', method });
  }

  /**
   * Tools, prompts and resources are always offered (backends come and go, the lists change
   * with them); logging, completions and resource subscriptions when a backend that is up has them.
   */
  private initializeResult(m: JsonRpcRequest): Record<string, unknown> {
    const caps = this.backends.filter((b) => b.up).map((b) => b.capabilities);
    const has = (key: string) => caps.some((c) => c[key] !== undefined);
    const subscribe = caps.some((c) => (c.resources as { subscribe?: unknown } | undefined)?.subscribe === true);
    const capabilities: Record<string, unknown> = {
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { listChanged: true, ...(subscribe ? { subscribe: true } : {}) },
      ...(has('logging') ? { logging: {} } : {}),
      ...(has('completions') ? { completions: {} } : {}),
    };
    const instructions = this.backends
      .map((b) => [b.name, b.session.initializeResult?.instructions] as const)
      .filter((e): e is readonly [string, string] => typeof e[1] === 'string' && e[1] !== '')
      .map(([name, text]) => `## ${name}\n${text}`)
      .join('\n\n');
    const requested = m.params?.protocolVersion;
    return {
      protocolVersion: typeof requested === 'string' ? requested : LATEST_SESSION_PROTOCOL_VERSION,
      capabilities,
      serverInfo: this.options.serverInfo,
      ...(instructions ? { instructions } : {}),
    };
  }

  // ---- plumbing ---------------------------------------------------------------------------

  private answer(id: JsonRpcId, result: Record<string, unknown>): void {
    const message: JsonRpcResponse = { jsonrpc: '2.0', id, result };
    queueMicrotask(() => this.onmessage?.(message));
  }

  private fail(id: JsonRpcId, code: number, text: string): void {
    const message = errorResponse(id, code, text);
    queueMicrotask(() => this.onmessage?.(message));
  }
}

/** The backend that serves a name, and the name it knows it by ('' for URIs, which are not renamed). */
interface Owner {
  backend: Backend;
  name: string;
}

/** Whether two merged views offer different entries (compared by content: entries are rebuilt each time). */
function offerChanged(a: MergedView, b: MergedView): boolean {
  return KINDS.some((k) => JSON.stringify(a.lists[k]) !== JSON.stringify(b.lists[k]));
}

const IGNORE: ResponseChannel = { respond: () => {}, related: () => {}, abandon: () => {} };
