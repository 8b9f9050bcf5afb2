import { randomUUID } from 'node:crypto';
import type { ResponseChannel } from '../mux/channels.js';
import type { ClientSession } from '../mux/client-session.js';
import { Refusal } from '../protocol/refusal.js';
import { ErrorCode, isRequest } from '../protocol/jsonrpc.js';
import type { DownstreamContext } from './context.js';
import type { Context } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import { JsonReply, toResponse, type AgentApp } from './exchange.js';
import { ACCEPT_SSE_OR_NONE, jsonRpcError, preamble, readMessage, refusalResponse } from './http-common.js';
import { SSE_HEADERS, sseBody, sseEvent, type SseWriter } from './sse.js';

interface LegacyConnection {
  principalKey: string;
  writer: SseWriter;
  channel: ResponseChannel;
  session: ClientSession | undefined;
}

/**
 * The 2024-11-05 HTTP+SSE transport for older clients: GET `sse` opens the stream and names a
 * POST endpoint; every answer travels as an `event: message` on that stream. The stream is the
 * session: when it closes, the session ends.
 */
export function mountLegacySse(app: AgentApp, ssePath: string, messagesPath: string, ctx: DownstreamContext): void {
  const connections = new Map<string, LegacyConnection>();

  app.get(ssePath, async (c) => {
    const caller = await preamble(c, ctx, ACCEPT_SSE_OR_NONE);
    if (caller instanceof JsonReply) return toResponse(caller);
    const id = randomUUID();
    const { body, writer } = sseBody(() => {
      const conn = connections.get(id);
      connections.delete(id);
      if (conn?.session) ctx.gateway.end(conn.session);
    });
    const write = (frame: string) => writer.write(sseEvent(undefined, frame, 'message'));
    const channel: ResponseChannel = { respond: write, related: write, abandon: () => {} };
    connections.set(id, { principalKey: caller.key, writer, channel, session: undefined });
    writer.write(sseEvent(undefined, `${messagesPath}?sessionId=${id}`, 'endpoint'));
    return new Response(body, { status: 200, headers: SSE_HEADERS });
  });

  app.post(messagesPath, async (c) => toResponse(await message(c)));

  /** One POST to the messages endpoint. */
  const message = async (c: Context<{ Bindings: HttpBindings }>): Promise<JsonReply> => {
    const caller = await preamble(c, ctx);
    if (caller instanceof JsonReply) return caller;
    const conn = connections.get(c.req.query('sessionId') ?? '');
    if (conn === undefined || conn.principalKey !== caller.key) {
      return jsonRpcError(404, null, ErrorCode.InvalidRequest, 'session not found');
    }
    const message = await readMessage(c, ctx);
    if (message instanceof JsonReply) return message;
    if (conn.session) conn.session.caller = caller;
    if (conn.session === undefined) {
      if (!isRequest(message) || message.method !== 'initialize') {
        return jsonRpcError(400, null, ErrorCode.InvalidRequest, 'the first message must be initialize');
      }
      const opened = await ctx.gateway.initialize(caller, message, conn.channel);
      if (opened instanceof Refusal) return refusalResponse(message.id, opened);
      conn.session = opened.session;
      ctx.gateway.onSessionEnd(opened.session, () => {
        conn.writer.close();
        connections.delete(c.req.query('sessionId') ?? '');
      });
      conn.channel.respond(opened.frame);
      return JsonReply.empty(202);
    }
    const refusal = ctx.gateway.dispatch(conn.session, message, conn.channel);
    if (refusal) return refusalResponse(isRequest(message) ? message.id : null, refusal);
    return JsonReply.empty(202);
  };
}
