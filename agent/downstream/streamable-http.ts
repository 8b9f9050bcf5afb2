import type { ResponseChannel } from '../mux/channels.js';
import { ClientSession } from '../mux/client-session.js';
import type { Principal } from '../core/principal.js';
import type { SessionState } from '../protocol/session-seal.js';
import { Refusal } from '../protocol/refusal.js';
import { ErrorCode, isRequest, type JsonRpcMessage, type JsonRpcRequest } from '../protocol/jsonrpc.js';
import { isSupportedSessionVersion, wantsSsePriming } from '../protocol/versions.js';
import type { DownstreamContext } from './context.js';
import { JsonReply, toResponse, type AgentApp, type Exchange, type Reply } from './exchange.js';
import { ACCEPT_JSON_AND_SSE, ACCEPT_SSE, jsonRpcError, preamble, readMessage, refusalResponse } from './http-common.js';
import { EventLog, ResumableStream, SSE_HEADERS, sseBody } from './sse.js';
import { FORWARDED_HEADER, forwardToOwner, NOT_SERVING_HEADER } from './owner-forward.js';

/** Per-session state of the streamable HTTP transport. */
interface HttpSessionState {
  session: ClientSession;
  log: EventLog;
  /** The standalone GET stream for server-initiated messages. */
  getStream: ResumableStream | undefined;
  /** POST response streams still waiting for their response, by stream key (for resumption). */
  postStreams: Map<string, ResumableStream>;
}

const SESSION_HEADER = 'Mcp-Session-Id';
/** Node lower-cases request header names: reading with this needs no case folding. */
const SESSION_HEADER_LC = 'mcp-session-id';
const KEEPALIVE_MS = 15_000;

/**
 * A handler for a protocol revision that is not session based (2026-07-28). The session
 * transport hands such requests over untouched.
 */
export type RevisionHandler = (c: Exchange, caller: Principal, message?: JsonRpcMessage) => Promise<Reply>;

/**
 * Streamable HTTP (2025-03-26 … 2025-11-25) at one path: POST for client messages, answered
 * with JSON unless something has to be said before the response (then the response turns into
 * an SSE stream on the fly); GET for the session's server→client stream; DELETE to end it.
 * Returns the POST handler, which the node:http front end calls for `POST path` (the hot path)
 * while Hono serves the rest.
 */
