/**
 * The 2026-07-28 ("modern") revision on the agent's `/mcp` endpoint: stateless POSTs, one
 * request per HTTP exchange, `server/discover`, `subscriptions/listen` streams, and the
 * input-required bridge that lets a 2025-era stdio server's sampling/elicitation/roots requests
 * reach a client that no longer accepts server-to-client requests.
 *
 * Each request gets a short-lived ClientSession built from its `_meta` envelope (principal-bound,
 * the request's own capabilities), adopted by the Gateway, so authorization, limits, filters and
 * audit run exactly as for a session; it ends with the request (or with its held input-required
 * state).
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { ResponseChannel } from '../../mux/channels.js';
import { ClientSession, logLevelRank, type ClientCapabilities } from '../../mux/client-session.js';
import type { Principal } from '../../core/principal.js';
import { LOCAL_METHOD_NAMES } from '../../protocol/local-methods.js';
import { isRefusal, Refusal } from '../../protocol/refusal.js';
import { ErrorCode, errorResponse, isRequest, type JsonRpcId, type JsonRpcMessage, type JsonRpcNotification, type JsonRpcRequest, type JsonRpcResponse } from '../../protocol/jsonrpc.js';
import {
  ALL_PROTOCOL_VERSIONS,
  isModernVersion,
  META_PROTOCOL_VERSION,
  META_SERVER_INFO,
  META_SUBSCRIPTION_ID,
  modernizeResult,
  nameSourceOf,
  stripEnvelope,
  headerMismatch,
  isCacheable,
  unsupportedVersion,
  verifyRequest,
  type Envelope,
} from '../../protocol/modern/meta.js';
import { checkParamHeaders, scanParamHeaders, type ParamHeader } from '../../protocol/modern/param-headers.js';
import { EXPIRED, RequestStateSigner, type RequestStateClaims } from '../../protocol/modern/request-state.js';
import { isSupportedSessionVersion } from '../../protocol/versions.js';
import type { DownstreamContext } from '../context.js';
import { JsonReply, type Exchange, type Reply } from '../exchange.js';
import { jsonRpcError, readMessage, refusalResponse } from '../http-common.js';
import { SSE_HEADERS, sseBody, type SseWriter } from '../sse.js';

export interface ModernTransportOptions {
  /** How long an input-required call is held for the client's retry (the request timeout). */
  holdTimeoutMs: number;
  /** SSE comment interval on open response and listen streams. */
  keepAliveMs?: number;
  /** False in per-session mode: modern clients are told to use a session revision instead. */
  enabled?: boolean;
  /** Signs requestState; replicas that share its key can verify each other's (see docs/modern-protocol.md). */
  signer?: RequestStateSigner;
  /**
   * This replica, written into requestState: an `http(s)://host:port` base URL makes a retry that
   * lands on another replica be forwarded here; anything else (default: the host name) only names it.
   */
  node?: string | (() => string);
}

export interface ModernTransport {
  /** From the headers alone: a 2026-07-28 (or unknown, session-less) protocol version. */
  isModern(c: Exchange): boolean;
  /** From a parsed body: a session-less request that carries a modern envelope claim. */
  claims(message: JsonRpcMessage, c: Exchange): boolean;
  handle(c: Exchange, caller: Principal, message?: JsonRpcMessage): Promise<Reply>;
  /** Calls held for an input-required retry (for tests and metrics). */
  readonly heldCount: number;
  /** The server's tool list (e.g. the multiplexer's own fetch): learns `x-mcp-header` declarations. */
  observeToolsList(result: { tools: unknown[] }): void;
}

/** Methods the 2026-07-28 revision removed (the agent's locally answered ones); a modern request for them is an unknown method. */
const REMOVED_METHODS = LOCAL_METHOD_NAMES;
/** Which server→client requests a client must have declared to be asked them. */
const INPUT_CAPABILITY: Record<string, string> = { 'sampling/createMessage': 'sampling', 'elicitation/create': 'elicitation', 'roots/list': 'roots' };
/** The only requests an input-required result may answer (MRTR, "Supported Requests"). */
const INPUT_REQUIRED_METHODS = new Set(['tools/call', 'prompts/get', 'resources/read']);

