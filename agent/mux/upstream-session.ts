import type { Logger } from 'pino';
import {
  ErrorCode,
  errorResponse,
  isRequest,
  type JsonRpcId,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from '../protocol/jsonrpc.js';
import { SESSION_LOCAL_METHODS } from '../protocol/local-methods.js';
import { LATEST_SESSION_PROTOCOL_VERSION } from '../protocol/versions.js';
import { RELATED_REQUEST, type UpstreamTransport } from '../upstream/transport.js';
import type { ResponseChannel } from './channels.js';
import { logLevelRank, LOG_LEVELS, type ClientCapabilities, type ClientSession } from './client-session.js';

export interface UpstreamSessionHooks {
  /** Called once per finished client request (metrics, audit). */
  onRequestDone?: (method: string, outcome: 'ok' | 'error' | 'timeout' | 'cancelled' | 'restarted', seconds: number) => void;
  onStateChange?: (state: UpstreamState) => void;
  /** The server's full tool list, fetched after (re)initialization and on tools/list_changed (tool annotations feed policy). */
  onToolsList?: (result: { tools: unknown[] }) => void;
  onRestart?: () => void;
}

export interface UpstreamSessionOptions {
  /** Creates a fresh transport for each (re)start. */
  connect: () => UpstreamTransport;
  logger: Logger;
  clientInfo: { name: string; version: string };
  /** What the agent declares to the server on its behalf and its clients'. */
  capabilities: ClientCapabilities;
  requestTimeoutMs: number;
  initializeTimeoutMs: number;
  restartMinDelayMs: number;
  restartMaxDelayMs: number;
  hooks?: UpstreamSessionHooks;
}

export type UpstreamState = 'starting' | 'ready' | 'restarting' | 'stopped';

interface PendingCall {
  session: ClientSession;
  originalId: JsonRpcId;
  method: string;
  channel: ResponseChannel;
  /** The client's own progress token, restored on progress notifications. */
  progressToken: unknown;
  deadline: number;
  startedAt: number;
  /** Set while the request waits for the server to become ready. */
  frame: string | undefined;
  /** A server→client request was routed to this call (routing evidence, see routeServerRequest). */
  asked: boolean;
  /** The request's params.name (tools/call, prompts/get): with the method, the operation (see operationOf). */
  name: unknown;
}

type InternalWaiter = (message: JsonRpcResponse) => void;

export { RELATED_REQUEST } from '../upstream/transport.js';


/**
 * One MCP session with one server, shared by any number of client sessions (DESIGN §1):
 * ids are remapped to a private counter, progress tokens to the upstream request id, and
 * everything the server sends is routed back to the session it belongs to. Owns the server's
 * lifecycle: initialize once, restart with exponential backoff, re-initialize, restore
 * subscriptions and the log level, fail in-flight requests with a clear error meanwhile.
 */
export class UpstreamSession {
  state: UpstreamState = 'starting';
  /** The server's initialize result, answered to every client (after policy filtering). */
  initializeResult: Record<string, unknown> | undefined;
  /** Human-readable reason for the current state (shown in /readyz). */
  stateDetail = 'starting';
  readonly sessions = new Set<ClientSession>();
  restarts = 0;

  private transport: UpstreamTransport | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, PendingCall>();
  private readonly internal = new Map<number, InternalWaiter>();
  /** Server→client requests awaiting a client's reply: upstream id → session. */
  private readonly serverRequests = new Map<JsonRpcId, ClientSession>();
  /** Operations seen sending a server→client request while alone in flight (see routeServerRequest). */
  private readonly askingOperations = new Set<string>();
  private readonly subscriptionCounts = new Map<string, number>();
  private waiting: number[] = [];
  private readyWaiters: Array<() => void> = [];
  private upstreamLogLevel: number | undefined;
  private restartDelay: number;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly sweepTimer: NodeJS.Timeout;
  private upSince = 0;

  constructor(private readonly options: UpstreamSessionOptions) {
    this.restartDelay = options.restartMinDelayMs;
    this.sweepTimer = setInterval(() => this.sweepTimeouts(), Math.min(1000, Math.max(50, options.requestTimeoutMs / 4)));
    this.sweepTimer.unref();
  }

  get description(): string {
    return this.transport?.description ?? 'not started';
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Starts the server; resolves when the first attempt finished (ready or scheduled for retry). */
  async start(): Promise<void> {
    await this.connectOnce();
  }

  /** Resolves once the server is initialized, or rejects after `timeoutMs`. */
  whenReady(timeoutMs: number): Promise<void> {
    if (this.state === 'ready') return Promise.resolve();
    if (this.state === 'stopped') return Promise.reject(new Error('agent is shutting down'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== done);
        reject(new Error(`MCP server not ready after ${timeoutMs} ms (${this.stateDetail})`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.readyWaiters.push(done);
    });
  }

  attach(session: ClientSession): void {
    this.sessions.add(session);
  }

  /** A client session ended: drop its subscriptions and pending work, without touching others'. */
  detach(session: ClientSession): void {
    if (!this.sessions.delete(session)) return;
    for (const uri of session.subscriptions) this.releaseSubscription(uri);
    session.subscriptions.clear();
    for (const [upstreamId, call] of this.pending) {
      if (call.session === session) this.cancelUpstream(upstreamId, 'client session ended');
    }
    for (const id of session.openServerRequests) {
      this.serverRequests.delete(id);
      this.sendRaw(errorResponse(id, ErrorCode.InternalError, 'client session ended before answering'));
    }
    session.openServerRequests.clear();
    if (session.logLevel !== undefined) this.syncLogLevel();
  }

  /** A client request (already authorized). The answer goes to `channel`. */
  request(session: ClientSession, message: JsonRpcRequest, channel: ResponseChannel): void {
    session.touch();
    if (SESSION_LOCAL_METHODS.has(message.method)) {
      this.answerLocally(session, message, channel);
      return;
    }
    const upstreamId = this.nextId++;
    const params = message.params;
    const meta = params?._meta as Record<string, unknown> | undefined;
    let progressToken: unknown;
    if (meta !== undefined && meta.progressToken !== undefined) {
      progressToken = meta.progressToken;
      meta.progressToken = upstreamId;
    }
    const call: PendingCall = {
      session,
      originalId: message.id,
      method: message.method,
      channel,
      progressToken,
      startedAt: performance.now(),
      deadline: Date.now() + this.options.requestTimeoutMs,
      frame: undefined,
      asked: false,
      name: params?.name,
    };
    this.pending.set(upstreamId, call);
    // Serialized with our id; the caller's message keeps its own (a transport may still need it).
    message.id = upstreamId;
    const frame = JSON.stringify(message);
    message.id = call.originalId;
    if (this.state === 'ready') this.write(frame, session.principalKey);
    else {
      call.frame = frame;
      this.waiting.push(upstreamId);
    }
  }

  /** A client notification: cancellations are remapped, lifecycle ones are the agent's own. */
  notify(session: ClientSession, message: JsonRpcNotification): void {
    session.touch();
    switch (message.method) {
      case 'notifications/initialized':
        return; // the agent initialized the server itself
      case 'notifications/cancelled': {
        const requestId = message.params?.requestId;
        for (const [upstreamId, call] of this.pending) {
          if (call.session === session && call.originalId === requestId) {
            this.cancelUpstream(upstreamId, message.params?.reason);
            return;
          }
        }
        return;
      }
      default:
        if (this.state === 'ready') this.sendRaw(message);
    }
  }

  /** A client's reply to a server→client request; only the session it was routed to may answer. */
  reply(session: ClientSession, message: JsonRpcResponse): void {
    session.touch();
    const id = message.id;
    if (id === null || this.serverRequests.get(id) !== session) return;
    this.serverRequests.delete(id);
    session.openServerRequests.delete(id);
    this.sendRaw(message);
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    this.stateDetail = 'stopped';
    clearInterval(this.sweepTimer);
    clearTimeout(this.restartTimer);
    this.failAll(ErrorCode.ServerRestarted, 'agent is shutting down', 'restarted');
    const transport = this.transport;
    this.transport = undefined;
    if (transport) {
      transport.onclose = undefined;
      await transport.close();
    }
  }

  // ---- server lifecycle ----------------------------------------------------------------

  private async connectOnce(): Promise<void> {
    const transport = this.options.connect();
    this.transport = transport;
    transport.onmessage = (m, raw) => this.onServerMessage(m, raw);
    transport.onerror = (e) => this.options.logger.warn({ err: e.message }, 'upstream');
    transport.onclose = (reason) => this.onServerGone(transport, reason);
    try {
      await transport.start();
      const result = await this.initializeServer();
      if (this.transport !== transport) return;
      this.initializeResult = result;
      this.sendRaw({ jsonrpc: '2.0', method: 'notifications/initialized' });
      this.restoreServerState();
      this.upSince = Date.now();
      this.setState('ready', `initialized ${describeServer(result)}`);
      this.options.logger.info({ server: describeServer(result), restarts: this.restarts }, 'MCP server initialized: ready');
      for (const w of this.readyWaiters.splice(0)) w();
      this.flushWaiting();
    } catch (err) {
      if (this.transport !== transport || this.state === 'stopped') return;
      this.options.logger.error({ err: (err as Error).message }, 'MCP server failed to start');
      transport.onclose = undefined;
      this.transport = undefined;
      await transport.close().catch(() => {});
      this.scheduleRestart((err as Error).message);
    }
  }

  private initializeServer(): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.internal.delete(id);
        reject(new Error(`server did not answer initialize within ${this.options.initializeTimeoutMs} ms`));
      }, this.options.initializeTimeoutMs);
      this.internal.set(id, (response) => {
        clearTimeout(timer);
        if ('error' in response) reject(new Error(`server refused initialize: ${response.error.message}`));
        else resolve(response.result);
      });
      this.sendRaw({
        jsonrpc: '2.0',
        id,
        method: 'initialize',
        params: {
          protocolVersion: LATEST_SESSION_PROTOCOL_VERSION,
          capabilities: this.options.capabilities,
          clientInfo: this.options.clientInfo,
        },
      });
    });
  }

  /** After a restart the server has forgotten subscriptions and the log level; tell it again. */
  private restoreServerState(): void {
    for (const uri of this.subscriptionCounts.keys()) this.sendInternal('resources/subscribe', { uri });
    if (this.upstreamLogLevel !== undefined) {
      this.sendInternal('logging/setLevel', { level: LOG_LEVELS[this.upstreamLogLevel] });
    }
    this.refreshTools();
  }

  /** Fetches every page of tools/list for the onToolsList hook (bounded: 50 pages). */
  private refreshTools(): void {
    const hook = this.options.hooks?.onToolsList;
    const capabilities = this.initializeResult?.capabilities as { tools?: unknown } | undefined;
    if (!hook || capabilities?.tools === undefined) return;
    const tools: unknown[] = [];
    const page = (cursor: unknown, left: number) =>
      this.sendInternal('tools/list', cursor === undefined ? {} : { cursor }, (result) => {
        if (Array.isArray(result.tools)) tools.push(...result.tools);
        if (typeof result.nextCursor === 'string' && left > 0) page(result.nextCursor, left - 1);
        else hook({ tools });
      });
    page(undefined, 50);
  }

  private onServerGone(transport: UpstreamTransport, reason: string): void {
    if (this.transport !== transport || this.state === 'stopped') return;
    this.transport = undefined;
    this.options.logger.error({ reason }, 'MCP server went away; restarting');
    this.failAll(ErrorCode.ServerRestarted, `MCP server restarted (${reason}); retry the request`, 'restarted');
    for (const waiter of this.internal.values()) waiter(errorResponse(null, ErrorCode.ServerRestarted, reason));
    this.internal.clear();
    this.scheduleRestart(reason);
  }

  private scheduleRestart(reason: string): void {
    if (Date.now() - this.upSince > 30_000) this.restartDelay = this.options.restartMinDelayMs;
    const delay = this.restartDelay;
    this.restartDelay = Math.min(this.restartDelay * 2, this.options.restartMaxDelayMs);
    this.setState('restarting', `${reason}; next attempt in ${delay} ms`);
    this.restarts++;
    this.options.hooks?.onRestart?.();
    this.restartTimer = setTimeout(() => void this.connectOnce(), delay);
  }

  private setState(state: UpstreamState, detail: string): void {
    this.state = state;
    this.stateDetail = detail;
    this.options.hooks?.onStateChange?.(state);
  }

  // ---- messages from the server ----------------------------------------------------------

  private onServerMessage(message: JsonRpcMessage, raw?: string): void {
    const m = message as JsonRpcRequest & JsonRpcResponse;
    if (m.method === undefined) {
      this.onServerResponse(m, raw);
    } else if (isRequest(m)) {
      this.onServerRequest(m);
    } else {
      this.onServerNotification(m);
    }
  }

  private onServerResponse(message: JsonRpcResponse, raw?: string): void {
    const id = message.id as number;
    const call = this.pending.get(id);
    if (call === undefined) {
      const waiter = this.internal.get(id);
      if (waiter) {
        this.internal.delete(id);
        waiter(message);
      }
      return; // late answer to a cancelled or timed-out request
    }
    this.pending.delete(id);
    message.id = call.originalId;
    // The server's own text when it can be kept (the id written in), else serialized again; the
    // parsed message goes along, for a channel that rewrites it (the gateway's policy stage).
    call.channel.respond((raw !== undefined && withId(raw, id, call.originalId)) || JSON.stringify(message), message);
    this.finish(call, 'result' in message ? 'ok' : 'error');
  }

  private onServerRequest(message: JsonRpcRequest): void {
    if (message.method === 'ping') {
      this.sendRaw({ jsonrpc: '2.0', id: message.id, result: {} });
      return;
    }
    const target = this.routeServerRequest(message.method, (message as unknown as Record<symbol, unknown>)[RELATED_REQUEST]);
    if (target === undefined) {
      this.sendRaw(errorResponse(message.id, ErrorCode.MethodNotFound, `no connected client can handle ${message.method}`));
      return;
    }
    this.serverRequests.set(message.id, target.session);
    target.session.openServerRequests.add(message.id);
    target.channel.related(JSON.stringify(message));
  }

  /**
   * A stdio server does not say which client a sampling/elicitation/roots request is for.
   * The best evidence is the calls it is working on, which servers take up in the order they
   * arrived: route to the oldest in-flight capable call not asked anything yet, so N concurrent
   * callers get the N requests in turn (per call, not per session: a caller that answered still
   * has its call in flight until the server finishes it). Calls of an operation known to ask go
   * first, so an older slow call that never asks does not take the request; an operation is
   * known once it asked while alone in flight, when the routing was certain. Else (a call asking
   * again) the most recent capable call, else the most recently active capable session (its
   * stream). In per-session mode there is only one candidate.
   */
  private routeServerRequest(method: string, related?: unknown): { session: ClientSession; channel: ResponseChannel } | undefined {
    const capability = method === 'sampling/createMessage' ? 'sampling' : method === 'elicitation/create' ? 'elicitation' : method === 'roots/list' ? 'roots' : undefined;
    const capable = (s: ClientSession) => !s.closed && (capability === undefined || s.capabilities[capability] !== undefined);
    if (related !== undefined) {
      const call = this.pending.get(related as number);
      return call && capable(call.session) ? this.askOf(call) : undefined;
    }
    let known: PendingCall | undefined;
    let oldest: PendingCall | undefined;
    let latest: PendingCall | undefined;
    let candidates = 0;
    for (const call of this.pending.values()) {
      if (!capable(call.session)) continue;
      candidates++;
      latest = call;
      if (call.asked) continue;
      oldest ??= call;
      if (known === undefined && this.askingOperations.size > 0 && this.askingOperations.has(operationOf(call))) known = call;
    }
    const chosen = known ?? oldest ?? latest;
    if (chosen) {
      if (candidates === 1) this.askingOperations.add(operationOf(chosen));
      return this.askOf(chosen);
    }
    let best: ClientSession | undefined;
    for (const s of this.sessions) {
      if (capable(s) && (s.streamChannel || s.sink) && (!best || s.lastActivity >= best.lastActivity)) best = s;
    }
    if (!best) return undefined;
    const session = best;
    const channel = session.streamChannel ?? sinkChannel(session);
    return { session, channel };
  }

  /** The server's request goes to this call's session, on the call's own channel. */
  private askOf(call: PendingCall): { session: ClientSession; channel: ResponseChannel } {
    call.asked = true;
    return { session: call.session, channel: call.channel };
  }

  private onServerNotification(message: JsonRpcNotification): void {
    const params = message.params;
    switch (message.method) {
      case 'notifications/progress': {
        const call = this.pending.get(params?.progressToken as number);
        if (!call) return;
        params!.progressToken = call.progressToken;
        call.channel.related(JSON.stringify(message));
        return;
      }
      case 'notifications/cancelled': {
        const session = this.serverRequests.get(params?.requestId as JsonRpcId);
        if (!session) return;
        this.serverRequests.delete(params!.requestId as JsonRpcId);
        session.openServerRequests.delete(params!.requestId as JsonRpcId);
        this.deliverTo(session, JSON.stringify(message));
        return;
      }
      case 'notifications/message': {
        const rank = logLevelRank(params?.level);
        const frame = JSON.stringify(message);
        for (const s of this.sessions) if (s.logLevel === undefined || rank >= s.logLevel) this.deliverTo(s, frame);
        return;
      }
      case 'notifications/resources/updated': {
        const uri = params?.uri as string;
        const frame = JSON.stringify(message);
        for (const s of this.sessions) if (s.subscriptions.has(uri)) this.deliverTo(s, frame);
        return;
      }
      default: {
        if (message.method === 'notifications/tools/list_changed') this.refreshTools();
        // list_changed and anything else the server broadcasts: every session hears it.
        const frame = JSON.stringify(message);
        for (const s of this.sessions) this.deliverTo(s, frame);
      }
    }
  }

  private deliverTo(session: ClientSession, frame: string): void {
    if (session.streamChannel) session.streamChannel.related(frame);
    else session.sink?.deliver(frame);
  }

  // ---- requests the agent answers itself -------------------------------------------------

  private answerLocally(session: ClientSession, message: JsonRpcRequest, channel: ResponseChannel): void {
    const startedAt = performance.now();
    const ok = () => channel.respond(`{"jsonrpc":"2.0","id":${JSON.stringify(message.id)},"result":{}}`);
    const fail = (code: number, text: string) => channel.respond(JSON.stringify(errorResponse(message.id, code, text)));
    const uri = message.params?.uri;
    switch (message.method) {
      case 'ping':
        ok();
        break;
      case 'logging/setLevel': {
        const level = message.params?.level;
        if (!LOG_LEVELS.includes(level as never)) {
          fail(ErrorCode.InvalidParams, `unknown log level ${JSON.stringify(level)}`);
          break;
        }
        session.logLevel = logLevelRank(level);
        this.syncLogLevel();
        ok();
        break;
      }
      case 'resources/subscribe':
        if (typeof uri !== 'string') fail(ErrorCode.InvalidParams, 'uri must be a string');
        else {
          if (!session.subscriptions.has(uri)) {
            session.subscriptions.add(uri);
            const count = (this.subscriptionCounts.get(uri) ?? 0) + 1;
            this.subscriptionCounts.set(uri, count);
            if (count === 1 && this.state === 'ready') this.sendInternal('resources/subscribe', { uri });
          }
          ok();
        }
        break;
      case 'resources/unsubscribe':
        if (typeof uri !== 'string') fail(ErrorCode.InvalidParams, 'uri must be a string');
        else {
          if (session.subscriptions.delete(uri)) this.releaseSubscription(uri);
          ok();
        }
        break;
    }
    this.options.hooks?.onRequestDone?.(message.method, 'ok', (performance.now() - startedAt) / 1000);
  }

  private releaseSubscription(uri: string): void {
    const count = (this.subscriptionCounts.get(uri) ?? 1) - 1;
    if (count > 0) {
      this.subscriptionCounts.set(uri, count);
      return;
    }
    this.subscriptionCounts.delete(uri);
    if (this.state === 'ready') this.sendInternal('resources/unsubscribe', { uri });
  }

  /** The server logs at the most verbose level any session asked for; each session's own level filters delivery. */
  private syncLogLevel(): void {
    let min: number | undefined;
    for (const s of this.sessions) if (s.logLevel !== undefined && (min === undefined || s.logLevel < min)) min = s.logLevel;
    if (min === undefined || min === this.upstreamLogLevel) return;
    this.upstreamLogLevel = min;
    if (this.state === 'ready') this.sendInternal('logging/setLevel', { level: LOG_LEVELS[min] });
  }

  private sendInternal(method: string, params: Record<string, unknown>, onResult?: (result: Record<string, unknown>) => void): void {
    const id = this.nextId++;
    this.internal.set(id, (response) => {
      if ('error' in response) this.options.logger.warn({ method, error: response.error.message }, 'server refused an agent request');
      else onResult?.(response.result);
    });
    this.sendRaw({ jsonrpc: '2.0', id, method, params });
  }

  // ---- plumbing --------------------------------------------------------------------------

  /** Client cancelled (or its session ended): the server is told, the channel is released. */
  private cancelUpstream(upstreamId: number, reason: unknown): void {
    const call = this.withdraw(upstreamId, reason);
    if (!call) return;
    call.channel.abandon();
    this.finish(call, 'cancelled');
  }

  /** Removes a pending call and tells the server to stop working on it. */
  private withdraw(upstreamId: number, reason: unknown): PendingCall | undefined {
    const call = this.pending.get(upstreamId);
    if (!call) return undefined;
    this.pending.delete(upstreamId);
    if (call.frame === undefined && this.state === 'ready') {
      const params: Record<string, unknown> = { requestId: upstreamId };
      if (typeof reason === 'string') params.reason = reason;
      this.sendRaw({ jsonrpc: '2.0', method: 'notifications/cancelled', params });
    }
    return call;
  }

  private sweepTimeouts(): void {
    const now = Date.now();
    for (const [upstreamId, call] of this.pending) {
      if (call.deadline > now) continue;
      // The client sees -32002; the operator needs to know which server call hung, and for whom.
      this.options.logger.warn(
        { method: call.method, upstreamId, session: call.session.id, timeoutMs: this.options.requestTimeoutMs },
        'MCP server did not answer in time; the client got a -32002 timeout error',
      );
      this.withdraw(upstreamId, 'request timed out');
      this.finishWithError(call, ErrorCode.RequestTimeout, `MCP server did not answer ${call.method} within ${this.options.requestTimeoutMs} ms`);
      this.finish(call, 'timeout');
    }
  }

  private failAll(code: number, text: string, outcome: 'restarted'): void {
    const calls = [...this.pending.values()];
    this.pending.clear();
    this.waiting = [];
    for (const call of calls) {
      this.finishWithError(call, code, text);
      this.finish(call, outcome);
    }
    for (const [id, session] of this.serverRequests) session.openServerRequests.delete(id);
    this.serverRequests.clear();
  }

  private finishWithError(call: PendingCall, code: number, text: string): void {
    call.channel.respond(JSON.stringify(errorResponse(call.originalId, code, text)));
  }

  private finish(call: PendingCall, outcome: 'ok' | 'error' | 'timeout' | 'cancelled' | 'restarted'): void {
    this.options.hooks?.onRequestDone?.(call.method, outcome, (performance.now() - call.startedAt) / 1000);
  }

  private flushWaiting(): void {
    const ids = this.waiting;
    this.waiting = [];
    for (const id of ids) {
      const call = this.pending.get(id);
      if (call?.frame === undefined) continue;
      const frame = call.frame;
      call.frame = undefined;
      this.write(frame, call.session.principalKey);
    }
  }

  private sendRaw(message: JsonRpcMessage): void {
    this.write(JSON.stringify(message));
  }

  private write(frame: string, caller?: string): void {
    try {
      this.transport?.send(frame, caller);
    } catch (err) {
      this.options.logger.warn({ err: (err as Error).message }, 'write to MCP server failed');
    }
  }
}