export function mountStreamableHttp(app: AgentApp, path: string, ctx: DownstreamContext, modern?: {
    isModern(c: Exchange): boolean;
    /** A session-less message whose body claims a modern revision (its headers are then checked and found missing). */
    claims?(message: JsonRpcMessage, c: Exchange): boolean;
    handle: RevisionHandler;
  }): (c: Exchange) => Promise<Reply> {
  const states = new Map<string, HttpSessionState>();
  const keepalive = setInterval(() => {
    for (const state of states.values()) {
      if (!state.getStream?.connected) continue;
      state.getStream.raw(': keepalive\n\n');
      state.session.touch(); // a client listening on its stream is not idle
    }
  }, KEEPALIVE_MS);
  keepalive.unref();

  const stateOf = (session: ClientSession): HttpSessionState => {
    let state = states.get(session.id);
    if (state === undefined) {
      state = { session, log: new EventLog(ctx.eventBufferSize), getStream: undefined, postStreams: new Map() };
      states.set(session.id, state);
      ctx.gateway.onSessionEnd(session, () => {
        states.delete(session.id);
        state!.getStream?.end();
        for (const s of state!.postStreams.values()) s.end();
      });
    }
    return state;
  };

  /**
   * Resolves the session for a non-initialize request: held here (the common case, synchronous),
   * passed to the replica that holds it (owner-forward.ts), or moved here from its sealed id; else
   * the HTTP error for its absence.
   */
  const sessionFor = (c: Exchange, caller: Principal, method: string, body?: () => string): ClientSession | Reply | Promise<ClientSession | Reply> => {
    const id = c.req.header(SESSION_HEADER_LC);
    if (id === undefined) return jsonRpcError(400, null, ErrorCode.InvalidRequest, `missing ${SESSION_HEADER} header`);
    const held = ctx.gateway.lookup(id, caller);
    const forwarded = c.req.header(FORWARDED_HEADER) !== undefined;
    if (held !== undefined) {
      // Passed here by another replica while this one cannot serve: the session moves there instead.
      if (forwarded && !ctx.gateway.ready) return jsonRpcError(503, null, ErrorCode.Overloaded, 'this replica is not serving; the session moves', { [NOT_SERVING_HEADER]: '1' });
      return checkedVersion(c, held);
    }
    const sealed = ctx.gateway.sealed(id); // opened once, for both the owner and the resume
    const owner = forwarded ? undefined : sealed?.owner;
    if (owner !== undefined) return forwardToOwner(c, owner, path, method, body?.()).then((r) => r ?? moved(c, id, caller, sealed?.state));
    return moved(c, id, caller, sealed?.state);
  };

  const moved = (c: Exchange, id: string, caller: Principal, state: SessionState | undefined): ClientSession | JsonReply => {
    const session = ctx.gateway.resume(id, caller, state);
    if (session === undefined) return jsonRpcError(404, null, ErrorCode.InvalidRequest, 'session not found (ended or unknown); initialize a new one');
    return checkedVersion(c, session);
  };

  const checkedVersion = (c: Exchange, session: ClientSession): ClientSession | JsonReply => {
    const version = c.req.header('mcp-protocol-version');
    if (version !== undefined && version !== session.protocolVersion && !isSupportedSessionVersion(version)) {
      return jsonRpcError(400, null, ErrorCode.InvalidRequest, `unsupported MCP-Protocol-Version ${version}`);
    }
    return session;
  };

  const post = async (c: Exchange): Promise<Reply> => {
    let caller = preamble(c, ctx, ACCEPT_JSON_AND_SSE);
    if (caller instanceof Promise) caller = await caller;
    if (caller instanceof JsonReply) return caller;
    if (modern?.isModern(c)) return modern.handle(c, caller);
    const message = await readMessage(c, ctx);
    if (message instanceof JsonReply) return message;
    if (modern?.claims?.(message, c)) return modern.handle(c, caller, message);

    if ((message as JsonRpcRequest).method === 'initialize' && isRequest(message)) {
      const opened = await ctx.gateway.initialize(caller, message);
      if (opened instanceof Refusal) return refusalResponse(message.id, opened);
      stateOf(opened.session);
      return new JsonReply(opened.frame, { [SESSION_HEADER]: opened.session.id });
    }
    let session = sessionFor(c, caller, 'POST', () => JSON.stringify(message));
    if (session instanceof Promise) session = await session;
    if (!(session instanceof ClientSession)) return session;
    if (!isRequest(message)) {
      const refusal = ctx.gateway.dispatch(session, message, undefined);
      return refusal ? refusalResponse(null, refusal) : JsonReply.empty(202);
    }
    const state = stateOf(session);
    return new Promise<Reply>((resolve) => {
      const channel = new PostChannel(resolve, session, state, ctx.sseRetryMs);
      const refusal = ctx.gateway.dispatch(session, message, channel);
      if (refusal) resolve(refusalResponse(message.id, refusal));
    });
  };
  app.post(path, async (c) => toResponse(await post(c)));

  app.get(path, async (c) => {
    const caller = await preamble(c, ctx, ACCEPT_SSE);
    if (caller instanceof JsonReply) return toResponse(caller);
    let session = sessionFor(c, caller, 'GET');
    if (session instanceof Promise) session = await session;
    if (!(session instanceof ClientSession)) return toResponse(session);
    const state = stateOf(session);
    session.touch();

    const lastEventId = c.req.header('last-event-id');
    const replay = lastEventId === undefined ? undefined : state.log.replayAfter(lastEventId);
    let stream: ResumableStream;
    const resumedPost = replay && state.postStreams.get(replay.stream);
    if (resumedPost) {
      stream = resumedPost;
    } else {
      stream = state.getStream?.key === replay?.stream && state.getStream ? state.getStream : new ResumableStream(state.log.newStreamKey('g'), state.log);
      if (state.getStream !== stream) {
        state.getStream?.end();
        state.getStream = stream;
        session.sink = { deliver: (frame) => stream.send(frame) };
      }
    }
    const { body, writer } = sseBody(() => stream.detach(writer));
    if (wantsSsePriming(session.protocolVersion)) writer.write(state.log.prime(stream.key, ctx.sseRetryMs));
    stream.attach(writer, replay?.chunks);
    return new Response(body, { status: 200, headers: SSE_HEADERS });
  });

  app.delete(path, async (c) => {
    const caller = await preamble(c, ctx);
    if (caller instanceof JsonReply) return toResponse(caller);
    let session = sessionFor(c, caller, 'DELETE');
    if (session instanceof Promise) session = await session;
    if (!(session instanceof ClientSession)) return toResponse(session);
    ctx.gateway.end(session);
    return new Response(null, { status: 204 });
  });
  return post;
}

/**
 * The answer to one POST. Starts as a plain JSON response; the first message that must reach
 * the client before the response (progress, a sampling request) turns it into an SSE stream.
 * Most calls never need that, and JSON is the cheapest thing to send.
 */
class PostChannel implements ResponseChannel {
  private stream: ResumableStream | undefined;
  private settled = false;

  constructor(
    private readonly resolve: (r: Reply) => void,
    private readonly session: ClientSession,
    private readonly state: HttpSessionState,
    private readonly retryMs: number,
  ) {}

  respond(frame: string): void {
    if (this.stream) {
      this.stream.send(frame);
      this.stream.end();
      this.state.postStreams.delete(this.stream.key);
      return;
    }
    if (this.settled) return;
    this.settled = true;
    this.resolve(new JsonReply(frame));
  }

  related(frame: string): void {
    if (!this.stream) {
      if (this.settled) return;
      this.settled = true;
      const stream = new ResumableStream(this.state.log.newStreamKey('p'), this.state.log);
      this.stream = stream;
      this.state.postStreams.set(stream.key, stream);
      const { body, writer } = sseBody(() => stream.detach(writer));
      if (wantsSsePriming(this.session.protocolVersion)) writer.write(this.state.log.prime(stream.key, this.retryMs));
      stream.attach(writer);
      this.resolve(new Response(body, { status: 200, headers: SSE_HEADERS }));
    }
    this.stream.send(frame);
  }

  abandon(): void {
    if (this.stream) {
      this.stream.end();
      this.state.postStreams.delete(this.stream.key);
    } else if (!this.settled) {
      this.settled = true;
      this.resolve(JsonReply.empty(204));
    }
  }
}