export function createModernTransport(ctx: DownstreamContext, options: ModernTransportOptions): ModernTransport {
  const signer = options.signer ?? new RequestStateSigner();
  const nodeOption = options.node ?? hostname();
  const node = typeof nodeOption === 'function' ? nodeOption : () => nodeOption;
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  const enabled = options.enabled ?? true;
  const held = new Map<string, ModernCall>();
  let seq = 0;
  const logger = ctx.logger.child({ transport: 'mcp-2026' });

  const newSession = (caller: Principal, env: Envelope): ClientSession =>
    new ClientSession(`m${++seq}-${Date.now().toString(36)}`, caller, env.protocolVersion, env.clientCapabilities as ClientCapabilities, env.clientInfo);

  const toolHeaders = new Map<string, ParamHeader[]>();
  const deps: CallDeps = { ctx, signer, node, held, keepAliveMs, holdTimeoutMs: options.holdTimeoutMs, logger, toolHeaders };

  return {
    get heldCount() {
      return held.size;
    },

    observeToolsList(result) {
      learnToolHeaders(toolHeaders, result as Record<string, unknown>);
    },

    isModern(c) {
      const version = c.req.header('mcp-protocol-version');
      if (version === undefined) return false;
      if (isModernVersion(version)) return true;
      // An unknown version without a session: answer -32022 with the supported list.
      return !isSupportedSessionVersion(version) && c.req.header('mcp-session-id') === undefined;
    },

    claims(message, c) {
      if (c.req.header('mcp-session-id') !== undefined) return false;
      const params = (message as JsonRpcRequest).params;
      const meta = params?._meta as Record<string, unknown> | undefined;
      return meta !== undefined && typeof meta === 'object' && meta[META_PROTOCOL_VERSION] !== undefined;
    },

    async handle(c, caller, given) {
      const message = given ?? (await readMessage(c, ctx));
      if (message instanceof JsonReply) return message;
      const m = message as JsonRpcRequest;
      const id: JsonRpcId | null = isRequest(message) ? message.id : null;
      if (m.method === undefined) {
        return jsonRpcError(400, null, ErrorCode.InvalidRequest, 'protocol revision 2026-07-28: clients do not send JSON-RPC responses; answer input requests by retrying the request');
      }
      const verified = verifyRequest(
        { protocolVersion: c.req.header('mcp-protocol-version'), method: c.req.header('mcp-method'), name: c.req.header('mcp-name') },
        m.method,
        m.params,
        id !== null,
      );
      if (isRefusal(verified)) return refusalResponse(id, verified);
      if (!enabled) return refusalResponse(id, unsupportedVersion(verified.protocolVersion, ALL_PROTOCOL_VERSIONS.filter((v) => !isModernVersion(v))));
      if (id === null) return new Response(null, { status: 202 }); // no client notifications on HTTP in this revision
      const request = message as JsonRpcRequest;
      const log = verified.traceparent ? logger.child({ traceparent: verified.traceparent }) : logger;
      log.debug({ method: request.method, id: request.id }, 'modern request');
      if (request.method === 'tools/call' && toolHeaders.size > 0) {
        const declared = toolHeaders.get(String(request.params?.name));
        const problem = declared && checkParamHeaders(declared, request.params?.arguments, (name) => c.req.header(name));
        if (problem) return refusalResponse(request.id, headerMismatch(problem));
      }
      if (REMOVED_METHODS.has(request.method)) {
        return jsonRpcError(404, request.id, ErrorCode.MethodNotFound, `Method not found: ${request.method} (removed in protocol revision 2026-07-28)`);
      }

      const params = request.params;
      const state = typeof params?.requestState === 'string' ? params.requestState : undefined;
      if (state !== undefined) {
        const claims = signer.verify(state);
        if (typeof claims !== 'string') {
          if (claims.node !== node()) return forward(deps, c, request, claims);
          return resume(deps, c, caller, request, claims);
        }
        // Ours but expired: the held call is gone. Not ours: a 2026-07-28 server's own state passes through (refused below otherwise).
        if (claims === EXPIRED) return jsonResponse(JSON.stringify(errorResponse(request.id, ErrorCode.InvalidParams, `${claims}; send the request again without it`)));
      }

      if (request.method === 'subscriptions/listen') return listen(deps, c, caller, verified, request);
      const session = newSession(caller, verified);
      if (verified.logLevel !== undefined) session.logLevel = logLevelRank(verified.logLevel);
      let upstream = ctx.gateway.adopt(session);
      if (upstream instanceof Promise) upstream = await upstream;
      if (upstream instanceof Refusal) return refusalResponse(request.id, upstream);
      const upstreamModern = isModernVersion(upstream.initializeResult?.protocolVersion as string | undefined);
      const serverInfo = (upstream.initializeResult?.serverInfo as unknown) ?? undefined;

      if (request.method === 'server/discover') {
        const refusal = ctx.gateway.check(session, request);
        const response = refusal ? refusalResponse(request.id, refusal) : discoverResponse(ctx, session, request.id);
        ctx.gateway.end(session);
        return response;
      }

      if (state !== undefined && !upstreamModern) {
        ctx.gateway.end(session);
        return jsonResponse(JSON.stringify(errorResponse(request.id, ErrorCode.InvalidParams, 'requestState failed verification (expired, tampered with, or issued by another replica); send the request again without it')));
      }
      if (!upstreamModern) stripEnvelope(params);
      const call = new ModernCall(deps, session, request, serverInfo, log);
      return call.start(c);
    },
  };
}