/**
 * The server's own text with the client's id written over ours, when the id is the message's last
 * member (`…,"id":17}`, as the SDKs write responses): no second serialization. The text parsed
 * (`raw` is exactly the message), so a final `,"id":17}` is the top-level member the parse kept.
 * Undefined when the text does not end that way.
 */
export function withId(raw: string, upstreamId: number, clientId: JsonRpcId): string | undefined {
  const tail = `,"id":${upstreamId}}`;
  if (!raw.endsWith(tail)) return undefined;
  return `${raw.slice(0, raw.length - tail.length)},"id":${JSON.stringify(clientId)}}`;
}

/** Method and name (`tools/call ask`): the unit the agent learns "this one asks the client" for. */
function operationOf(call: PendingCall): string {
  return `${call.method} ${String(call.name ?? '')}`;
}

function sinkChannel(session: ClientSession): ResponseChannel {
  const deliver = (frame: string) => session.sink?.deliver(frame);
  return { respond: deliver, related: deliver, abandon: () => {} };
}

function describeServer(result: Record<string, unknown>): string {
  const info = result.serverInfo as { name?: string; version?: string } | undefined;
  return [info?.name ?? 'server', info?.version, `(protocol ${String(result.protocolVersion)})`].filter(Boolean).join(' ');
}
