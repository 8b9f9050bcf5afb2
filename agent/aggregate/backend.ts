// One server behind the aggregate. Its lifecycle is the agent's own UpstreamSession (initialize,
// restart with backoff, re-initialize, restore subscriptions and the log level, fail in-flight
// calls with -32001, time out silent calls, remap ids and progress tokens), with the aggregate as
// its one client session: no second copy of that machinery. What the server says unprompted
// reaches the aggregate through that session's sink; what belongs to a call, through the call's channel.
import type { AgentBackend, AgentBackendHealth } from '../../api/agent-backends.js';
import { principalNamed } from '../core/principal.js';
import type { ResponseChannel } from '../mux/channels.js';
import { ClientSession } from '../mux/client-session.js';
import { UpstreamSession, type UpstreamSessionOptions, type UpstreamState } from '../mux/upstream-session.js';
import type { JsonRpcMessage, JsonRpcNotification, JsonRpcRequest, JsonRpcResponse } from '../protocol/jsonrpc.js';
import { LIST_METHOD, type Kind } from './merged-view.js';

/** The backend's own session's options (its hooks are the backend's), and what the aggregate hears. */
export interface BackendOptions extends Omit<UpstreamSessionOptions, 'hooks'> {
  spec: AgentBackend;
  onState: (backend: Backend, state: UpstreamState) => void;
  /** A message the server sent outside any call (list_changed, log lines, updates, a server request with no call in flight). */
  onBroadcast: (backend: Backend, message: JsonRpcMessage) => void;
}

/** Pages of one list fetched at most (as UpstreamSession bounds its own tools/list). */
const MAX_PAGES = 50;

export class Backend {
  readonly name: string;
  readonly session: UpstreamSession;
  /** The aggregate, as the one client of this server. */
  readonly client: ClientSession;
  /** The server's last lists (kept while it is down: fail-closed still offers them, errors name their owner). */
  readonly lists: Partial<Record<Kind, unknown[]>> = {};
  /** Set when the server becomes ready: its first lists are being fetched. */
  loading: Promise<void> = Promise.resolve();
  private readonly refreshing = new Map<Kind, Promise<void>>();
  private seq = 0;

  constructor(
    readonly spec: AgentBackend,
    private readonly options: BackendOptions,
  ) {
    this.name = spec.name;
    const { spec: _spec, onState: _onState, onBroadcast: _onBroadcast, ...session } = options;
    const logger = options.logger.child({ backend: spec.name });
    this.session = new UpstreamSession({
      ...session,
      logger,
      // The aggregate's own client times out first (and cancels here); this is the backstop.
      requestTimeoutMs: options.requestTimeoutMs + 1000,
      hooks: { onStateChange: (state) => options.onState(this, state) },
    });
    this.client = new ClientSession(`aggregate:${spec.name}`, principalNamed('aggregate'), '2025-11-25', options.capabilities, options.clientInfo);
    this.client.sink = {
      deliver: (frame) => {
        const message = parseFrame(frame);
        if (message) options.onBroadcast(this, message);
      },
    };
    this.session.attach(this.client);
  }

  get up(): boolean {
    return this.session.state === 'ready';
  }

  get detail(): string {
    return `${this.session.state}: ${this.session.stateDetail}`;
  }

  get capabilities(): Record<string, unknown> {
    return (this.session.initializeResult?.capabilities as Record<string, unknown> | undefined) ?? {};
  }

  /** Whether the server offers a kind of list (templates come with resources). */
  declares(kind: Kind): boolean {
    return this.capabilities[kind === 'resourceTemplates' ? 'resources' : kind] !== undefined;
  }

  start(): Promise<void> {
    return this.session.start().then(() => this.loading);
  }

  stop(): Promise<void> {
    return this.session.stop();
  }

  request(message: JsonRpcRequest, channel: ResponseChannel): void {
    this.session.request(this.client, message, channel);
  }

  notify(message: JsonRpcNotification): void {
    this.session.notify(this.client, message);
  }

  reply(message: JsonRpcResponse): void {
    this.session.reply(this.client, message);
  }

  /** Every list the server offers, fetched again (on ready). */
  refreshAll(timeoutMs: number): Promise<void> {
    return Promise.all((['tools', 'prompts', 'resources', 'resourceTemplates'] as Kind[]).filter((k) => this.declares(k)).map((k) => this.refresh(k, timeoutMs))).then(() => {});
  }

  /**
   * Fetches every page of one list; concurrent callers share one fetch. A server that errs,
   * answers garbage or is silent for `timeoutMs` keeps its last list (logged), so one slow
   * backend delays a merged list by at most that long and never fails it.
   */
  refresh(kind: Kind, timeoutMs: number): Promise<void> {
    const running = this.refreshing.get(kind);
    if (running) return running;
    const fetching = this.fetchAll(kind, timeoutMs).then(
      (items) => {
        this.lists[kind] = items;
      },
      (err: Error) => this.options.logger.warn({ backend: this.name, kind, err: err.message }, 'backend list not refreshed; keeping its last one'),
    );
    const done = fetching.finally(() => this.refreshing.delete(kind));
    this.refreshing.set(kind, done);
    return done;
  }

  status(): AgentBackendHealth {
    const info = this.session.initializeResult?.serverInfo as { name?: unknown } | undefined;
    return {
      name: this.name,
      up: this.up,
      detail: this.detail,
      ...(info?.name !== undefined ? { server: info.name } : {}),
      tools: this.lists.tools?.length ?? 0,
      restarts: this.session.restarts,
    };
  }

  private async fetchAll(kind: Kind, timeoutMs: number): Promise<unknown[]> {
    const items: unknown[] = [];
    let cursor: unknown;
    for (let page = 0; page < MAX_PAGES; page++) {
      const result = await this.ask(LIST_METHOD[kind], cursor === undefined ? {} : { cursor }, timeoutMs);
      const list = result[kind];
      if (!Array.isArray(list)) throw new Error(`${LIST_METHOD[kind]} result has no ${kind} array`);
      items.push(...list);
      cursor = result.nextCursor;
      if (typeof cursor !== 'string' || cursor === '') break;
    }
    return items;
  }

  /** One request of the aggregate's own; rejects on an error answer or after `timeoutMs` (cancelled then). */
  private ask(method: string, params: Record<string, unknown>, timeoutMs: number): Promise<Record<string, unknown>> {
    const id = `ome-aggregate-${++this.seq}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.notify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'aggregate list timeout' } });
        reject(new Error(`no answer to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.request({ jsonrpc: '2.0', id, method, params }, {
        respond: (frame, message) => {
          clearTimeout(timer);
          const response = (message ?? parseFrame(frame)) as Partial<JsonRpcResponse> | undefined;
          const result = (response as { result?: unknown } | undefined)?.result;
          if (result !== null && typeof result === 'object' && !Array.isArray(result)) resolve(result as Record<string, unknown>);
          else reject(new Error(`${method} failed: ${(response as { error?: { message?: string } } | undefined)?.error?.message ?? 'no result'}`));
        },
        related: () => {},
        abandon: () => clearTimeout(timer),
      });
    });
  }
}

/** A frame the multiplexer wrote (always valid JSON); undefined guards the impossible. */
export function parseFrame(frame: string): JsonRpcMessage | undefined {
  try {
    return JSON.parse(frame) as JsonRpcMessage;
  } catch {
    return undefined;
  }
}