interface CallDeps {
  ctx: DownstreamContext;
  signer: RequestStateSigner;
  node: () => string;
  held: Map<string, ModernCall>;
  keepAliveMs: number;
  holdTimeoutMs: number;
  logger: Logger;
  /** `x-mcp-header` declarations by tool name, from the tools/list results seen. */
  toolHeaders: Map<string, ParamHeader[]>;
}

function jsonResponse(body: string): JsonReply {
  return new JsonReply(body);
}

function learnToolHeaders(map: Map<string, ParamHeader[]>, result: Record<string, unknown>): void {
  const tools = Array.isArray(result.tools) ? (result.tools as Array<{ name?: unknown; inputSchema?: unknown }>) : [];
  for (const tool of tools) {
    if (typeof tool.name !== 'string') continue;
    const declared = scanParamHeaders(tool.inputSchema);
    if (declared) map.set(tool.name, declared);
    else map.delete(tool.name);
  }
}

function opOf(request: JsonRpcRequest): string {
  const source = nameSourceOf(request.method);
  return source === undefined ? request.method : `${request.method} ${String(request.params?.[source])}`;
}

function discoverResponse(ctx: DownstreamContext, session: ClientSession, id: JsonRpcId): Reply {
  const info = ctx.gateway.describeUpstream(session) ?? {};
  const result: Record<string, unknown> = {
    resultType: 'complete',
    supportedVersions: [...ALL_PROTOCOL_VERSIONS],
    capabilities: info.capabilities ?? {},
    _meta: { [META_SERVER_INFO]: info.serverInfo ?? { name: 'ome-mcp-agent', version: '0' } },
    ttlMs: 0,
    cacheScope: 'private',
  };
  if (typeof info.instructions === 'string') result.instructions = info.instructions;
  return jsonResponse(JSON.stringify({ jsonrpc: '2.0', id, result }));
}

/** Where the current leg of a call is answered: a JSON body, or an SSE stream once something precedes the result. */
class Leg {
  private writer: SseWriter | undefined;
  private keepAlive: NodeJS.Timeout | undefined;
  done = false;

  constructor(
    readonly id: JsonRpcId,
    private readonly resolve: (r: Reply) => void,
    private readonly keepAliveMs: number,
  ) {}

  get streaming(): boolean {
    return this.writer !== undefined;
  }

  event(frame: string): void {
    if (this.done) return;
    if (this.writer === undefined) {
      const { body, writer } = sseBody(() => {});
      this.writer = writer;
      this.keepAlive = setInterval(() => writer.write(':\n\n'), this.keepAliveMs);
      this.keepAlive.unref();
      this.resolve(new Response(body, { status: 200, headers: SSE_HEADERS }));
    }
    this.writer.write(`data: ${frame}\n\n`);
  }

  final(frame: string, status = 200): void {
    if (this.done) return;
    if (this.writer) {
      this.writer.write(`data: ${frame}\n\n`);
      this.close();
    } else {
      this.done = true;
      this.resolve(new JsonReply(frame, undefined, status));
    }
  }

  close(): void {
    this.done = true;
    clearInterval(this.keepAlive);
    if (this.writer) this.writer.close();
    else this.resolve(new Response(null, { status: 204 }));
  }
}

/**
 * One client request to the server, possibly spanning several HTTP exchanges ("legs") when the
 * server asks for input: the upstream request stays open, each server→client request becomes an
 * entry of an input-required result, and the retry's answers go back to the server as responses.
 */
class ModernCall implements ResponseChannel {
  private leg: Leg | undefined;
  /** Server requests not shown to the client yet, and shown but unanswered: key → upstream request. */
  private readonly pendingInputs = new Map<string, { id: JsonRpcId; method: string; params: unknown }>();
  private readonly askedInputs = new Map<string, { id: JsonRpcId; method: string; params: unknown }>();
  private heldId: string | undefined;
  private legCount = 0;
  private holdTimer: NodeJS.Timeout | undefined;
  private finalFrame: string | undefined;
  private finished = false;
  private flushScheduled = false;
  readonly op: string;

  constructor(
    private readonly deps: CallDeps,
    readonly session: ClientSession,
    private readonly request: JsonRpcRequest,
    private readonly serverInfo: unknown,
    private readonly log: Logger,
  ) {
    this.op = opOf(request);
    // Log messages only for a request that asked for them (`io.modelcontextprotocol/logLevel`), on its stream.
    if (session.logLevel !== undefined) session.sink = { deliver: (frame) => frame.includes('"notifications/message"') && this.leg?.event(frame) };
  }

  start(c: Exchange): Promise<Reply> {
    return new Promise<Reply>((resolve) => {
      this.attach(c, this.request.id, resolve);
      const refusal = this.deps.ctx.gateway.dispatch(this.session, this.request, this);
      if (refusal) {
        this.leg = undefined;
        this.finish();
        resolve(refusalResponse(this.request.id, refusal));
      }
    });
  }

  /** A retry arrived with the held call's state: answer the server's requests, take over the response. */
  resume(c: Exchange, retry: JsonRpcRequest, claims: RequestStateClaims): Promise<Reply> {
    return new Promise<Reply>((resolve) => {
      if (this.leg !== undefined || claims.node !== this.deps.node() || Number((claims as { leg?: unknown }).leg) !== this.legCount) {
        resolve(jsonResponse(JSON.stringify(errorResponse(retry.id, ErrorCode.InvalidParams, 'requestState was already used; send the request again without it'))));
        return;
      }
      clearTimeout(this.holdTimer);
      this.attach(c, retry.id, resolve);
      const responses = (retry.params?.inputResponses ?? {}) as Record<string, unknown>;
      for (const [key, input] of [...this.askedInputs]) {
        const answer = responses[key];
        if (answer === null || typeof answer !== 'object' || Array.isArray(answer)) continue;
        this.askedInputs.delete(key);
        this.deps.ctx.gateway.dispatch(this.session, { jsonrpc: '2.0', id: input.id, result: answer as Record<string, unknown> }, undefined);
      }
      // Unanswered inputs are asked again (MRTR: request missing information rather than fail).
      for (const [key, input] of this.askedInputs) this.pendingInputs.set(key, input);
      this.askedInputs.clear();
      if (this.finalFrame !== undefined) this.deliverFinal(this.finalFrame);
      else if (this.pendingInputs.size > 0) this.askForInput();
    });
  }

  private attach(c: Exchange, id: JsonRpcId, resolve: (r: Reply) => void): void {
    const leg = new Leg(id, resolve, this.deps.keepAliveMs);
    this.leg = leg;
    this.legCount++;
    const outgoing = c.env.outgoing;
    outgoing?.once('close', () => {
      if (leg.done && outgoing.writableFinished) return;
      if (this.leg !== leg) return;
      // Closing a response stream cancels the request (the server hears notifications/cancelled).
      leg.done = true;
      this.leg = undefined;
      this.log.debug({ op: this.op }, 'client closed the response; cancelling');
      this.deps.ctx.gateway.dispatch(this.session, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: this.request.id, reason: 'client closed the response stream' } }, undefined);
      this.finish();
    });
  }

  // ---- ResponseChannel: what the upstream says about this call ----

  respond(frame: string, message?: JsonRpcResponse): void {
    if (this.finished) return;
    if (this.leg === undefined) {
      this.finalFrame = frame; // held: the retry gets it
      return;
    }
    this.deliverFinal(frame, message);
  }

  related(frame: string): void {
    if (this.finished) return;
    const message = JSON.parse(frame) as JsonRpcRequest;
    if (message.id !== undefined && message.method !== undefined) {
      const capability = INPUT_CAPABILITY[message.method];
      if (capability === undefined || this.session.capabilities[capability] === undefined || !INPUT_REQUIRED_METHODS.has(this.request.method)) {
        const why = capability === undefined || this.session.capabilities[capability] === undefined ? `the client did not declare ${capability ?? message.method}` : `input cannot be requested during ${this.request.method} in protocol revision 2026-07-28`;
        this.deps.ctx.gateway.dispatch(this.session, errorResponse(message.id, ErrorCode.MethodNotFound, why) as never, undefined);
        return;
      }
      this.pendingInputs.set(`${capability}-${String(message.id)}`, { id: message.id, method: message.method, params: message.params });
      if (!this.flushScheduled && this.leg !== undefined) {
        // Requests the server sends together go out in one input-required result.
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          if (this.leg !== undefined && this.pendingInputs.size > 0 && !this.finished) this.askForInput();
        });
      }
      return;
    }
    this.leg?.event(frame); // progress, log messages: request-scoped, on this request's stream
  }

  abandon(): void {
    if (this.finished) return;
    this.leg?.close();
    this.leg = undefined;
    this.finish();
  }

  // ---- legs ----

  private askForInput(): void {
    const leg = this.leg!;
    if (this.heldId === undefined) {
      this.heldId = `${this.session.id}`;
      this.deps.held.set(this.heldId, this);
    }
    const inputRequests: Record<string, unknown> = {};
    for (const [key, input] of this.pendingInputs) {
      inputRequests[key] = input.params === undefined ? { method: input.method } : { method: input.method, params: input.params };
      this.askedInputs.set(key, input);
    }
    this.pendingInputs.clear();
    const claims = { held: this.heldId, sub: this.session.principalKey, op: this.op, exp: Date.now() + this.deps.holdTimeoutMs, node: this.deps.node(), leg: this.legCount };
    const result = { resultType: 'input_required', inputRequests, requestState: this.deps.signer.sign(claims) };
    this.leg = undefined;
    leg.final(JSON.stringify({ jsonrpc: '2.0', id: leg.id, result }));
    this.log.debug({ op: this.op, inputs: Object.keys(inputRequests) }, 'input required; holding the server request for the retry');
    this.holdTimer = setTimeout(() => {
      if (this.leg !== undefined || this.finished) return;
      this.log.info({ op: this.op }, 'input-required call expired without a retry; cancelled');
      this.finish(); // detaching the session cancels the upstream call and fails its open server requests
    }, this.deps.holdTimeoutMs);
    this.holdTimer.unref();
  }

  private deliverFinal(frame: string, parsed?: JsonRpcResponse): void {
    const leg = this.leg!;
    this.leg = undefined;
    const message = (parsed ?? JSON.parse(frame)) as { id: JsonRpcId; result?: Record<string, unknown>; error?: { code: number } };
    const spliced = this.completeInPlace(frame, message, leg.id);
    if (spliced !== undefined) {
      leg.final(spliced);
      this.finish();
      return;
    }
    message.id = leg.id;
    if (message.result !== undefined) {
      modernizeResult(this.request.method, message.result, this.serverInfo);
      if (this.request.method === 'tools/list') learnToolHeaders(this.deps.toolHeaders, message.result);
    }
    // An unknown method is HTTP 404 with -32601 in this revision (a legacy HTTP+SSE server's 404 has no such body).
    leg.final(JSON.stringify(message), message.error?.code === ErrorCode.MethodNotFound ? 404 : 200);
    this.finish();
  }

  /**
   * The common case without a second serialization: a non-cacheable result of the first leg
   * (its id is already the client's) that has neither `resultType` nor `_meta`, in the text the
   * server wrote (`{"result":{…`): the two members are written into it. Undefined otherwise.
   */
  private completeInPlace(frame: string, message: { id: JsonRpcId; result?: Record<string, unknown> }, legId: JsonRpcId): string | undefined {
    const result = message.result;
    if (result === undefined || legId !== this.request.id || message.id !== legId || result.resultType !== undefined || result._meta !== undefined) return undefined;
    if (isCacheable(this.request.method) || !frame.startsWith(RESULT_OPEN)) return undefined;
    let members = '"resultType":"complete"';
    if (this.serverInfo !== undefined) members += `,"_meta":{${META_SERVER_INFO_KEY}:${serverInfoJson(this.serverInfo)}}`;
    const rest = frame.slice(RESULT_OPEN.length);
    return RESULT_OPEN + members + (rest.startsWith('}') ? '' : ',') + rest;
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.holdTimer);
    if (this.heldId !== undefined) this.deps.held.delete(this.heldId);
    this.deps.ctx.gateway.end(this.session);
  }
}

const RESULT_OPEN = '{"result":{';
const META_SERVER_INFO_KEY = JSON.stringify(META_SERVER_INFO);
const serverInfoText = new WeakMap<object, string>();
/** The server's identity as JSON, serialized once per server (its initialize result's object). */
function serverInfoJson(info: unknown): string {
  if (info === null || typeof info !== 'object') return JSON.stringify(info);
  let text = serverInfoText.get(info);
  if (text === undefined) serverInfoText.set(info, (text = JSON.stringify(info)));
  return text;
}

const FORWARDED_HEADER = 'x-ome-forwarded-by';
const FORWARD_REQUEST_HEADERS = ['authorization', 'content-type', 'accept', 'mcp-protocol-version', 'mcp-method', 'mcp-name', 'traceparent', 'tracestate'];
const FORWARD_RESPONSE_HEADERS = ['content-type', 'cache-control', 'x-accel-buffering', 'www-authenticate', 'retry-after'];

/**
 * A retry whose held call lives in another replica (a plain Service spread the client's
 * requests): passed to that replica, which authenticates and checks it as its own. One hop only.
 */
async function forward(deps: CallDeps, c: Exchange, request: JsonRpcRequest, claims: RequestStateClaims): Promise<Reply> {
  const fail = (text: string) => jsonResponse(JSON.stringify(errorResponse(request.id, ErrorCode.InvalidParams, text)));
  if (!/^https?:\/\//.test(claims.node) || c.req.header(FORWARDED_HEADER) !== undefined) {
    return fail(`requestState belongs to replica ${claims.node}, which this one cannot reach; send the request again without it`);
  }
  const headers: Record<string, string> = { [FORWARDED_HEADER]: deps.node() };
  for (const name of FORWARD_REQUEST_HEADERS) {
    const value = c.req.header(name);
    if (value !== undefined) headers[name] = value;
  }
  const abort = new AbortController();
  c.env.outgoing?.once('close', () => abort.abort());
  try {
    const res = await fetch(`${claims.node}/mcp`, { method: 'POST', headers, body: JSON.stringify(request), signal: abort.signal });
    const out: Record<string, string> = {};
    for (const name of FORWARD_RESPONSE_HEADERS) {
      const value = res.headers.get(name);
      if (value !== null) out[name] = value;
    }
    deps.logger.debug({ node: claims.node, status: res.status }, 'input-required retry forwarded to the replica holding the call');
    return new Response(res.body, { status: res.status, headers: out });
  } catch (err) {
    return fail(`the replica holding this request (${claims.node}) did not answer (${(err as Error).message}); send the request again without requestState`);
  }
}

function resume(deps: CallDeps, c: Exchange, caller: Principal, retry: JsonRpcRequest, claims: RequestStateClaims): Promise<Reply> | Reply {
  const call = deps.held.get(claims.held);
  const fail = (text: string) => jsonResponse(JSON.stringify(errorResponse(retry.id, ErrorCode.InvalidParams, text)));
  if (call === undefined) return fail('requestState names no held request (it finished, expired, or is held by another replica); send the request again without it');
  if (claims.sub !== caller.key || call.session.principalKey !== caller.key) return fail('requestState was issued to another principal');
  if (claims.op !== call.op || opOf(retry) !== call.op) return fail('requestState belongs to a different request');
  // Policy runs on the retry too: the principal's rights may have changed since the first leg.
  call.session.caller = caller;
  const refusal = deps.ctx.gateway.check(call.session, retry);
  if (refusal) return refusalResponse(retry.id, refusal);
  return call.resume(c, retry, claims);
}

/**
 * `subscriptions/listen`: a long-lived response stream for the change notifications the client
 * opted in to, each tagged with the subscription id (the listen request's id).
 */
async function listen(deps: CallDeps, c: Exchange, caller: Principal, env: Envelope, request: JsonRpcRequest): Promise<Reply> {
  const { ctx } = deps;
  // The stream is the session's channel: the gateway does not reap it while it is open, and
  // broadcasts reach it. It declares no client capabilities, so no server request is routed here.
  let deliver: (frame: string) => void = () => {};
  const streamChannel: ResponseChannel = { respond: () => {}, related: (frame) => deliver(frame), abandon: () => {} };
  const session = new ClientSession(`listen-${String(request.id)}-${Date.now().toString(36)}`, caller, env.protocolVersion, {}, env.clientInfo, streamChannel);
  const upstream = await ctx.gateway.adopt(session);
  if (upstream instanceof Refusal) return refusalResponse(request.id, upstream);
  const refusal = ctx.gateway.check(session, request);
  if (refusal) {
    ctx.gateway.end(session);
    return refusalResponse(request.id, refusal);
  }
  const wanted = (request.params?.notifications ?? {}) as Record<string, unknown>;
  const caps = (ctx.gateway.describeUpstream(session)?.capabilities ?? {}) as Record<string, { listChanged?: boolean; subscribe?: boolean } | undefined>;
  const honored: Record<string, unknown> = {};
  const methods = new Set<string>();
  for (const [flag, cap, method] of [
    ['toolsListChanged', 'tools', 'notifications/tools/list_changed'],
    ['promptsListChanged', 'prompts', 'notifications/prompts/list_changed'],
    ['resourcesListChanged', 'resources', 'notifications/resources/list_changed'],
  ] as const) {
    if (wanted[flag] === true && caps[cap]?.listChanged === true) {
      honored[flag] = true;
      methods.add(method);
    }
  }
  const uris = Array.isArray(wanted.resourceSubscriptions) ? wanted.resourceSubscriptions.filter((u): u is string => typeof u === 'string') : [];
  if (uris.length > 0 && caps.resources?.subscribe === true) {
    const accepted: string[] = [];
    const ignore: ResponseChannel = { respond: () => {}, related: () => {}, abandon: () => {} };
    for (const uri of uris) {
      const subscribe: JsonRpcRequest = { jsonrpc: '2.0', id: `listen-${uri}`, method: 'resources/subscribe', params: { uri } };
      if (ctx.gateway.dispatch(session, subscribe, ignore) === null) accepted.push(uri);
    }
    if (accepted.length > 0) {
      honored.resourceSubscriptions = accepted;
      methods.add('notifications/resources/updated');
    }
  }

  const subscriptionId = request.id;
  const tag = (frame: string): string | undefined => {
    const message = JSON.parse(frame) as JsonRpcNotification;
    if (!methods.has(message.method) || (message as { id?: unknown }).id !== undefined) return undefined;
    const params = (message.params ?? {}) as Record<string, unknown>;
    params._meta = { ...((params._meta as object | undefined) ?? {}), [META_SUBSCRIPTION_ID]: subscriptionId };
    message.params = params;
    return JSON.stringify(message);
  };
  let keepAlive: NodeJS.Timeout | undefined;
  const { body, writer } = sseBody(() => close());
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepAlive);
    ctx.gateway.end(session);
  };
  deliver = (frame) => {
    const tagged = tag(frame); // log messages, progress and anything not opted in to are dropped
    if (tagged !== undefined) writer.write(`data: ${tagged}\n\n`);
  };
  // The agent ends the subscription (shutdown): a graceful completion result, then close.
  ctx.gateway.onSessionEnd(session, () => {
    if (closed) return;
    closed = true;
    clearInterval(keepAlive);
    const result = { resultType: 'complete', _meta: { [META_SUBSCRIPTION_ID]: subscriptionId } };
    writer.write(`data: ${JSON.stringify({ jsonrpc: '2.0', id: request.id, result })}\n\n`);
    writer.close();
  });
  c.env.outgoing?.once('close', close);
  const ack = { jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { _meta: { [META_SUBSCRIPTION_ID]: subscriptionId }, notifications: honored } };
  writer.write(`data: ${JSON.stringify(ack)}\n\n`);
  keepAlive = setInterval(() => writer.write(':\n\n'), deps.keepAliveMs);
  keepAlive.unref();
  return new Response(body, { status: 200, headers: SSE_HEADERS });
}
